"""The lists of the planning app: plans, My work, activity, suggestions, comments, a node, and the
API's node lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from bizops.models import AuditEvent, Membership, Organization
from bizops.search import Terms, matching

from ..activity import activity_filter
from ..models import (
    ActionStep,
    Comment,
    Milestone,
    NodeKind,
    Objective,
    Plan,
    PlanStatus,
    StepCompletion,
    StepQuerySet,
    StepStatus,
    Suggestion,
)
from ..progress import (
    occurrence_start,
)
from ..search import MILESTONE_SEARCHED, OBJECTIVE_SEARCHED, PLAN_SEARCHED, STEP_SEARCHED
from .trees import STEP_ROW_FIELDS, _count

PERIOD_FILTERS = {
    "current": "Running now",
    "upcoming": "Upcoming",
    "past": "Past",
    "all": "All periods",
}


def plan_list(
    *, organization: Organization, status: str = "", period: str = "", q: str = ""
) -> QuerySet[Plan]:
    """Filters: status, period (``PERIOD_FILTERS``), and ``q``: the plans holding its words, best first."""
    today = timezone.localdate()
    qs = (
        Plan.objects.filter(organization=organization)
        .select_related("owner__user")
        .annotate(
            # One subquery per level: joining the three tables at once would multiply their rows.
            milestone_count=_count(Milestone),
            objective_count=_count(Objective),
            step_count=_count(ActionStep),
        )
        .order_by("-period_start", "title")
    )
    if status in PlanStatus.values:
        qs = qs.filter(status=status)
    if period == "current":
        qs = qs.filter(period_start__lte=today, period_end__gte=today)
    elif period == "upcoming":
        qs = qs.filter(period_start__gt=today)
    elif period == "past":
        qs = qs.filter(period_end__lt=today)
    if q:
        qs = matching(qs, PLAN_SEARCHED, Terms.parse(q)).order_by("-search_rank", "-period_start", "title")
    return qs


MY_WORK_FIELDS = (
    *(f for f in STEP_ROW_FIELDS if f != "notes"),
    "organization_id",
    "plan__title",
    "plan__status",
    "plan__first_approved_at",
    "plan__period_end",
    "plan__organization_id",
    "objective__title",
    "objective__plan_id",
)


@dataclass
class MyWork:
    overdue: list[ActionStep]
    this_week: list[ActionStep]
    later: list[ActionStep]
    no_date: list[ActionStep]
    done_recently: list[ActionStep]
    # Steps of plans still being written or reviewed: not work yet, never overdue.
    in_planning: list[ActionStep] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.this_week) + len(self.later) + len(self.no_date)


def mark_done_this_period(steps: list[ActionStep], today: date) -> None:
    """Set ``done_this_period`` on loaded steps: a recurring one checked off for its current day, week
    or month (My work, the check-in page). One query for them all, none without a recurring step."""
    recurring = [s for s in steps if s.is_recurring]
    done: set[tuple[int, date]] = set()
    if recurring:
        done = set(
            StepCompletion.objects.filter(
                step__in=recurring, period_start__gte=today - timedelta(days=31)
            ).values_list("step_id", "period_start")
        )
    for step in steps:
        step.done_this_period = (
            step.is_recurring and (step.pk, occurrence_start(step.recurrence, today)) in done
        )


def my_work(*, membership: Membership, today: date | None = None) -> MyWork:
    """The member's steps of running plans, grouped by when they are due; those of plans still being
    written or reviewed apart (``in_planning``)."""
    today = today or timezone.localdate()
    steps = list(
        ActionStep.objects.filter(assignee=membership)
        .exclude(plan__status=PlanStatus.CLOSED)
        .filter(
            Q(status__in=[StepStatus.TODO, StepStatus.DOING, StepStatus.BLOCKED])
            | Q(recurrence__in=["daily", "weekly", "monthly"])
            | Q(completed_at__gte=timezone.now() - timedelta(days=7))
        )
        .select_related("plan", "objective")
        # What the page shows: not the plans' and objectives' long texts.
        .only(*MY_WORK_FIELDS)
        .order_by("due_date", "plan__title", "position")
    )
    mark_done_this_period(steps, today)
    work = MyWork([], [], [], [], [])
    for step in steps:
        if not step.plan.runs:
            if step.status != StepStatus.DONE:
                work.in_planning.append(step)
        elif not step.is_recurring and step.status == StepStatus.DONE:
            work.done_recently.append(step)
        elif step.is_recurring:
            # A recurring step is due every period: it belongs to this week until the plan ends.
            (work.this_week if step.plan.period_end >= today else work.done_recently).append(step)
        elif step.due_date is None:
            work.no_date.append(step)
        elif StepQuerySet.is_overdue(step, runs=step.plan.runs, today=today):
            work.overdue.append(step)
        elif StepQuerySet.is_due_this_week(step, runs=step.plan.runs, today=today):
            work.this_week.append(step)
        else:
            work.later.append(step)
    return work


def activity_list(*, plan: Plan) -> QuerySet[AuditEvent]:
    """The plan's part of the audit trail, newest first: its content, its moves, its comments, and
    the changes to what other apps attach to it (the KPIs linked to it, see ``planning.activity``)."""
    return AuditEvent.objects.filter(activity_filter(plan), organization_id=plan.organization_id).order_by(
        "-created_at", "-pk"
    )


def suggestion_list(*, plan: Plan) -> QuerySet[Suggestion]:
    return (
        Suggestion.objects.filter(plan=plan)
        .select_related("proposed_by", "decided_by", "milestone", "objective")
        .order_by("status", "-created_at")
    )


def plan_comments(*, plan: Plan) -> QuerySet[Comment]:
    """The plan's comments on any of its nodes, newest first, with their authors."""
    return Comment.objects.filter(plan=plan).select_related("author").order_by("-created_at", "-pk")


