from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Key results feed planning's roll-up without planning importing metrics.
        from planning.activity import register_activity_source
        from planning.baselines import register_snapshot_part
        from planning.progress import register_contributor

        from .baselines import KEY_RESULTS, KPIS
        from .selectors import key_result_parts, kpi_activity

        register_contributor(key_result_parts)
        # Key results and linked KPIs are part of what an approver approves (metrics/baselines.py).
        register_snapshot_part(KEY_RESULTS)
        register_snapshot_part(KPIS)
        # Changes to the KPIs linked to a plan show on its Activity tab.
        register_activity_source(kpi_activity)
