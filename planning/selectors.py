"""Reads of the planning app. A whole plan loads in a fixed number of queries, whatever its size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Case, Count, FilteredRelation, Q, QuerySet, When
from django.utils import timezone

from bizops.models import AuditEvent, Membership, Organization
from bizops.roles import can

from .access import can_edit_plan
from .activity import activity_filter
from .models import (
    ActionStep,
    Approval,
    Baseline,
    Comment,
    Milestone,
    NodeKind,
    Objective,
    ObjectiveScore,
    Plan,
    PlanApprover,
    PlanStatus,
    PlanTransition,
    Recurrence,
    StepCompletion,
    StepQuerySet,
    StepStatus,
    Suggestion,
)
from .progress import (
    Rollup,
    StepTally,
    contributions,
    occurrence_start,
    rollup,
    step_part,
    window_floor,
)

if TYPE_CHECKING:
    from .baselines import Diff
    from .readiness import Readiness


# What ``StepRow`` reads of a step, in this order; the assignee's name and email follow, from a join.
STEP_ROW_FIELDS = (
    "id",
    "plan_id",
    "objective_id",
    "title",
    "notes",
    "assignee_id",
    "due_date",
    "recurrence",
    "status",
    "completed_at",
    "position",
    "version",
)
# What read-only pages show of milestones and objectives (``plan_trees(step_rows=True)``).
_NODE_READ_FIELDS = ("organization_id", "plan_id", "title", "description", "position", "version", "weight")
MILESTONE_READ_FIELDS = (*_NODE_READ_FIELDS, "target_date")
OBJECTIVE_READ_FIELDS = (*_NODE_READ_FIELDS, "milestone_id", "why", "start_date", "due_date", "team")
OWNER_NAME_FIELDS = ("owner", "owner__user", "owner__user__display_name", "owner__user__email")
_STATUS_LABELS = dict(StepStatus.choices)
_RECURRENCE_LABELS = dict(Recurrence.choices)


class StepRow:
    """An action step as a row: what the strategy map, the dashboards and the tree API read of it.

    Building 5,000 ``ActionStep`` instances with their assignees and users takes ~200 ms; these rows
    take ~10 ms. Read-only: whatever changes a step loads the model instead.
    """

    __slots__ = (*STEP_ROW_FIELDS, "assignee_name", "plan", "done_this_period", "part", "overdue", "url")

    def __init__(self, row: tuple) -> None:
        for name, value in zip(STEP_ROW_FIELDS, row, strict=False):
            setattr(self, name, value)
        # As ``Membership.display_name``: the user's display name, or their email when it is blank.
        self.assignee_name = (row[-2] or row[-1]) if self.assignee_id is not None else ""

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_recurring(self) -> bool:
        return self.recurrence != Recurrence.NONE

    def get_status_display(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    def get_recurrence_display(self) -> str:
        return _RECURRENCE_LABELS.get(self.recurrence, self.recurrence)


@dataclass
class PlanTree:
    plan: Plan
    milestones: list[Milestone]
    objectives: dict[int, Objective] = field(default_factory=dict)
    steps: dict[int, ActionStep] = field(default_factory=dict)
    completions: dict[int, set[date]] = field(default_factory=dict)
    progress: Rollup | None = None
    # ``step_tallies``: objective id -> its steps counted, not loaded (``steps`` is then empty).
    step_tallies: dict[int, StepTally] = field(default_factory=dict)
    # Only some objectives' branches were loaded (``objective_ids``): their figures are right, the
    # milestones' and the plan's are not.
    partial: bool = False

    @property
    def node_count(self) -> int:
        return len(self.milestones) + len(self.objectives) + len(self.steps)


def plan_tree(
    *,
    plan: Plan,
    today: date | None = None,
    with_progress: bool = True,
    step_rows: bool = False,
    step_rows_up_to: int | None = None,
    objective_ids: list[int] | None = None,
) -> PlanTree:
    """Milestones, objectives and steps of a plan, each with ``.children``, plus the roll-up."""
    return plan_trees(
        plans=[plan],
        today=today,
        with_progress=with_progress,
        step_rows=step_rows,
        step_rows_up_to=step_rows_up_to,
        objective_ids=objective_ids,
    )[0]


def content_tree(*, plan: Plan) -> PlanTree:
    """The plan's content as approvers approve it (``baselines.snapshot``) and readiness checks it:
    steps as rows (5,000 step instances with their people cost ~200 ms), no roll-up. Every snapshot
    that is compared or hashed is built from this one shape, so the same content gives the same digest."""
    return plan_tree(plan=plan, with_progress=False, step_rows=True)


def plan_trees(
    *,
    plans: list[Plan],
    today: date | None = None,
    with_progress: bool = True,
    step_rows: bool = False,
    step_tallies: bool = False,
    step_rows_up_to: int | None = None,
    objective_ids: list[int] | None = None,
) -> list[PlanTree]:
    """The trees of several plans at once, in the same fixed number of queries as one.

    One query per level (milestones, objectives, steps), one for recent completions of recurring
    steps (joined to the steps with ``step_rows``), and one per progress contributor (key results);
    people and teams come in by joins.
    Children lists are attached in Python instead of ``prefetch_related`` so a 5,000-node plan
    builds no per-node querysets. ``step_rows`` loads the steps as read-only ``StepRow``s, for the
    pages that only show them (steps are nine nodes in ten of a big plan). ``step_tallies`` (implies
    ``step_rows`` for the other levels) loads no steps at all, only what the roll-up needs of them,
    counted per objective (``StepTally``): for pages that show figures, not steps (dashboards).
    ``step_rows_up_to=N``: rows while the plans have at most N steps, tallies past that (a big
    plan's map, which loads each objective's steps when it is opened); each objective then carries
    its ``step_count``.
    ``objective_ids`` loads only those objectives' branches (under their milestones): a ``partial`` tree.
    """
    today = today or timezone.localdate()
    if not plans:
        return []
    by_id = {plan.pk: plan for plan in plans}
    ids = list(by_id)
    milestones_qs = Milestone.objects.filter(plan_id__in=ids)
    objectives_qs = Objective.objects.filter(plan_id__in=ids)
    steps_qs = ActionStep.objects.filter(plan_id__in=ids).order_by("position", "pk")
    completions_qs = StepCompletion.objects.filter(step__plan_id__in=ids)
    if objective_ids is not None:
        milestones_qs = milestones_qs.filter(objectives__in=objective_ids).distinct()
        objectives_qs = objectives_qs.filter(pk__in=objective_ids)
        steps_qs = steps_qs.filter(objective_id__in=objective_ids)
        completions_qs = completions_qs.filter(step__objective_id__in=objective_ids)
    milestones_qs = milestones_qs.select_related("owner__user")
    objectives_qs = objectives_qs.select_related("owner__user", "team")
    step_rows = step_rows or step_tallies
    if step_rows:
        # Read-only pages: the owner's name, not their whole membership and user rows.
        milestones_qs = milestones_qs.only(*MILESTONE_READ_FIELDS, *OWNER_NAME_FIELDS)
        objectives_qs = objectives_qs.only(*OBJECTIVE_READ_FIELDS, *OWNER_NAME_FIELDS, "team__name")
    if step_rows_up_to is not None:
        objectives_qs = objectives_qs.annotate(step_count=_count(ActionStep, "objective"))
    milestones = list(milestones_qs.order_by("position", "pk"))
    objectives = list(objectives_qs.order_by("position", "pk"))
    if step_rows_up_to is not None and sum(o.step_count for o in objectives) > step_rows_up_to:
        step_tallies = True
    completions: dict[int, set[date]] = defaultdict(set)
    tallies: dict[int, StepTally] = {}
    if step_tallies:
        steps = []
        tallies = _step_tallies(steps_qs, by_id, today)
    elif step_rows:
        # Recent completions come joined to their step (one row each, next to each other in the
        # order), which saves the completions query: a step done 7 times in the window is 7 rows.
        recent = FilteredRelation(
            "completions", condition=Q(completions__period_start__gte=window_floor(today))
        )
        rows = steps_qs.annotate(recent=recent).values_list(
            *STEP_ROW_FIELDS, "assignee__user__display_name", "assignee__user__email", "recent__period_start"
        )
        steps = []
        for row in rows:
            if not steps or steps[-1].id != row[0]:
                steps.append(StepRow(row[:-1]))
            if row[-1] is not None and steps[-1].is_recurring:
                completions[row[0]].add(row[-1])
    else:
        steps = list(steps_qs.select_related("assignee__user"))
    if not step_rows and any(step.is_recurring for step in steps):
        rows = completions_qs.filter(
            step__recurrence__in=["daily", "weekly", "monthly"],
            period_start__gte=window_floor(today),
        ).values_list("step_id", "period_start")
        for step_id, period_start in rows:
            completions[step_id].add(period_start)

    by_milestone: dict[int, list[Objective]] = defaultdict(list)
    for objective in objectives:
        objective.plan = by_id[objective.plan_id]
        by_milestone[objective.milestone_id].append(objective)
    by_objective: dict[int, list[ActionStep]] = defaultdict(list)
    for step in steps:
        step.plan = by_id[step.plan_id]
        step.done_this_period = step.is_recurring and occurrence_start(
            step.recurrence, today
        ) in completions.get(step.pk, ())
        by_objective[step.objective_id].append(step)
    trees = {
        plan.pk: PlanTree(
            plan=plan, milestones=[], completions=completions, partial=objective_ids is not None
        )
        for plan in plans
    }
    for objective in objectives:
        if objective.pk in tallies:
            trees[objective.plan_id].step_tallies[objective.pk] = tallies[objective.pk]
    for milestone in milestones:
        milestone.plan = by_id[milestone.plan_id]
        milestone.children = by_milestone.get(milestone.pk, [])
        trees[milestone.plan_id].milestones.append(milestone)
    for objective in objectives:
        objective.children = by_objective.get(objective.pk, [])
        trees[objective.plan_id].objectives[objective.pk] = objective
    for step in steps:
        trees[step.plan_id].steps[step.pk] = step
    result = [trees[plan.pk] for plan in plans]
    if with_progress:
        extra = contributions(result)
        for tree in result:
            tree.progress = rollup(tree, today, extra)
    return result


def _step_tallies(steps_qs: QuerySet, plans: dict[int, Plan], today: date) -> dict[int, StepTally]:
    """Each objective's steps as the roll-up counts them, from one narrow row per step (and per recent
    completion of a recurring one): no titles of one-off steps, no assignees, no step objects."""
    recent = FilteredRelation("completions", condition=Q(completions__period_start__gte=window_floor(today)))
    rows = (
        steps_qs.order_by()
        .annotate(recent=recent, recurring_title=Case(When(~Q(recurrence=Recurrence.NONE), then="title")))
        .values_list(
            "id", "plan_id", "objective_id", "recurrence", "status", "recurring_title", "recent__period_start"
        )
    )
    tallies: dict[int, StepTally] = defaultdict(StepTally)
    recurring: dict[int, tuple] = {}
    completions: dict[int, set[date]] = defaultdict(set)
    counted: set[int] = set()
    for step_id, plan_id, objective_id, recurrence, status, title, completed in rows:
        if recurrence == Recurrence.NONE:
            # A step made one-off after it recurred keeps its completions: one row each, one step.
            if step_id in counted:
                continue
            counted.add(step_id)
            tally = tallies[objective_id]
            if status == StepStatus.DONE:
                tally.done += 1
            else:
                tally.open += 1
            continue
        recurring[step_id] = (plan_id, objective_id, _RecurringStep(step_id, title, recurrence))
        if completed is not None:
            completions[step_id].add(completed)
    for step_id, (plan_id, objective_id, step) in recurring.items():
        plan = plans[plan_id]
        part = step_part(step, completions.get(step_id, ()), today, plan.period_start, plan.period_end)
        tallies[objective_id].recurring.append(part)
    return tallies


class _RecurringStep(NamedTuple):
    """What ``step_part`` reads of a recurring step."""

    pk: int
    title: str
    recurrence: str


def _count(model, parent: str = "plan"):
    """How many ``model`` rows point at the outer row through ``parent``, as a subquery (0 when none)."""
    from django.db.models import IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    counts = (
        model.objects.filter(**{parent: OuterRef("pk")})
        .order_by()
        .values(parent)
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


PERIOD_FILTERS = {
    "current": "Running now",
    "upcoming": "Upcoming",
    "past": "Past",
    "all": "All periods",
}


def plan_list(*, organization: Organization, status: str = "", period: str = "") -> QuerySet[Plan]:
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
    recurring = [s for s in steps if s.is_recurring]
    done_periods: set[tuple[int, date]] = set()
    if recurring:
        done_periods = set(
            StepCompletion.objects.filter(
                step__in=recurring, period_start__gte=today - timedelta(days=31)
            ).values_list("step_id", "period_start")
        )
    work = MyWork([], [], [], [], [])
    for step in steps:
        step.done_this_period = (
            step.is_recurring and (step.pk, occurrence_start(step.recurrence, today)) in done_periods
        )
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


NODE_MODELS = {NodeKind.MILESTONE: Milestone, NodeKind.OBJECTIVE: Objective, NodeKind.STEP: ActionStep}


def node_get(*, plan: Plan, kind: str, node_id) -> Milestone | Objective | ActionStep:
    """A node of this plan by kind and id; anything else (another plan, another org) is 404."""
    from django.http import Http404

    model = NODE_MODELS.get(kind)
    if model is None:
        raise Http404("No such kind of node.")
    related = {
        "milestone": ["owner__user"],
        "objective": ["owner__user", "team", "milestone"],
        "step": ["assignee__user", "objective"],
    }[kind]
    try:
        node = model.objects.select_related(*related).get(
            plan=plan, organization_id=plan.organization_id, pk=int(node_id)
        )
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such node in this plan.") from None
    node.plan = plan
    return node


# --- Review and delegation ----------------------------------------------------------------------------


def _waiting_for(membership_id, user_id, organization_id) -> QuerySet[Plan]:
    """Plans in review naming this member as an approver, undecided by them; ids or ``OuterRef``s."""
    from django.db.models import Exists, OuterRef

    from .models import Approval, PlanApprover

    named = PlanApprover.objects.filter(
        plan=OuterRef("pk"), round=OuterRef("review_round"), membership_id=membership_id
    )
    decided = Approval.objects.filter(
        plan=OuterRef("pk"), round=OuterRef("review_round"), approver_id=user_id
    )
    return (
        Plan.objects.filter(organization_id=organization_id, status=PlanStatus.IN_REVIEW)
        .filter(Exists(named))
        .exclude(Exists(decided))
    )


def review_queue(*, membership: Membership) -> QuerySet[Plan]:
    """Plans in review that name this member as an approver and still wait for their decision."""
    return (
        _waiting_for(membership.pk, membership.user_id, membership.organization_id)
        .select_related("submitted_by", "owner__user")
        .order_by("submitted_at", "pk")
    )


def review_queue_badge():
    """The review queue's length for the navigation, as a subquery of the membership row
    (``bizops.badges``; registered in ``planning/apps.py``)."""
    from django.db.models import OuterRef

    from bizops.badges import count_of

    return count_of(
        _waiting_for(OuterRef(OuterRef("pk")), OuterRef(OuterRef("user_id")), OuterRef("organization_id"))
    )


def review_state(*, plan: Plan) -> dict:
    """The current round: who was asked, who decided what, and the plan's history of moves."""
    from .models import Approval, PlanApprover, PlanTransition

    approvers = list(
        PlanApprover.objects.filter(plan=plan, round=plan.review_round).select_related("membership__user")
    )
    decisions = {
        a.approver_id: a
        for a in Approval.objects.filter(plan=plan, round=plan.review_round).select_related("approver")
    }
    for approver in approvers:
        approver.decision = decisions.get(approver.membership.user_id)
    transitions = list(
        PlanTransition.objects.filter(plan=plan).select_related("actor").order_by("-created_at", "-pk")[:50]
    )
    approved = sum(1 for d in decisions.values() if d.decision == "approved")
    return {
        "approvers": approvers,
        "decisions": decisions,
        "transitions": transitions,
        "approved_count": approved,
    }


