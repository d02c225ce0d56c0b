"""Plans and their goal tree (``plans``), and what happens around them: suggestions, comments, the
review rounds, baselines and scores (``review``).

Import them from here (``from planning.models import Plan``): the modules are how they are kept.
"""

from .plans import (  # noqa: F401
    AMENDMENT_REVIEW_STATUSES,
    EDITABLE_STATUSES,
    IN_PLANNING_STATUSES,
    RUNNING_STATUSES,
    ActionStep,
    Milestone,
    Node,
    Objective,
    ObjectiveQuerySet,
    Plan,
    PlanStatus,
    Recurrence,
    StepCompletion,
    StepQuerySet,
    StepStatus,
    plan_runs,
    running_q,
)
from .review import (  # noqa: F401
    Approval,
    Baseline,
    Comment,
    NodeKind,
    ObjectiveScore,
    PlanApprover,
    PlanTransition,
    Submission,
    Suggestion,
)