def node_comments(*, plan: Plan, kind: str, node_id: int) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(plan=plan, node_kind=kind, node_id=node_id)
        .select_related("author")
        .order_by("created_at", "pk")
    )


# Keyed by ``NodeKind`` (a ``str``): looked up by the kind in the URL.
NODE_MODELS: dict[str, type[Milestone] | type[Objective] | type[ActionStep]] = {
    NodeKind.MILESTONE: Milestone,
    NodeKind.OBJECTIVE: Objective,
    NodeKind.STEP: ActionStep,
}


def node_get(*, plan: Plan, kind: str, node_id) -> Milestone | Objective | ActionStep:
    """A node of this plan by kind and id; anything else (another plan, another org) is 404."""
    from django.core.exceptions import ObjectDoesNotExist
    from django.http import Http404

    model = NODE_MODELS.get(kind)
    if model is None:
        raise Http404("No such kind of node.")
    # Typed apart: mypy refuses a union of exception classes (the three models') in ``except``.
    does_not_exist: type[ObjectDoesNotExist] = model.DoesNotExist
    related = {
        "milestone": ["owner__user"],
        "objective": ["owner__user", "team", "milestone"],
        "step": ["assignee__user", "objective"],
    }[kind]
    try:
        node = model.objects.select_related(*related).get(
            plan=plan, organization_id=plan.organization_id, pk=int(node_id)
        )
    except (does_not_exist, ValueError, TypeError):
        raise Http404("No such node in this plan.") from None
    node.plan = plan
    return node


# --- The node lists of the API ------------------------------------------------------------------------


def milestone_list(*, organization: Organization, q: str = "", **filters: int) -> QuerySet[Milestone]:
    """Filters: plan (id), and ``q`` (the best matches first). In order within each plan."""
    qs = Milestone.objects.filter(organization=organization).select_related("owner__user")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    order = ("plan_id", "position", "pk")
    if q:
        return matching(qs, MILESTONE_SEARCHED, Terms.parse(q)).order_by("-search_rank", *order)
    return qs.order_by(*order)


def objective_list(*, organization: Organization, q: str = "", **filters: int) -> QuerySet[Objective]:
    """Filters: plan, milestone, team, owner (ids), and ``q`` (the best matches first). In tree order
    within each plan."""
    qs = Objective.objects.filter(organization=organization).select_related("owner__user", "team")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    order = ("plan_id", "milestone__position", "milestone_id", "position", "pk")
    if q:
        return matching(qs, OBJECTIVE_SEARCHED, Terms.parse(q)).order_by("-search_rank", *order)
    return qs.order_by(*order)


def step_list(*, organization: Organization, q: str = "", **filters: Any) -> QuerySet[ActionStep]:
    """Filters: plan, objective, assignee (ids), status, due_before/due_after (inclusive), and ``q``
    (the best matches first). Tree order."""
    lookups = {"due_before": "due_date__lte", "due_after": "due_date__gte", "status": "status"}
    qs = ActionStep.objects.filter(organization=organization).select_related("assignee__user")
    qs = qs.filter(**{lookups.get(name, f"{name}_id"): value for name, value in filters.items()})
    order = (
        "plan_id",
        "objective__milestone__position",
        "objective__milestone_id",
        "objective__position",
        "objective_id",
        "position",
        "pk",
    )
    if q:
        return matching(qs, STEP_SEARCHED, Terms.parse(q)).order_by("-search_rank", *order)
    return qs.order_by(*order)
