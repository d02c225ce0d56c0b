from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bizops.badges import register_badge
        from bizops.navigation import ORGANIZATION, NavItem, register_link, register_nav_item

        from .selectors import review_queue_badge, review_queue_count

        register_badge("review_queue", review_queue_badge)
        # The core draws the navigation and names no planning page: planning adds its own.
        plan_pages = [
            *("plan_create", "plan_map", "plan_editor", "node_detail", "suggestions", "plan_activity"),
            *("plan_settings", "plan_review", "baseline_list", "baseline_detail"),
        ]
        for item in (
            NavItem("Overview", "planning:org_home", order=10),
            NavItem(
                "Plans",
                "planning:plan_list",
                order=30,
                current_on=frozenset(f"planning:{n}" for n in plan_pages),
            ),
            NavItem("My work", "planning:my_work", order=40),
            NavItem(
                "Waiting for me",
                "planning:review_queue",
                order=70,
                permission="plan_approve",
                count=review_queue_count,
                count_label="{count} plan{s} waiting",
            ),
            NavItem(
                "Workload", "planning:workload", section=ORGANIZATION, order=10, permission="workload_view"
            ),
        ):
            register_nav_item(item)
        # Links the core and metrics ask for by name (bizops.navigation).
        register_link("org_home", "planning:org_home")
        register_link("plan_activity", "planning:plan_activity")
        # The organization's search (bizops.search): plans, their nodes and comments.
        from .search import register as register_search

        register_search()