@dataclass
class WorkloadRow:
    membership: Membership
    open: int = 0
    overdue: int = 0
    blocked: int = 0


def team_workload(*, organization: Organization, today: date | None = None) -> list[tuple]:
    """Per team, each member's open and blocked steps in plans that are not closed, and how many are
    overdue (``StepQuerySet.overdue``: a step of a plan still being written is never overdue)."""
    from bizops.models import Team

    today = today or timezone.localdate()
    counts = {
        row["assignee"]: row
        for row in ActionStep.objects.filter(
            organization=organization, assignee__isnull=False, recurrence="none"
        )
        .exclude(plan__status=PlanStatus.CLOSED)
        .open()
        .values("assignee")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=StepQuerySet.overdue_q(today)),
            blocked=Count("pk", filter=Q(status=StepStatus.BLOCKED)),
        )
    }
    teams = Team.objects.filter(organization=organization).prefetch_related("members__user").order_by("name")
    result = []
    for team in teams:
        rows = []
        for member in sorted(team.members.all(), key=lambda m: m.user.display_name):
            c = counts.get(member.pk, {})
            rows.append(WorkloadRow(member, c.get("open", 0), c.get("overdue", 0), c.get("blocked", 0)))
        result.append((team, rows))
    return result


# --- The node lists of the API ------------------------------------------------------------------------


