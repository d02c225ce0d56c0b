"""Reads of the planning app. A whole plan loads in a fixed number of queries, whatever its size.

``content``: the plan as approvers approve it (snapshots, readiness); ``trees``: the plan's tree
with its roll-up; ``lists``: the lists and single reads; ``review``: the review side.
"""

from .content import ContentRow, content_tree  # noqa: F401
from .lists import (  # noqa: F401
    MY_WORK_FIELDS,
    NODE_MODELS,
    PERIOD_FILTERS,
    MyWork,
    activity_list,
    mark_done_this_period,
    milestone_list,
    my_work,
    node_comments,
    node_get,
    objective_list,
    plan_comments,
    plan_list,
    step_list,
    suggestion_list,
)
from .review import (  # noqa: F401
    PlanReview,
    WorkloadRow,
    baseline_diff,
    baseline_get,
    baseline_list,
    milestone_outline,
    objective_score_get,
    plan_actions_for,
    plan_review,
    plan_transition_list,
    review_queue,
    review_queue_badge,
    review_queue_count,
    review_state,
    team_workload,
)
from .trees import (  # noqa: F401
    MILESTONE_READ_FIELDS,
    OBJECTIVE_READ_FIELDS,
    OWNER_NAME_FIELDS,
    STEP_ROW_FIELDS,
    AnyPlanTree,
    ContentTree,
    ModelTree,
    PlanTree,
    StepRow,
    contributing_trees,
    dashboard_trees,
    display_tree,
    editing_tree,
    map_tree,
    progress_tree,
)
