from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bizops.badges import register_badge

        from .selectors import review_queue_badge

        register_badge("review_queue", review_queue_badge)
