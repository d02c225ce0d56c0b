"""A plan at work: activated (by hand, or by itself once its period has begun), amended, closed with
scores, and the hand-out of its work when it is approved (``_delegate``)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bizops.audit import audit_record
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership, Organization, Team
from bizops.notifications import notify

from ..access import can_edit_plan
from ..models import (
    ActionStep,
    Baseline,
    Objective,
    ObjectiveScore,
    Plan,
)
from ..selectors import editing_tree
from .transitions import S, _lock, _move, _plan_url, _require_editor

# --- Running and closing ------------------------------------------------------------------------------


@transaction.atomic
def plan_activate(*, actor: Membership, plan: Plan, comment: str = "") -> Plan:
    plan = _lock(plan, "activate")
    _require_editor(actor, plan)
    _move(plan, "activate", S.ACTIVE, actor, comment, activated_at=timezone.now())
    return plan


def organization_zone(organization: Organization) -> tzinfo:
    """The organization's time zone (the server's when its name is not a known zone)."""
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def organization_date(organization: Organization, now: datetime | None = None) -> date:
    """Today's date where the organization works: the day its plans' periods, progress history and
    forecasts count in."""
    return timezone.localtime(now or timezone.now(), organization_zone(organization)).date()


def organization_today(plan: Plan, now: datetime | None = None) -> date:
    """Today's date where the plan's organization works (its time zone), which says when a period began."""
    return organization_date(plan.organization, now)


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
        assert objective.owner_id is not None  # owner__isnull=False
        owners[objective.owner_id].append(objective)
    for objectives in owners.values():
        owner = objectives[0].owner
        assert owner is not None  # owner__isnull=False
        notify(
            recipient=owner.user,
            template="plan_closed",
            kind="score_request",
            organization=plan.organization,
            dedupe_key=f"plan:{plan.pk}:close:score:{owner.user_id}",
            url=_plan_url(plan, "planning:plan_scores"),
            context={"plan": plan, "objectives": objectives, "path": _plan_url(plan, "planning:plan_scores")},
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
    tree = editing_tree(plan=plan)
    steps: dict[int, list] = defaultdict(list)
    objectives: dict[int, list] = defaultdict(list)
    people: dict[int, Membership] = {}
    for objective in tree.objectives.values():
        old = before.get(("objective", objective.pk))
        # ``team_id`` set: ``team`` is a Team (loaded by ``editing_tree``).
        if objective.team_id and (old is None or old.get("team") != cast(Team, objective.team).name):
            for member in cast(Team, objective.team).members.select_related("user"):
                objectives[member.pk].append(objective)
                people[member.pk] = member
        # Steps as instances (read without ``step_rows``); ``assignee_id`` set: ``assignee`` is a Membership.
        for step in cast("list[ActionStep]", objective.children):
            old_step = before.get(("step", step.pk))
            if step.assignee_id and (
                old_step is None
                or old_step.get("assignee") != cast(Membership, step.assignee).user.display_name
            ):
                steps[step.assignee_id].append(step)
                people[step.assignee_id] = cast(Membership, step.assignee)
    for member_id, member in people.items():
        notify(
            recipient=member.user,
            template="plan_delegated",
            kind="assignment",
            organization=plan.organization,
            dedupe_key=f"plan:{plan.pk}:baseline:{baseline.number}:assigned:{member.user_id}",
            url=reverse("planning:my_work", args=[plan.organization.slug]),
            context={
                "plan": plan,
                "steps": steps.get(member_id, []),
                "objectives": objectives.get(member_id, []),
                "path": reverse("planning:my_work", args=[plan.organization.slug]),
            },
        )
