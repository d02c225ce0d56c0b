from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Key results feed planning's roll-up without planning importing metrics.
        from planning.progress import register_contributor

        from .selectors import key_result_parts

        register_contributor(key_result_parts)
