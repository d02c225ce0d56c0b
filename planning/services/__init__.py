"""Every write of the planning app, as ``<thing>_<verb>(*, actor, ...)`` functions."""

from .collaboration import comment_create, suggestion_accept, suggestion_create, suggestion_decline
from .common import plan_for_write, require_not_closed
from .plans import plan_clone, plan_create, plan_create_from_template, plan_delete, plan_update
from .running import objective_score_set, plan_activate, plan_close, plan_start_amendment
from .transitions import TRANSITIONS, allowed_actions, eligible_approvers
from .tree import (
    StaleEdit,
    milestone_create,
    node_child_count,
    node_delete,
    node_move,
    node_update,
    objective_create,
    step_create,
    step_set_status,
)
from .workflow import (
    StaleReview,
    plan_approve,
    plan_approve_alone,
    plan_request_changes,
    plan_revise,
    plan_submit,
    plan_withdraw,
)

__all__ = [
    "TRANSITIONS",
    "StaleEdit",
    "StaleReview",
    "allowed_actions",
    "comment_create",
    "eligible_approvers",
    "milestone_create",
    "node_child_count",
    "node_delete",
    "node_move",
    "node_update",
    "objective_create",
    "objective_score_set",
    "plan_activate",
    "plan_approve",
    "plan_approve_alone",
    "plan_clone",
    "plan_close",
    "plan_create",
    "plan_create_from_template",
    "plan_delete",
    "plan_for_write",
    "plan_request_changes",
    "plan_revise",
    "plan_start_amendment",
    "plan_submit",
    "plan_update",
    "plan_withdraw",
    "require_not_closed",
    "step_create",
    "step_set_status",
    "suggestion_accept",
    "suggestion_create",
    "suggestion_decline",
]