def milestone_list(*, organization: Organization, **filters: int) -> QuerySet[Milestone]:
    """Filters: plan (id). In order within each plan."""
    qs = Milestone.objects.filter(organization=organization).select_related("owner__user")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    return qs.order_by("plan_id", "position", "pk")


def objective_list(*, organization: Organization, **filters: int) -> QuerySet[Objective]:
    """Filters: plan, milestone, team, owner (ids). In tree order within each plan."""
    qs = Objective.objects.filter(organization=organization).select_related("owner__user", "team")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    return qs.order_by("plan_id", "milestone__position", "milestone_id", "position", "pk")


def step_list(*, organization: Organization, **filters: Any) -> QuerySet[ActionStep]:
    """Filters: plan, objective, assignee (ids), status, due_before/due_after (inclusive). Tree order."""
    lookups = {"due_before": "due_date__lte", "due_after": "due_date__gte", "status": "status"}
    qs = ActionStep.objects.filter(organization=organization).select_related("assignee__user")
    qs = qs.filter(**{lookups.get(name, f"{name}_id"): value for name, value in filters.items()})
    return qs.order_by(
        "plan_id",
        "objective__milestone__position",
        "objective__milestone_id",
        "objective__position",
        "objective_id",
        "position",
        "pk",
    )


# --- The life cycle, read side ------------------------------------------------------------------------


