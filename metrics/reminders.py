"""Who is due for which reminder, right now, in their own time zone; and what the reminder says.

One periodic dispatcher (``metrics.tasks.dispatch_reminders``, every few minutes) finds what is due
and hands batches to workers; there is no beat entry per person and no long ETA. A reminder is due
from its local hour until a day later, so a dispatcher that was down for a while catches up, and its
key (recipient, kind, local date or week) is claimed when it is sent, so it goes out exactly once:
daylight-saving changes move the UTC instant but not the local date, so nothing is skipped or repeated.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.urls import reverse

from bizops.links import action_url
from bizops.models import Membership, Team
from bizops.notifications import notify
from planning.models import ActionStep, Objective, Plan, PlanApprover, PlanStatus, StepQuerySet

from .models import CheckIn, KeyResult
from .rules import key_result_progress, plain_number

WINDOW = timedelta(hours=24)
NUDGE_DAYS = (1, 3, 7)  # approval nudges: a day, three days and a week after submission, then no more


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def due_date(now: datetime, tz: ZoneInfo, hour: int, weekday: int | None = None) -> date | None:
    """The local date of the occurrence due now (at ``hour`` local, on ``weekday`` or any day), or None.

    Instants are compared in UTC: a wall-clock hour that does not exist (spring forward) maps to the
    instant just after the gap, one that happens twice (fall back) to its first occurrence.
    """
    local = now.astimezone(tz)
    for back in range(8):
        day = local.date() - timedelta(days=back)
        if weekday is not None and day.weekday() != weekday:
            continue
        occurrence = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        if occurrence <= now:
            return day if now - occurrence < WINDOW else None
    return None


def find_due(now: datetime, memberships: list[Membership]) -> dict[str, list[tuple[int, str]]]:
    """For each kind, the (membership id, period) pairs due now. Pure: no queries."""
    due: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for m in memberships:
        tz = zone(m.user.time_zone)
        schedule = m.checkin_schedule()
        hour = schedule[1] if schedule else m.organization.checkin_hour
        if schedule:
            day = due_date(now, tz, schedule[1], schedule[0])
            if day:
                due["checkin_due"].append((m.pk, day.isoformat()))
        day = due_date(now, tz, hour)
        if day:
            due["overdue_steps"].append((m.pk, day.isoformat()))
            if m.role in ("owner", "admin", "manager"):
                due["approval_waiting"].append((m.pk, day.isoformat()))
        if schedule and getattr(m, "teams_led_ids", None):
            day = due_date(now, tz, schedule[1], schedule[0])
            if day:
                iso = day.isocalendar()
                due["manager_digest"].append((m.pk, f"{iso.year}-W{iso.week:02d}"))
    return due


def load_memberships(ids: list[int] | None = None) -> list[Membership]:
    qs = Membership.objects.filter(user__is_active=True).select_related("user", "organization")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    memberships = list(qs)
    leads: dict[int, list[int]] = defaultdict(list)
    lead_ids = Team.objects.filter(lead__isnull=False).values_list("lead_id", "pk")
    if ids is not None:
        lead_ids = lead_ids.filter(lead_id__in=ids)
    for lead_id, team_id in lead_ids:
        leads[lead_id].append(team_id)
    for m in memberships:
        m.teams_led_ids = leads.get(m.pk, [])
    return memberships


# --- Composing and sending ----------------------------------------------------------------------------


def send_checkin_due(
    memberships: list[Membership], periods: dict[int, str], batch: list[int] | None = None
) -> int:
    """What each person owns that needs a check-in (key results and objectives of running plans),
    with the previous values; nobody who owns nothing gets an email."""
    ids = [m.pk for m in memberships]
    krs = list(
        KeyResult.objects.running()
        .answered_by(*ids)
        .select_related("objective", "plan")
        .order_by("plan_id", "position")
    )
    last: dict[int, CheckIn] = {}
    for check_in in CheckIn.objects.filter(key_result__in=krs).order_by("key_result_id", "-created_at"):
        assert check_in.key_result_id is not None  # filtered on key_result__in
        last.setdefault(check_in.key_result_id, check_in)
    objectives = list(
        Objective.objects.running().filter(owner_id__in=ids).select_related("plan").order_by("plan_id")
    )
    by_person: dict[int, dict] = defaultdict(lambda: {"key_results": [], "objectives": []})
    for kr in krs:
        owner = kr.owner_id or kr.objective.owner_id
        assert owner is not None  # answered_by: one of the two is among ids
        kr.previous = last.get(kr.pk)
        kr.percent = round(key_result_progress(kr.kind, kr.start, kr.target, kr.current)[0] * 100)
        by_person[owner]["key_results"].append(kr)
    for objective in objectives:
        assert objective.owner_id is not None  # filtered on owner_id__in
        by_person[objective.owner_id]["objectives"].append(objective)
    sent = 0
    for m in memberships:
        items = by_person.get(m.pk)
        if not items:
            continue
        slug = m.organization.slug
        for kr in items["key_results"]:
            kr.link = action_url(
                user_id=m.user_id,
                organization_id=m.organization_id,
                action="check_in",
                object_id=kr.pk,
                value=plain_number(kr.current),
                stamp=m.user.security_stamp,
            )
        for objective in items["objectives"]:
            objective.link = reverse("metrics:objective_measures", args=[slug, objective.pk])
        sent += notify(
            recipient=m.user,
            organization=m.organization,
            membership=m,
            batch=batch,
            kind="checkin_due",
            template="checkin_due",
            dedupe_key=f"checkin_due:{m.pk}:{periods[m.pk]}",
            url=reverse("metrics:my_dashboard", args=[slug]),
            context={**items, "period": periods[m.pk]},
        )
    return sent


def send_overdue_steps(
    memberships: list[Membership], periods: dict[int, str], batch: list[int] | None = None
) -> int:
    by_person: dict[int, list[ActionStep]] = defaultdict(list)
    today_by_person = {m.pk: date.fromisoformat(periods[m.pk]) for m in memberships}
    latest_today = max(today_by_person.values(), default=date.today())
    # Each person's "today" is their own local date: load what is overdue by the latest of them, then
    # keep, per person, what is overdue by theirs.
    steps: StepQuerySet | list[ActionStep] | None  # all the overdue steps, then each person's
    steps = (
        ActionStep.objects.filter(assignee_id__in=list(today_by_person))
        .overdue(latest_today)
        .select_related("plan", "objective")
        .order_by("due_date")
    )
    for step in steps:
        assert step.assignee_id is not None  # filtered on assignee_id__in
        today = today_by_person[step.assignee_id]
        if StepQuerySet.is_overdue(step, runs=step.plan.runs, today=today):
            by_person[step.assignee_id].append(step)
    sent = 0
    for m in memberships:
        steps = by_person.get(m.pk)
        if not steps:
            continue
        for step in steps:
            step.done_link = action_url(
                user_id=m.user_id,
                organization_id=m.organization_id,
                action="step_done",
                object_id=step.pk,
                stamp=m.user.security_stamp,
            )
        sent += notify(
            recipient=m.user,
            organization=m.organization,
            membership=m,
            batch=batch,
            kind="overdue_steps",
            template="overdue_steps",
            dedupe_key=f"overdue_steps:{m.pk}:{periods[m.pk]}",
            url=reverse("planning:my_work", args=[m.organization.slug]),
            context={"steps": steps, "today": today_by_person[m.pk]},
        )
    return sent


def send_approval_waiting(
    memberships: list[Membership], periods: dict[int, str], batch: list[int] | None = None
) -> int:
    from planning.models import Approval

    ids = [m.pk for m in memberships]
    rows = (
        PlanApprover.objects.filter(membership_id__in=ids, plan__status=PlanStatus.IN_REVIEW)
        .select_related("plan", "plan__submitted_by", "membership")
        .order_by("plan_id")
    )
    decided = set(
        Approval.objects.filter(
            plan__status=PlanStatus.IN_REVIEW, approver__memberships__pk__in=ids
        ).values_list("plan_id", "round", "approver_id")
    )
    waiting: dict[int, list[Plan]] = defaultdict(list)
    by_id = {m.pk: m for m in memberships}
    for row in rows:
        plan = row.plan
        m = by_id[row.membership_id]
        if row.round != plan.review_round or (plan.pk, plan.review_round, m.user_id) in decided:
            continue
        if plan.submitted_at is None:
            continue
        days = (
            date.fromisoformat(periods[m.pk]) - plan.submitted_at.astimezone(zone(m.user.time_zone)).date()
        ).days
        if days in NUDGE_DAYS:
            plan.waiting_days = days
            waiting[m.pk].append(plan)
    sent = 0
    for m in memberships:
        for plan in waiting.get(m.pk, []):
            sent += notify(
                recipient=m.user,
                organization=m.organization,
                membership=m,
                batch=batch,
                kind="approval_waiting",
                template="approval_waiting",
                dedupe_key=f"approval_waiting:{m.pk}:{plan.pk}:{plan.review_round}:{periods[m.pk]}",
                url=reverse("planning:plan_review", args=[m.organization.slug, plan.pk]),
                context={
                    "plan": plan,
                    "path": reverse("planning:plan_review", args=[m.organization.slug, plan.pk]),
                },
            )
    return sent


def send_manager_digest(
    memberships: list[Membership], periods: dict[int, str], batch: list[int] | None = None
) -> int:
    from .selectors import dashboard

    sent = 0
    for m in memberships:
        teams = list(Team.objects.filter(lead=m).order_by("name"))
        if not teams:
            continue
        boards = [(team, dashboard(organization=m.organization, team=team)) for team in teams]
        sent += notify(
            recipient=m.user,
            organization=m.organization,
            membership=m,
            batch=batch,
            kind="manager_digest",
            template="manager_digest",
            dedupe_key=f"manager_digest:{m.pk}:{periods[m.pk]}",
            url=reverse("metrics:dashboard", args=[m.organization.slug]),
            context={"boards": boards, "week": periods[m.pk]},
        )
    return sent


SENDERS = {
    "checkin_due": send_checkin_due,
    "overdue_steps": send_overdue_steps,
    "approval_waiting": send_approval_waiting,
    "manager_digest": send_manager_digest,
}
