"""The plan's review: submit, withdraw, approve (or alone, in a one-person organization), request
changes, revise. Activating, amending and closing are in ``running``; the table of moves and what
every move shares in ``transitions``.

Every move is one service with the same shape (as zulip's ``do_*`` actions): lock the plan row,
check the move against ``TRANSITIONS`` and the actor's rights, write the new state and an audit row,
and notify people (``bizops.notifications.notify``: email after commit, in-app at once; its dedupe
keys make a retried move harmless).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.notifications import notify
from bizops.roles import can
from bizops.webhooks import emit

from ..baselines import digest, snapshot
from ..models import (
    Approval,
    Baseline,
    Plan,
    PlanApprover,
    PlanTransition,
    Submission,
)
from ..readiness import plan_readiness
from ..selectors import content_tree
from .running import _activate_begun, _delegate, plan_period_has_begun
from .transitions import (
    S,
    _audit_move,
    _lock,
    _move,
    _plan_data,
    _plan_url,
    _require_editor,
    _writing_status,
    eligible_approvers,
)

# Called with an approved plan's id once the approval commits. The metrics app back-fills the plan's
# progress history here (planning never imports metrics).
_on_approved: list[Callable[[int], object]] = []


def register_on_approved(callback: Callable[[int], object]) -> None:
    if callback not in _on_approved:
        _on_approved.append(callback)


# --- Review -------------------------------------------------------------------------------------------


def _require_ready(tree, before: str) -> None:
    """Refuse (400) while the readiness check lists blocking problems, naming the first five."""
    readiness = plan_readiness(tree)
    if not readiness.ready:
        raise ValidationError(
            {
                "__all__": f"Fix {len(readiness.blocking)} blocking problem(s) before {before}: "
                + "; ".join(f"{p.title}: {p.message}" for p in readiness.blocking[:5])
            }
        )


@transaction.atomic
def plan_submit(
    *, actor: Membership, plan: Plan, approvers: Iterable[Membership] | None = None, comment: str = ""
) -> Plan:
    plan = _lock(plan, "submit")
    _require_editor(actor, plan)
    tree = content_tree(plan=plan)
    _require_ready(tree, "submitting")
    eligible = {m.pk: m for m in eligible_approvers(plan, actor)}
    chosen = list(approvers) if approvers is not None else list(eligible.values())
    chosen = list({m.pk: m for m in chosen}.values())  # naming someone twice counts once
    if any(m.pk not in eligible for m in chosen):
        raise ValidationError(
            {"approvers": "Approvers are the organization's managers and admins, not yourself."}
        )
    needed = plan.organization.approvals_required
    if len(chosen) < needed:
        raise ValidationError(
            {
                "approvers": f"This organization needs {needed} approval(s): name at least {needed} approver(s)."
                + ("" if len(eligible) >= needed else " Invite or promote more managers first.")
            }
        )
    _move(
        plan,
        "submit",
        S.IN_REVIEW,
        actor,
        comment,
        review_round=plan.review_round + 1,
        submitted_by=actor.user,
        submitted_at=timezone.now(),
    )
    PlanApprover.objects.bulk_create(
        PlanApprover(organization_id=plan.organization_id, plan=plan, round=plan.review_round, membership=m)
        for m in chosen
    )
    # What this round's approvers are asked to approve; a later resubmission is compared with it.
    submitted = snapshot(tree)
    assert plan.submitted_at is not None  # set by ``_move`` above
    Submission.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        round=plan.review_round,
        snapshot=submitted,
        digest=digest(submitted),
        submitted_by=actor.user,
        submitted_at=plan.submitted_at,
    )
    emit(organization=plan.organization, event="plan.submitted", data=_plan_data(plan, actor))
    for membership in chosen:
        notify(
            recipient=membership.user,
            template="plan_submitted",
            kind="approval_request",
            organization=plan.organization,
            dedupe_key=f"plan:{plan.pk}:round:{plan.review_round}:review:{membership.user_id}",
            url=_plan_url(plan),
            context={"plan": plan, "submitter": actor.user, "comment": comment, "path": _plan_url(plan)},
        )
    return plan


@transaction.atomic
def plan_withdraw(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    plan = _lock(plan, "withdraw")
    if plan.submitted_by_id != actor.user_id or not can(actor.role, "plan_suggest"):
        raise PermissionDenied("Only the person who submitted the plan can withdraw it.")
    _move(plan, "withdraw", _writing_status(plan), actor, comment)
    return plan


def _require_approver(actor: Membership, plan: Plan) -> None:
    if plan.submitted_by_id == actor.user_id:
        raise PermissionDenied("Nobody approves their own submission.")
    if not can(actor.role, "plan_approve"):
        raise PermissionDenied("Only managers, admins and owners approve plans.")
    named = PlanApprover.objects.filter(plan=plan, round=plan.review_round, membership=actor).exists()
    if not named:
        raise PermissionDenied("You were not named as an approver of this plan.")


def _record_decision(actor: Membership, plan: Plan, decision: str, comment: str) -> Approval:
    try:
        with transaction.atomic():
            return Approval.objects.create(
                organization_id=plan.organization_id,
                plan=plan,
                round=plan.review_round,
                approver=actor.user,
                decision=decision,
                comment=comment,
            )
    except IntegrityError:
        raise Conflict("You have already decided on this round of review.") from None


class StaleReview(Conflict):
    """The approver decided on a view of the plan that is no longer its content."""

    def __init__(self, current: str) -> None:
        super().__init__(
            "The plan changed since you opened it: review what changed, then decide again. "
            "Nothing was recorded."
        )
        self.current = current


@transaction.atomic
def plan_approve(*, actor: Membership, plan: Plan, comment: str = "", seen: str | None = None) -> Plan:
    """Record an approval; the last one needed approves the plan and freezes a baseline.

    ``seen`` is the content the approver saw (``baselines.digest`` of the snapshot their page or
    client showed): when the plan's content is no longer that (an older round; a KPI's lines moved
    meanwhile), nothing is recorded and ``StaleReview`` says so. The plan row lock serializes
    approvers acting at the same moment: each is recorded, and exactly one of them sees the count
    reach the organization's threshold.
    """
    plan = _lock(plan, "approve")
    _require_approver(actor, plan)
    current = snapshot(content_tree(plan=plan))
    if seen is not None and seen != digest(current):
        raise StaleReview(digest(current))
    approval = _record_decision(actor, plan, Approval.Decision.APPROVED, comment.strip())
    approvals = Approval.objects.filter(
        plan=plan, round=plan.review_round, decision=Approval.Decision.APPROVED
    )
    _notify_submitter(plan, actor, approval)
    if approvals.count() < plan.organization.approvals_required:
        PlanTransition.objects.create(
            organization_id=plan.organization_id,
            plan=plan,
            action="approve",
            from_status=plan.status,
            to_status=plan.status,
            actor=actor.user,
            comment=comment,
        )
        _audit_move(plan, "approve", plan.status, plan.status, actor, comment)
        return plan
    _approved(plan, "approve", actor, comment, current)
    return plan


def _approved(plan: Plan, action: str, actor: Membership, comment: str, current: dict, **fields) -> None:
    """The plan is approved: its new status (active again if it ran, or if its period has begun),
    its baseline frozen from ``current``, its work handed out, the webhook told."""
    previous = plan.baselines.order_by("-number").first()
    if plan.first_approved_at is None:
        plan.first_approved_at = timezone.now()
        Plan.objects.filter(pk=plan.pk).update(first_approved_at=plan.first_approved_at)
    to_status = S.ACTIVE if plan.activated_at else S.APPROVED
    _move(plan, action, to_status, actor, comment, approved_alone=action == "approve_alone", **fields)
    if to_status == S.APPROVED and plan_period_has_begun(plan):
        _activate_begun(plan)
    baseline = Baseline.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        number=(previous.number + 1) if previous else 1,
        round=plan.review_round,
        snapshot=current,
    )
    _delegate(plan, baseline, previous)
    for callback in _on_approved:
        transaction.on_commit(partial(callback, plan.pk))
    emit(
        organization=plan.organization,
        event="plan.approved",
        data={**_plan_data(plan, actor), "baseline": baseline.number, "alone": action == "approve_alone"},
    )


def solo_approval_open(plan: Plan, actor: Membership) -> bool:
    """May ``actor`` approve ``plan`` alone: their organization allows it and they are its only member."""
    org = plan.organization
    return (
        org.solo_approval
        and can(actor.role, "plan_approve")
        and not Membership.objects.filter(organization_id=org.pk).exclude(pk=actor.pk).exists()
    )


@transaction.atomic
def plan_approve_alone(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    """A one-person organization's owner approves their own plan, without a reviewer, when the
    organization's settings allow it (``Organization.solo_approval``). Everything else is as an
    approval: the readiness check must be clean, a baseline is frozen, the work is handed out. It is
    recorded as such: the transition, the audit trail, the plan's page ("approved alone")."""
    plan = _lock(plan, "approve_alone")
    _require_editor(actor, plan)
    if not plan.organization.solo_approval:
        raise PermissionDenied(
            "This organization's plans are approved by a reviewer. An owner can allow a one-person "
            "organization to approve its own plans in the organization's settings."
        )
    if not solo_approval_open(plan, actor):
        raise Conflict(
            "Someone else has joined the organization: submit the plan for review, so another person "
            "approves it."
        )
    tree = content_tree(plan=plan)
    _require_ready(tree, "approving")
    comment = comment.strip() or "Approved alone: a one-person organization."
    now = timezone.now()
    _approved(
        plan,
        "approve_alone",
        actor,
        comment,
        snapshot(tree),
        review_round=plan.review_round + 1,
        submitted_by=actor.user,
        submitted_at=now,
    )
    return plan


