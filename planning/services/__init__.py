"""Every write of the planning app, as ``<thing>_<verb>(*, actor, ...)`` functions."""

from .collaboration import comment_create, suggestion_accept, suggestion_create, suggestion_decline
from .plans import plan_clone, plan_create, plan_create_from_template, plan_delete, plan_update
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

__all__ = [
    "StaleEdit",
    "comment_create",
    "milestone_create",
    "node_child_count",
    "node_delete",
    "node_move",
    "node_update",
    "objective_create",
    "plan_clone",
    "plan_create",
    "plan_create_from_template",
    "plan_delete",
    "plan_update",
    "step_create",
    "step_set_status",
    "suggestion_accept",
    "suggestion_create",
    "suggestion_decline",
]