def plan_actions_for(*, plan: Plan, membership: Membership) -> list[str]:
    """The life-cycle moves this member may make on the plan now, in the order of ``TRANSITIONS``.

    The same checks as ``planning.services`` (``transitions``, ``workflow``) (the plan's state, then who may), so that a
    client offers exactly the moves the services would accept; the services remain the authority.
    An approver who already decided this round has nothing left to decide (the service says 409).
    """
    # services import this module
    from .services.transitions import TRANSITIONS, allowed_actions
    from .services.workflow import solo_approval_open

    possible = allowed_actions(plan)
    editor = can_edit_plan(membership, plan)
    may = {
        "submit": editor,
        "revise": editor,
        "activate": editor,
        "close": editor,
        "start_amendment": editor,
        "withdraw": plan.submitted_by_id is not None and plan.submitted_by_id == membership.user_id,
    }
    if "approve_alone" in possible and editor and plan.organization.solo_approval:
        may["approve_alone"] = solo_approval_open(plan, membership)
    if possible & {"approve", "request_changes"}:
        this_round = {"plan": plan, "round": plan.review_round}
        deciding = (
            plan.submitted_by_id != membership.user_id
            and can(membership.role, "plan_approve")
            and PlanApprover.objects.filter(**this_round, membership=membership).exists()
            and not Approval.objects.filter(**this_round, approver_id=membership.user_id).exists()
        )
        may["approve"] = may["request_changes"] = deciding
    return [action for action in TRANSITIONS if action in possible and may.get(action, False)]


