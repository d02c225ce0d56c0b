"""A plan's tree, read in a fixed number of queries whatever its size: milestones, objectives and
steps (as rows for read-only pages), with the roll-up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeAlias, TypeVar

from django.db.models import Case, CharField, Count, F, FilteredRelation, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from ..models import (
    ActionStep,
    Milestone,
    Objective,
    Plan,
    Recurrence,
    StepCompletion,
    StepStatus,
)
from ..progress import (
    Part,
    Rollup,
    StepTally,
    contributions,
    occurrence_start,
    rollup,
    step_part,
    window_floor,
)

if TYPE_CHECKING:
    from .content import MilestoneRow, ObjectiveRow, StepContentRow

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
# What read-only pages show of milestones and objectives (``display_tree`` and friends).
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
    # ``STEP_ROW_FIELDS``, set from the row in ``__init__``:
    id: int
    plan_id: int
    objective_id: int
    title: str
    notes: str
    assignee_id: int | None
    due_date: date | None
    recurrence: str
    status: str
    completed_at: datetime | None
    position: int
    version: int
    # Then the others (``_trees`` and the map's ``planning.views.tree.decorate_map``):
    assignee_name: str
    plan: Plan
    done_this_period: bool
    part: Part
    overdue: bool
    url: str

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


# A tree's nodes: model instances from the named reads (``display_tree``...) (its steps may be ``StepRow``s), or rows from
# ``content_tree`` (``planning.selectors.content``). Covariant: code that reads either kind takes an
# ``AnyPlanTree``; only the function that builds a tree changes it.
_M = TypeVar("_M", bound="Milestone | MilestoneRow", covariant=True)
_O = TypeVar("_O", bound="Objective | ObjectiveRow", covariant=True)
_S = TypeVar("_S", bound="ActionStep | StepRow | StepContentRow", covariant=True)


@dataclass
class PlanTree(Generic[_M, _O, _S]):
    plan: Plan
    milestones: list[_M]
    objectives: dict[int, _O] = field(default_factory=dict)
    steps: dict[int, _S] = field(default_factory=dict)
    completions: dict[int, set[date]] = field(default_factory=dict)
    progress: Rollup | None = None
    # ``step_tallies``: objective id -> its steps counted, not loaded (``steps`` is then empty).
    step_tallies: dict[int, StepTally] = field(default_factory=dict)
    # Only some objectives' branches were loaded (``objective_ids``): their figures are right, the
    # milestones' and the plan's are not.
    partial: bool = False
    # The day its figures are for, and how many plans down from the tree that asked for it (a team
    # plan's objectives read to show under the company's nodes: ``contributing_trees``).
    today: date | None = None
    depth: int = 0

    @property
    def node_count(self) -> int:
        return len(self.milestones) + len(self.objectives) + len(self.steps)


# What the named reads return, what ``content_tree`` returns, and either (for the roll-up, snapshots
# and readiness, which read both).
ModelTree: TypeAlias = "PlanTree[Milestone, Objective, ActionStep | StepRow]"
ContentTree: TypeAlias = "PlanTree[MilestoneRow, ObjectiveRow, StepContentRow]"
AnyPlanTree: TypeAlias = (
    "PlanTree[Milestone | MilestoneRow, Objective | ObjectiveRow, ActionStep | StepRow | StepContentRow]"
)


# --- The named reads: each page or service asks for the tree it needs ---------------------------------


def editing_tree(*, plan: Plan) -> ModelTree:
    """The plan as model instances with their people, no roll-up: the editor, the delegation after
    an approval, the plan file."""
    return _trees(plans=[plan], with_progress=False)[0]


def progress_tree(*, plan: Plan, today: date | None = None) -> ModelTree:
    """Model instances with the roll-up: the end-of-cycle scores, and services checking a figure."""
    return _trees(plans=[plan], today=today)[0]


def display_tree(
    *, plan: Plan, today: date | None = None, objective_ids: list[int] | None = None
) -> ModelTree:
    """The roll-up with the steps as read-only rows (``StepRow``): pages that show the tree and the
    tree API. ``objective_ids`` reads only those objectives' branches (a node's page): a ``partial``
    tree, whose milestones' and plan's figures are not whole."""
    return _trees(plans=[plan], today=today, step_rows=True, objective_ids=objective_ids)[0]


def map_tree(*, plan: Plan, steps_up_to: int, today: date | None = None) -> ModelTree:
    """The strategy map: as ``display_tree`` while the plan has at most ``steps_up_to`` steps; past
    that each objective's steps are counted (``step_count``, figures whole), not loaded: the map
    opens an objective's steps when asked."""
    return _trees(plans=[plan], today=today, step_rows=True, step_rows_up_to=steps_up_to)[0]