@transaction.atomic
def plan_request_changes(*, actor: Membership, plan: Plan, comment: str) -> Plan:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Say what should change: a comment is required."})
    plan = _lock(plan, "request_changes")
    _require_approver(actor, plan)
    approval = _record_decision(actor, plan, Approval.Decision.CHANGES_REQUESTED, comment)
    _move(plan, "request_changes", S.CHANGES_REQUESTED, actor, comment)
    _notify_submitter(plan, actor, approval)
    emit(
        organization=plan.organization,
        event="plan.changes_requested",
        data={**_plan_data(plan, actor), "comment": comment},
    )
    return plan


def _notify_submitter(plan: Plan, actor: Membership, approval: Approval) -> None:
    if plan.submitted_by is None:
        return
    notify(
        recipient=plan.submitted_by,
        template="plan_decision",
        kind="approval_decision",
        organization=plan.organization,
        dedupe_key=f"plan:{plan.pk}:decision:{approval.pk}",
        url=_plan_url(plan),
        context={"plan": plan, "approver": actor.user, "approval": approval, "path": _plan_url(plan)},
    )


@transaction.atomic
def plan_revise(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    plan = _lock(plan, "revise")
    _require_editor(actor, plan)
    _move(plan, "revise", _writing_status(plan), actor, comment)
    return plan
