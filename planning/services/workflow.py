"""The plan's life cycle: submit, withdraw, approve, request changes, activate, close, amend.

Every move is one service with the same shape (as zulip's ``do_*`` actions): lock the plan row,
check the move against ``TRANSITIONS`` and the actor's rights, write the new state and an audit row,
and notify people (``bizops.notifications.notify``: email after commit, in-app at once; its dedupe
keys make a retried move harmless).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bizops.audit import audit_record
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.notifications import notify
from bizops.roles import can
from bizops.webhooks import emit

from ..access import can_edit_plan
from ..baselines import digest, snapshot
from ..models import (
    Approval,
    Baseline,
    Objective,
    ObjectiveScore,
    Plan,
    PlanApprover,
    PlanStatus,
    PlanTransition,
    Submission,
)
from ..readiness import plan_readiness
from ..selectors import content_tree, plan_tree

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


def _plan_url(plan: Plan, name: str = "plan_review") -> str:
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


# --- Review -------------------------------------------------------------------------------------------


@transaction.atomic
def plan_submit(
    *, actor: Membership, plan: Plan, approvers: Iterable[Membership] | None = None, comment: str = ""
) -> Plan:
    plan = _lock(plan, "submit")
    _require_editor(actor, plan)
    tree = content_tree(plan=plan)
    readiness = plan_readiness(tree)
    if not readiness.ready:
        raise ValidationError(
            {
                "__all__": f"Fix {len(readiness.blocking)} blocking problem(s) before submitting: "
                + "; ".join(f"{p.title}: {p.message}" for p in readiness.blocking[:5])
            }
        )
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
    readiness = plan_readiness(tree)
    if not readiness.ready:
        raise ValidationError(
            {
                "__all__": f"Fix {len(readiness.blocking)} blocking problem(s) before approving: "
                + "; ".join(f"{p.title}: {p.message}" for p in readiness.blocking[:5])
            }
        )
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


# --- Running and closing ------------------------------------------------------------------------------


@transaction.atomic
def plan_activate(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    plan = _lock(plan, "activate")
    _require_editor(actor, plan)
    _move(plan, "activate", S.ACTIVE, actor, comment, activated_at=timezone.now())
    return plan


def organization_today(plan: Plan, now: datetime | None = None) -> date:
    """Today's date where the plan's organization works (its time zone), which says when a period began."""
    try:
        zone = zoneinfo.ZoneInfo(plan.organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return timezone.localtime(now or timezone.now(), zone).date()


def plan_period_has_begun(plan: Plan, now: datetime | None = None) -> bool:
    return plan.period_start <= organization_today(plan, now)


AUTO_ACTIVATION_COMMENT = (
    "Its period began on {start}: an approved plan becomes active when its period begins."
)


def _activate_begun(plan: Plan) -> None:
    """An approved plan whose first day has come runs: the app activates it, saying why in the
    plan's history and audit trail (no one clicked: no actor)."""
    start = plan.period_start
    comment = AUTO_ACTIVATION_COMMENT.format(start=f"{start.day} {start:%b %Y}")
    _move(plan, "activate", S.ACTIVE, None, comment, activated_at=timezone.now())


@transaction.atomic
def plan_activate_if_begun(*, plan_id: int, now: datetime | None = None) -> bool:
    """Activate an approved plan whose period has begun (the daily task, for plans approved before
    their start). Idempotent: under the row lock, a plan activated, closed or amended meanwhile, or
    not started yet, is left alone. Returns whether it was activated."""
    plan = Plan.objects.select_for_update().select_related("organization").filter(pk=plan_id).first()
    if plan is None or plan.status != S.APPROVED or not plan_period_has_begun(plan, now):
        return False
    _activate_begun(plan)
    return True


