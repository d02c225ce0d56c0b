"""Reads of the metrics app, each in a fixed number of queries whatever the data's size.

``measures``: KPIs, key results, check-ins; ``dashboards``; ``check_in``: the one check-in page.
"""

from .check_in import (  # noqa: F401
    CHECK_IN_KEY_RESULT_FIELDS,
    CHECK_IN_STEP_FIELDS,
    CheckInItems,
    check_in_items,
    kpi_activity,
)
from .dashboards import (  # noqa: F401
    DASHBOARD_PLAN_STATUSES,
    Dashboard,
    dashboard,
    period_of,
)
from .history import PlanHistory, plan_history  # noqa: F401
from .measures import (  # noqa: F401
    SPARK_PERIODS,
    TIMELINE_FIELDS,
    Indicator,
    KPIRow,
    KPISource,
    check_in_timeline,
    key_result_parts,
    kpi_list,
    kpi_rows,
    kpi_sources,
    leading_indicators,
    measurement_history,
    objective_check_ins,
    objective_key_results,
    status_of,
)