def dashboard_trees(*, plans: list[Plan], today: date | None = None) -> list[ModelTree]:
    """Figures only, for several plans at once: each objective's steps counted as the roll-up needs
    them (``StepTally``), no step loaded."""
    return _trees(plans=plans, today=today, step_tallies=True)


def contributing_trees(
    *, plans: list[Plan], objective_ids: list[int], today: date, depth: int
) -> list[ModelTree]:
    """The figures of the team objectives that serve another plan's nodes (``objective_ids``, in
    ``plans``), as ``dashboard_trees`` counts them: for the roll-up of the plan they serve. ``depth``:
    how far below the plan first read these are (each level adds the same few queries)."""
    return _trees(
        plans=plans, today=today, step_tallies=True, objective_ids=objective_ids, depth=depth, lean=True
    )


def _trees(
    *,
    plans: list[Plan],
    today: date | None = None,
    depth: int = 0,
    with_progress: bool = True,
    step_rows: bool = False,
    step_tallies: bool = False,
    step_rows_up_to: int | None = None,
    objective_ids: list[int] | None = None,
    lean: bool = False,
) -> list[ModelTree]:
    """The trees of several plans at once, in the same fixed number of queries as one (the named
    reads above choose these options; callers use those).

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
    ``lean`` (with ``objective_ids``, for ``contributing_trees``): figures and names only. Each
    objective is one instance with its team's and owner's names (``team_name``, ``owner_name``), not
    four (its team, membership and user), and its milestones are unsaved placeholders (id, plan,
    weight) rather than a query: a company map reads ~300 serving objectives in half the time.
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
    step_rows = step_rows or step_tallies
    if lean:
        objectives_qs = objectives_qs.only(*OBJECTIVE_READ_FIELDS, "owner").annotate(
            team_name=F("team__name"),
            owner_name=Coalesce(
                NullIf(F("owner__user__display_name"), Value("")),
                F("owner__user__email"),
                output_field=CharField(),
            ),
        )
    else:
        objectives_qs = objectives_qs.select_related("owner__user", "team")
    if step_rows and not lean:
        # Read-only pages: the owner's name, not their whole membership and user rows.
        milestones_qs = milestones_qs.only(*MILESTONE_READ_FIELDS, *OWNER_NAME_FIELDS)
        objectives_qs = objectives_qs.only(*OBJECTIVE_READ_FIELDS, *OWNER_NAME_FIELDS, "team__name")
    if step_rows_up_to is not None:
        # The stubs refuse to annotate a name the model declares; ``Objective.step_count`` is declared
        # (no field, nothing stored) for this very annotation.
        objectives_qs = objectives_qs.annotate(step_count=_count(ActionStep, "objective"))  # type: ignore[no-redef]
    objectives = list(objectives_qs.order_by("position", "pk"))
    if lean:  # placeholders: the figures of these objectives need their grouping, not their milestones
        milestones = [
            Milestone(pk=pk, plan_id=plan_id, weight=1)
            for pk, plan_id in sorted({(o.milestone_id, o.plan_id) for o in objectives})
        ]
    else:
        milestones = list(milestones_qs.order_by("position", "pk"))
    if step_rows_up_to is not None and sum(o.step_count for o in objectives) > step_rows_up_to:
        step_tallies = True
    completions: dict[int, set[date]] = defaultdict(set)
    tallies: dict[int, StepTally] = {}
    steps: list[ActionStep | StepRow]
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
        completion_rows = completions_qs.filter(
            step__recurrence__in=["daily", "weekly", "monthly"],
            period_start__gte=window_floor(today),
        ).values_list("step_id", "period_start")
        for step_id, period_start in completion_rows:
            completions[step_id].add(period_start)

    by_milestone: dict[int, list[Objective]] = defaultdict(list)
    for objective in objectives:
        objective.plan = by_id[objective.plan_id]
        by_milestone[objective.milestone_id].append(objective)
    by_objective: dict[int, list[ActionStep | StepRow]] = defaultdict(list)
    for step in steps:
        step.plan = by_id[step.plan_id]
        step.done_this_period = step.is_recurring and occurrence_start(
            step.recurrence, today
        ) in completions.get(step.pk, ())
        by_objective[step.objective_id].append(step)
    trees: dict[int, ModelTree] = {
        plan.pk: PlanTree(
            plan=plan,
            milestones=[],
            completions=completions,
            partial=objective_ids is not None,
            today=today,
            depth=depth,
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
