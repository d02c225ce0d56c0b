"""The organization's alignment view: every running plan as one tree, filtered, with the team
objectives that serve nothing and the objectives nobody works on (``metrics.views.alignment``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.http import QueryDict
from django.urls import reverse

from bizops.models import Membership, Organization, Team
from planning.models import Milestone, Objective, Plan, running_q
from planning.progress import HEALTH, Figure, health
from planning.selectors import dashboard_trees
from planning.services.plans import MAX_PLAN_DEPTH
from planning.views.common import UrlFor


@dataclass
class AlignmentFilters:
    """The view's filters, read from its query string (a filtered view has its own URL). Ids outside
    the organization or malformed values are ignored, as an empty filter."""

    team: Team | None = None
    owner: Membership | None = None
    status: str = ""  # a health key (``planning.progress.HEALTH``)
    period: tuple[date, date] | None = None  # plans whose period overlaps it
    teams: list[Team] = field(default_factory=list)
    owners: list[Membership] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: QueryDict, *, organization: Organization) -> AlignmentFilters:
        teams = list(Team.objects.filter(organization=organization).order_by("name"))
        owners = list(
            Membership.objects.filter(organization=organization)
            .select_related("user")
            .order_by("user__email")
        )
        found = cls(teams=teams, owners=owners)
        found.team = next((t for t in teams if str(t.pk) == query.get("team", "")), None)
        found.owner = next((m for m in owners if str(m.pk) == query.get("owner", "")), None)
        found.status = query.get("status", "") if query.get("status", "") in HEALTH else ""
        start, _, end = query.get("period", "").partition("..")
        try:
            found.period = (date.fromisoformat(start), date.fromisoformat(end))
        except ValueError:
            found.period = None
        return found

    @property
    def active(self) -> bool:
        return bool(self.team or self.owner or self.status or self.period)

    @property
    def period_value(self) -> str:
        return f"{self.period[0].isoformat()}..{self.period[1].isoformat()}" if self.period else ""

    def matches(self, objective: Objective, health_key: str) -> bool:
        return (
            (self.team is None or objective.team_id == self.team.pk)
            and (self.owner is None or objective.owner_id == self.owner.pk)
            and (not self.status or health_key == self.status)
        )


@dataclass
class AlignedObjective:
    objective: Objective
    plan: Plan
    figure: Figure
    health: tuple[str, str, str]
    health_key: str
    url: str
    counted: bool = True  # in the node it serves
    via: str = ""  # the key result it serves, when it serves one
    served_by: list[AlignedObjective] = field(default_factory=list)
    shown: bool = True  # it or an objective under it passes the filters


@dataclass
class AlignedMilestone:
    milestone: Milestone
    figure: Figure
    objectives: list[AlignedObjective]
    served_by: list[AlignedObjective]


@dataclass
class AlignedPlan:
    plan: Plan
    figure: Figure
    url: str
    milestones: list[AlignedMilestone]
    serving_plans: list[Plan]


@dataclass
class AlignmentView:
    roots: list[AlignedPlan]
    serves_nothing: list[AlignedObjective]
    unserved: list[AlignedObjective]
    periods: list[tuple[date, date]]
    plan_count: int


def alignment_map(*, organization: Organization, filters: AlignmentFilters, today: date) -> AlignmentView:
    """Every running plan of the organization as one tree: each plan that serves no running plan at
    the top, and under every milestone and objective the team objectives that serve it (and theirs,
    down the plans). Beside it: team objectives that serve nothing, and objectives of the plans
    others serve (and of the top plans) that nothing serves.

    A fixed number of queries whatever the number of plans and nodes (for a fixed depth of plans):
    the plans, their trees with figures (``dashboard_trees``; its contributors read the links), the
    people and teams for the filters.
    """
    running = Plan.objects.filter(running_q(""), organization=organization).order_by("-period_start", "title")
    periods = sorted(set(running.values_list("period_start", "period_end")), reverse=True)
    if filters.period:
        running = running.filter(period_start__lte=filters.period[1], period_end__gte=filters.period[0])
    plans = list(running)
    trees = dashboard_trees(plans=plans, today=today)
    by_id = {plan.pk: plan for plan in plans}
    objective_url = {
        plan.pk: UrlFor("planning:node_detail", organization.slug, plan.pk, "objective") for plan in plans
    }
    aligned: dict[int, AlignedObjective] = {}
    for tree in trees:
        assert tree.progress is not None  # dashboard_trees computes the roll-up
        for objective in tree.objectives.values():
            figure = tree.progress.objectives[objective.pk]
            key = health(figure, objective.start_date, objective.due_date, today)
            aligned[objective.pk] = AlignedObjective(
                objective, tree.plan, figure, HEALTH[key], key, objective_url[tree.plan.pk](objective.pk)
            )

    def serving(figure: Figure) -> list[AlignedObjective]:
        found = []
        for part in (*figure.parts, *figure.aside):
            child = aligned.get(part.node_id) if part.kind == "contribution" and part.node_id else None
            if child is not None:
                child.counted = part.counted
                child.via = part.detail.partition("via key result ")[2]
                found.append(child)
        return found

    for item in aligned.values():
        item.served_by = serving(item.figure)
    has_children = {plan.parent_id for plan in plans if plan.parent_id in by_id}
    roots = []
    for tree in trees:
        plan = tree.plan
        if plan.parent_id in by_id:
            continue
        assert tree.progress is not None
        milestones = [
            AlignedMilestone(
                m,
                tree.progress.milestones[m.pk],
                [aligned[o.pk] for o in m.children],
                serving(tree.progress.milestones[m.pk]),
            )
            for m in tree.milestones
        ]
        serving_plans = [p for p in plans if p.parent_id == plan.pk]
        url = reverse("planning:plan_map", args=[organization.slug, plan.pk])
        roots.append(AlignedPlan(plan, tree.progress.plan, url, milestones, serving_plans))
    if filters.active:
        for root in roots:
            for milestone in root.milestones:
                for item in (*milestone.objectives, *milestone.served_by):
                    _filter(item, filters)
    serves_nothing = [
        item
        for item in aligned.values()
        if item.plan.parent_id is not None
        and not any(p.kind == "serves" for p in item.figure.aside)
        and filters.matches(item.objective, item.health_key)
    ]
    unserved = [
        item
        for item in aligned.values()
        if (item.plan.parent_id not in by_id or item.plan.pk in has_children)
        and not item.served_by
        and filters.matches(item.objective, item.health_key)
    ]
    return AlignmentView(roots, serves_nothing, unserved, periods, len(plans))


def _filter(item: AlignedObjective, filters: AlignmentFilters, depth: int = 0) -> bool:
    """Mark ``item`` shown when it or an objective serving it passes the filters."""
    below = [_filter(child, filters, depth + 1) for child in item.served_by if depth < MAX_PLAN_DEPTH]
    item.shown = filters.matches(item.objective, item.health_key) or any(below)
    return item.shown
