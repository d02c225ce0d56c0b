import os

from django.apps import AppConfig


class BizopsConfig(AppConfig):
    name = "bizops"
    verbose_name = "Company core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The filesystem broker (the embedded default) needs its folders before the first message.
        from django.conf import settings

        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            if key in options:
                os.makedirs(options[key], exist_ok=True)

        # A new session starts refreshed: SessionRefreshMiddleware then leaves it alone for a while.
        from django.contrib.auth.signals import user_logged_in

        from .middleware import stamp_session

        user_logged_in.connect(stamp_session, dispatch_uid="bizops.stamp_session")