@transaction.atomic
def plan_start_amendment(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    plan = _lock(plan, "start_amendment")
    _require_editor(actor, plan)
    _move(plan, "start_amendment", S.AMENDING, actor, comment)
    return plan


@transaction.atomic
def plan_close(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    """Close the cycle: the plan becomes read-only and each objective's owner is asked for a score."""
    plan = _lock(plan, "close")
    _require_editor(actor, plan)
    _move(plan, "close", S.CLOSED, actor, comment, closed_at=timezone.now())
    owners: dict[int, list[Objective]] = defaultdict(list)
    for objective in Objective.objects.filter(plan=plan, owner__isnull=False).select_related("owner__user"):
        owners[objective.owner_id].append(objective)
    for objectives in owners.values():
        owner = objectives[0].owner
        notify(
            recipient=owner.user,
            template="plan_closed",
            kind="score_request",
            organization=plan.organization,
            dedupe_key=f"plan:{plan.pk}:close:score:{owner.user_id}",
            url=_plan_url(plan, "plan_scores"),
            context={"plan": plan, "objectives": objectives, "path": _plan_url(plan, "plan_scores")},
        )
    return plan


@transaction.atomic
def objective_score_set(
    *, actor: Membership, objective: Objective, score: int, reflection: str = ""
) -> ObjectiveScore:
    plan = Plan.objects.get(pk=objective.plan_id)
    if plan.status != S.CLOSED:
        raise Conflict("Objectives are scored when the plan is closed.")
    if objective.owner_id != actor.pk and not can_edit_plan(actor, plan):
        raise PermissionDenied("The objective's owner scores it.")
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ValidationError({"score": "Give a score from 0 to 100."}) from None
    if not 0 <= score <= 100:
        raise ValidationError({"score": "Give a score from 0 to 100."})
    reflection = (reflection or "").strip()
    if len(reflection) > 5000:
        raise ValidationError({"reflection": "Keep the reflection under 5,000 characters."})
    previous = ObjectiveScore.objects.filter(objective=objective).first()
    result, _ = ObjectiveScore.objects.update_or_create(
        objective=objective,
        defaults={
            "organization_id": plan.organization_id,
            "plan": plan,
            "score": score,
            "reflection": reflection,
            "scored_by": actor.user,
            "scored_at": timezone.now(),
        },
    )
    audit_record(
        organization_id=plan.organization_id,
        actor=actor,
        kind="objective",
        action="scored",
        obj=objective,
        plan_id=plan.pk,
        changes={
            "score": [previous.score if previous else None, score],
            "reflection": [previous.reflection if previous else None, reflection],
        },
    )
    return result


# --- Delegation ---------------------------------------------------------------------------------------


def _delegate(plan: Plan, baseline: Baseline, previous: Baseline | None) -> None:
    """Tell each assignee about their new steps and each team about its objectives, once per approval."""
    before: dict[tuple[str, int], dict] = {}
    if previous is not None:
        before = {(n["kind"], n["id"]): n["fields"] for n in previous.snapshot["nodes"]}
    tree = plan_tree(plan=plan, with_progress=False)
    steps: dict[int, list] = defaultdict(list)
    objectives: dict[int, list] = defaultdict(list)
    people: dict[int, Membership] = {}
    for objective in tree.objectives.values():
        old = before.get(("objective", objective.pk))
        if objective.team_id and (old is None or old.get("team") != objective.team.name):
            for member in objective.team.members.select_related("user"):
                objectives[member.pk].append(objective)
                people[member.pk] = member
        for step in objective.children:
            old_step = before.get(("step", step.pk))
            if step.assignee_id and (
                old_step is None or old_step.get("assignee") != step.assignee.user.display_name
            ):
                steps[step.assignee_id].append(step)
                people[step.assignee_id] = step.assignee
    for member_id, member in people.items():
        notify(
            recipient=member.user,
            template="plan_delegated",
            kind="assignment",
            organization=plan.organization,
            dedupe_key=f"plan:{plan.pk}:baseline:{baseline.number}:assigned:{member.user_id}",
            url=reverse("my_work", args=[plan.organization.slug]),
            context={
                "plan": plan,
                "steps": steps.get(member_id, []),
                "objectives": objectives.get(member_id, []),
                "path": reverse("my_work", args=[plan.organization.slug]),
            },
        )
