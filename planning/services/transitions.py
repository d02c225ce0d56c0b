"""The plan's moves as a table (``TRANSITIONS``) and what every move shares: lock the plan row, check
the move against the table, write the new status with its transition and audit rows."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from bizops.audit import audit_record
from bizops.errors import Conflict
from bizops.models import Membership
from bizops.roles import can

from ..access import can_edit_plan
from ..models import (
    Plan,
    PlanStatus,
    PlanTransition,
)

S = PlanStatus
# action -> (statuses it may start from, status it leads to; None when it depends on the plan)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.AMENDING}), S.IN_REVIEW),
    "withdraw": (frozenset({S.IN_REVIEW}), None),
    "approve": (frozenset({S.IN_REVIEW}), None),
    # A one-person organization, when its settings allow it: see ``plan_approve_alone``.
    "approve_alone": (frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.AMENDING}), None),
    "request_changes": (frozenset({S.IN_REVIEW}), S.CHANGES_REQUESTED),
    "revise": (frozenset({S.CHANGES_REQUESTED}), None),
    "activate": (frozenset({S.APPROVED}), S.ACTIVE),
    "close": (frozenset({S.APPROVED, S.ACTIVE}), S.CLOSED),
    "start_amendment": (frozenset({S.APPROVED, S.ACTIVE}), S.AMENDING),
}
ACTION_LABELS = {
    "submit": "submitted for review",
    "withdraw": "withdrew from review",
    "approve": "approved",
    "approve_alone": "approved alone, without a reviewer",
    "request_changes": "requested changes",
    "revise": "reopened for changes",
    "activate": "activated",
    "close": "closed",
    "start_amendment": "started an amendment",
}


def _plan_data(plan: Plan, actor: Membership) -> dict:
    return {
        "plan": {
            "id": plan.pk,
            "title": plan.title,
            "status": plan.status,
            "review_round": plan.review_round,
        },
        "actor": actor.user.email,
    }


def allowed_actions(plan: Plan) -> set[str]:
    return {action for action, (sources, _) in TRANSITIONS.items() if plan.status in sources}


def _lock(plan: Plan, action: str) -> Plan:
    current = Plan.objects.select_for_update().select_related("organization").get(pk=plan.pk)
    sources, _ = TRANSITIONS[action]
    if current.status not in sources:
        raise Conflict(
            f"A plan that is {current.get_status_display().lower()} cannot be {ACTION_LABELS[action]}."
        )
    return current


def _move(
    plan: Plan, action: str, to_status: str, actor: Membership | None, comment: str = "", **fields
) -> PlanTransition:
    """Write the new status (and any ``fields`` of the move) with its audit row. No ``actor``: the
    app itself made the move (an approved plan whose period began)."""
    transition = PlanTransition.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        action=action,
        from_status=plan.status,
        to_status=to_status,
        actor=actor.user if actor is not None else None,
        comment=comment,
    )
    _audit_move(plan, action, plan.status, to_status, actor, comment)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.status = to_status
    plan.updated_at = timezone.now()
    plan.save(update_fields=["status", "updated_at", *fields])
    return transition


def _audit_move(
    plan: Plan, action: str, from_status: str, to_status: str, actor: Membership | None, comment: str
) -> None:
    audit_record(
        organization_id=plan.organization_id,
        actor=actor,
        kind="plan",
        action=ACTION_LABELS[action],
        obj=plan,
        plan_id=plan.pk,
        changes={"status": [S(from_status).label, S(to_status).label]} if from_status != to_status else {},
        comment=comment,
    )


def _require_editor(actor: Membership, plan: Plan) -> None:
    if not can_edit_plan(actor, plan):
        raise PermissionDenied("Only the plan's owner, managers and admins do this.")


def _writing_status(plan: Plan) -> str:
    """Where a plan goes back to for changes: an amendment if it was ever approved."""
    return S.AMENDING if plan.baselines.exists() else S.DRAFT


def _plan_url(plan: Plan, name: str = "planning:plan_review") -> str:
    return reverse(name, args=[plan.organization.slug, plan.pk])


def eligible_approvers(plan: Plan, submitter: Membership) -> list[Membership]:
    """Managers, admins and owners of the organization, except the one who submits."""
    return [
        m
        for m in Membership.objects.filter(organization_id=plan.organization_id)
        .select_related("user")
        .order_by("user__display_name")
        if can(m.role, "plan_approve") and m.pk != submitter.pk
    ]