@dataclass
class PlanReview:
    """Everything the review of a plan shows, so that the decision is made on one page: is it ready,
    who decides, what changed since the last approval, and on a resubmission what changed since the
    approvers asked for changes."""

    plan: Plan
    tree: PlanTree
    readiness: Readiness
    approvers: list[PlanApprover]  # the current round's, each with ``.decision`` (an Approval or None)
    decisions: dict[int, Approval]  # user id -> this round's decision
    transitions: list[PlanTransition]
    approved_count: int
    approvals_required: int
    baseline: Baseline | None  # the latest
    diff: Diff | None  # against that baseline; None without one
    snapshot: dict  # the plan's content now (``baselines.snapshot``)
    digest: str  # its name: an approval sends it back (``plan_approve(seen=...)``)
    requested_round: int | None  # the last round whose approvers asked for changes, since approval
    requests: list[Approval]  # what they asked
    since_request: Diff | None  # what changed since that round was submitted
    since_submitted: Diff | None  # in review: what changed since this round was submitted (a KPI moved)

    @property
    def outline(self) -> dict[str, list[dict]]:
        """The content to approve as a tree (the whole map, before a first approval)."""
        from .baselines import outline

        return outline(self.snapshot)


def plan_review(*, plan: Plan, membership: Membership) -> PlanReview:
    """The review of a plan as ``membership`` sees it (``plan.allowed_actions`` is set for them).

    A fixed number of queries whatever the plan's size: the tree, its key results and KPIs (the
    snapshot), the latest baseline, the round, the submissions compared.
    """
    from .baselines import diff, digest, snapshot  # both import this module
    from .models import Submission
    from .readiness import plan_readiness

    tree = content_tree(plan=plan)
    now = snapshot(tree)
    latest = Baseline.objects.filter(plan=plan).order_by("-number").first()
    state = review_state(plan=plan)
    plan.allowed_actions = plan_actions_for(plan=plan, membership=membership)
    last_request = (
        Approval.objects.filter(plan=plan, decision=Approval.Decision.CHANGES_REQUESTED)
        .order_by("-round")
        .values_list("round", flat=True)
        .first()
    )
    if last_request is not None and latest is not None and last_request <= latest.round:
        last_request = None  # the plan was approved since: that request is history
    rounds = {r for r in (last_request, plan.review_round) if r}
    submissions = {s.round: s for s in Submission.objects.filter(plan=plan, round__in=rounds)}
    requested = submissions.get(last_request) if last_request else None
    this_round = submissions.get(plan.review_round) if plan.status == PlanStatus.IN_REVIEW else None
    name = digest(now)
    since_submitted = None
    if this_round is not None and this_round.digest != name:
        since_submitted = diff(this_round.snapshot, now)
    return PlanReview(
        plan=plan,
        tree=tree,
        readiness=plan_readiness(tree),
        approvers=state["approvers"],
        decisions=state["decisions"],
        transitions=state["transitions"],
        approved_count=state["approved_count"],
        approvals_required=membership.organization.approvals_required,
        baseline=latest,
        diff=diff(latest.snapshot, now) if latest is not None else None,
        snapshot=now,
        digest=name,
        requested_round=last_request,
        requests=list(
            Approval.objects.filter(
                plan=plan, round=last_request, decision=Approval.Decision.CHANGES_REQUESTED
            ).select_related("approver")
        )
        if last_request
        else [],
        since_request=diff(requested.snapshot, now) if requested is not None else None,
        since_submitted=since_submitted,
    )


