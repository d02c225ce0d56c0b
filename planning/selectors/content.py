"""A plan's content as approvers approve it: the shape every snapshot (``baselines.snapshot``) and the
readiness check are built from, read as narrow rows.

The review page, a submission, an approval and the baseline diff each read the whole plan; for a
5,520-node plan, milestones and objectives as model instances with their owners, users and teams
took ~30 ms and the steps with their notes, statuses and recent completions ~35 ms, none of which a
snapshot holds. These rows carry exactly what it holds (``baselines.FIELDS``) and what readiness
checks, in three narrow queries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import ClassVar

from ..models import ActionStep, Milestone, Objective, Plan
from .trees import ContentTree, PlanTree


class ContentRow:
    """A node read as a row: ``COLUMNS`` are queried with ``values_list`` and set, in that order, as
    ``ATTRS``; a person comes as ``<field>_name`` (None without one). Read-only."""

    __slots__ = ()
    id: int
    title: str
    position: int
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    ATTRS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, row: tuple) -> None:
        for name, value in zip(self.ATTRS, row, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}: {self.title}>"


_NODE = ("id", "plan_id", "title", "position")


class MilestoneRow(ContentRow):
    id: int
    plan_id: int
    title: str
    position: int
    description: str
    target_date: date | None
    weight: int
    owner_id: int | None
    owner_name: str | None
    plan: Plan
    children: list[ObjectiveRow]
    COLUMNS = (*_NODE, "description", "target_date", "weight", "owner_id", "owner__user__display_name")
    ATTRS = (*_NODE, "description", "target_date", "weight", "owner_id", "owner_name")
    __slots__ = (*ATTRS, "plan", "children")


class ObjectiveRow(ContentRow):
    id: int
    plan_id: int
    title: str
    position: int
    milestone_id: int
    why: str
    description: str
    start_date: date | None
    due_date: date | None
    weight: int
    owner_id: int | None
    team_id: int | None
    owner_name: str | None
    team_name: str | None
    plan: Plan
    children: list[StepContentRow]
    _OWN = ("milestone_id", "why", "description", "start_date", "due_date", "weight", "owner_id", "team_id")
    COLUMNS = (*_NODE, *_OWN, "owner__user__display_name", "team__name")
    ATTRS = (*_NODE, *_OWN, "owner_name", "team_name")
    __slots__ = (*ATTRS, "plan", "children")


class StepContentRow(ContentRow):
    id: int
    plan_id: int
    title: str
    position: int
    objective_id: int
    assignee_id: int | None
    due_date: date | None
    recurrence: str
    assignee_name: str | None
    assignee_email: str | None
    plan: Plan
    _OWN = ("objective_id", "assignee_id", "due_date", "recurrence")
    COLUMNS = (*_NODE, *_OWN, "assignee__user__display_name", "assignee__user__email")
    ATTRS = (*_NODE, *_OWN, "assignee_name", "assignee_email")
    __slots__ = (*ATTRS, "plan")

    def __init__(self, row: tuple) -> None:
        super().__init__(row)
        # As ``StepRow`` and ``Membership.display_name``: the display name, or the email when blank.
        self.assignee_name = (self.assignee_name or self.assignee_email or None) if self.assignee_id else None


def content_tree(*, plan: Plan, objective_ids: list[int] | None = None) -> ContentTree:
    """The plan's content in map order, no roll-up: milestones, objectives and steps as rows, each
    with ``.children``. Every snapshot that is compared or hashed is built from this one shape, so
    the same content gives the same digest. ``objective_ids`` reads only those objectives' branches
    (under their milestones): a ``partial`` tree, as a big plan's review page opens a milestone."""
    milestones_qs = Milestone.objects.filter(plan=plan)
    objectives_qs = Objective.objects.filter(plan=plan)
    steps_qs = ActionStep.objects.filter(plan=plan)
    if objective_ids is not None:
        milestones_qs = milestones_qs.filter(objectives__in=objective_ids).distinct()
        objectives_qs = objectives_qs.filter(pk__in=objective_ids)
        steps_qs = steps_qs.filter(objective_id__in=objective_ids)
    milestones = [
        MilestoneRow(row)
        for row in milestones_qs.order_by("position", "pk").values_list(*MilestoneRow.COLUMNS)
    ]
    objectives = [
        ObjectiveRow(row)
        for row in objectives_qs.order_by("position", "pk").values_list(*ObjectiveRow.COLUMNS)
    ]
    steps = [
        StepContentRow(row)
        for row in steps_qs.order_by("position", "pk").values_list(*StepContentRow.COLUMNS)
    ]
    by_objective: dict[int, list[StepContentRow]] = defaultdict(list)
    for step in steps:
        step.plan = plan
        by_objective[step.objective_id].append(step)
    by_milestone: dict[int, list[ObjectiveRow]] = defaultdict(list)
    for objective in objectives:
        objective.plan = plan
        objective.children = by_objective.get(objective.id, [])
        by_milestone[objective.milestone_id].append(objective)
    for milestone in milestones:
        milestone.plan = plan
        milestone.children = by_milestone.get(milestone.id, [])
    return PlanTree(
        plan=plan,
        milestones=milestones,
        objectives={o.id: o for o in objectives},
        steps={s.id: s for s in steps},
        partial=objective_ids is not None,
    )
