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

        from .baselines import ALIGNMENT, KEY_RESULTS, KPIS
        from .selectors import key_result_parts, kpi_activity

        register_contributor(key_result_parts)
        # Team objectives that serve a node of the plan above count in (or show beside) its figure.
        from planning.services.plans import register_on_parent_changed

        from .selectors.alignment import alignment_parts
        from .services.alignment import plan_parent_changed

        register_contributor(alignment_parts)
        register_on_parent_changed(plan_parent_changed)
        # Key results and linked KPIs are part of what an approver approves (metrics/baselines.py).
        register_snapshot_part(KEY_RESULTS)
        register_snapshot_part(KPIS)
        # So is what each objective serves in the plan above (metrics/services/alignment.py).
        register_snapshot_part(ALIGNMENT)
        # Changes to the KPIs linked to a plan show on its Activity tab.
        register_activity_source(kpi_activity)
        # The core draws the navigation, and planning's pages link to measures, without naming a
        # metrics page: metrics adds its entries and answers the links they ask for (bizops.navigation).
        from bizops.navigation import NavItem, register_link, register_nav_item

        for item in (
            NavItem(
                "Dashboard",
                "metrics:dashboard",
                order=20,
                current_on=frozenset({"metrics:my_dashboard", "metrics:team_dashboard"}),
            ),
            NavItem("Check in", "metrics:check_in", order=50, permission="check_in"),
            NavItem("Alignment", "metrics:alignment", order=55),
            NavItem(
                "KPIs",
                "metrics:kpi_list",
                order=60,
                current_on=frozenset(
                    {
                        "metrics:kpi_detail",
                        "metrics:kpi_create",
                        "metrics:kpi_edit",
                        "metrics:measurements_import",
                    }
                ),
            ),
        ):
            register_nav_item(item)
        for name in (
            "objective_measures",
            "step_check_in",
            "key_result_detail",
            "check_in",
            "calendar_settings",
            "plan_import",
            "plan_export",
            "plan_progress",
            "objective_alignment",
        ):
            register_link(name, f"metrics:{name}")
        register_link("action_link", "metrics_public:action_link")
        # The organization's search (bizops.search): key results and KPIs.
        from .search import register as register_search

        register_search()
        # An approved plan's history is rebuilt from its check-ins and completions (metrics.tasks).
        from planning.services.workflow import register_on_approved

        from .tasks import enqueue_backfill

        register_on_approved(enqueue_backfill)