def milestone_outline(*, plan: Plan, milestone: Milestone) -> dict:
    """One milestone of the content to approve, as ``PlanReview.outline`` has it (its objectives,
    each with its key results and steps): a big plan's review page opens its milestones one by one.
    Queries in proportion to the levels, not to the milestone's size."""
    from .baselines import outline, snapshot  # baselines imports this module

    objective_ids = list(milestone.objectives.values_list("pk", flat=True))
    if not objective_ids:
        return {"id": milestone.pk, "title": milestone.title, "children": {}}
    tree = plan_tree(plan=plan, with_progress=False, step_rows=True, objective_ids=objective_ids)
    return next(m for m in outline(snapshot(tree))["milestones"] if m["id"] == milestone.pk)


def plan_transition_list(*, plan: Plan) -> QuerySet[PlanTransition]:
    """The plan's audit trail of moves, newest first."""
    return PlanTransition.objects.filter(plan=plan).select_related("actor").order_by("-created_at", "-pk")


def baseline_list(*, plan: Plan) -> QuerySet[Baseline]:
    """The plan's baselines, newest first, without their snapshots (which can be large)."""
    return Baseline.objects.filter(plan=plan).defer("snapshot").order_by("-number")


def baseline_get(*, plan: Plan, number: int) -> Baseline:
    """The plan's baseline with this number, or 404 (the plan was already found in the caller's org)."""
    from django.http import Http404

    try:
        return Baseline.objects.get(plan=plan, organization_id=plan.organization_id, number=number)
    except Baseline.DoesNotExist:
        raise Http404("No such baseline of this plan.") from None


def objective_score_get(*, objective: Objective) -> ObjectiveScore | None:
    """The score the objective got at the close of its plan, if any."""
    return ObjectiveScore.objects.filter(objective=objective).select_related("scored_by").first()


def baseline_diff(*, plan: Plan, number: int, to: int | None = None) -> Diff:
    """How the plan changed from its baseline ``number`` to baseline ``to`` (None: the plan today)."""
    from .baselines import diff, snapshot

    before = baseline_get(plan=plan, number=number).snapshot
    if to is None:
        return diff(before, snapshot(content_tree(plan=plan)))
    return diff(before, baseline_get(plan=plan, number=to).snapshot)
