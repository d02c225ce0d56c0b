"""Who may do what to a plan: the role map of ``bizops.roles`` plus the plan's owner and a step's assignee."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied

from bizops.access import OrgObjects
from bizops.models import Membership
from bizops.roles import can

from .models import ActionStep, Plan, PlanStatus


def can_edit_plan(membership: Membership, plan: Plan) -> bool:
    """Plan owner, admins and managers edit the tree."""
    # The owner's rights last only while their role still lets them contribute: a plan owner demoted
    # to viewer reads, like any viewer.
    return can(membership.role, "plan_edit") or (
        plan.owner_id is not None and plan.owner_id == membership.pk and can(membership.role, "plan_suggest")
    )


def can_update_step(membership: Membership, step: ActionStep, plan: Plan) -> bool:
    """Editors, and the step's assignee (status and notes), while the plan is not closed."""
    if plan.status == PlanStatus.CLOSED or not can(membership.role, "step_update_own"):
        return False
    return can_edit_plan(membership, plan) or step.assignee_id == membership.pk


def require_plan_edit(membership: Membership, plan: Plan) -> None:
    if not can_edit_plan(membership, plan):
        raise PermissionDenied("Only the plan's owner, managers and admins edit the plan.")


_PLANS = OrgObjects(lambda: Plan.objects.select_related("owner__user"))


def plan_for(membership: Membership, plan_id: int) -> Plan:
    """The plan with this id in the caller's organization, or 404."""
    # ``OrgObjects`` is not generic (bizops.access): it answers a ``Model``, here always a Plan.
    return cast(Plan, _PLANS.get_or_404(membership.organization, plan_id))
