"""Reads of alignment: which team objectives serve which nodes of the plan above them.

``alignment_parts`` is planning's roll-up contributor (``MetricsConfig.ready``): the objectives of
running plans that serve a tree's nodes, with their own figures, and what each objective of the tree
serves. ``alignment_options`` feeds the editor's picker; ``alignment_map`` the organization's view.
"""

from __future__ import annotations

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from bizops.models import Membership, Organization, Team
from planning.models import Milestone, Objective, Plan, plan_runs, running_q
from planning.progress import HEALTH, Figure, NodeKey, Part, health
from planning.selectors import contributing_trees, dashboard_trees
from planning.services.plans import MAX_PLAN_DEPTH
from planning.views.common import UrlFor

from ..models import Contribution, KeyResult
from ..services.alignment import TARGET_KINDS, target_label

_TARGET_KIND_FIELDS = (
    ("milestone", "to_milestone"),
    ("objective", "to_objective"),
    ("key_result", "to_key_result"),
)


def _coalesce(suffix: str) -> Coalesce:
    return Coalesce(*(f"{name}__{suffix}" for _, name in _TARGET_KIND_FIELDS))


@dataclass(frozen=True)
class _Link:
    """One row of the organization's alignment graph (``_graph``)."""

    source: int  # the serving objective
    plan_id: int  # its plan
    approved: bool  # its plan was approved (running or closed since): only then does it count above
    kind: str  # what it serves: milestone, objective or key_result
    target: int  # that node's id
    target_objective: int | None  # the objective a key result belongs to
    title: str  # that node's title
    target_plan: int
    target_plan_title: str
    counts: bool

    @property
    def key(self) -> NodeKey:
        """Where it lands in the roll-up: a milestone, or an objective (a key result's, for one)."""
        if self.kind == "milestone":
            return ("milestone", self.target)
        return ("objective", self.target_objective if self.kind == "key_result" else self.target)  # type: ignore[return-value]


@dataclass
class _Graph:
    by_source: dict[int, _Link] = field(default_factory=dict)
    by_target: dict[NodeKey, list[_Link]] = field(default_factory=lambda: defaultdict(list))


# The graph read once per top-level read of trees: the reads it starts for the serving objectives
# (``contributing_trees``, whose contributors call ``alignment_parts`` again) reuse it.
_current_graph: ContextVar[_Graph | None] = ContextVar("alignment_graph", default=None)


def _links(contributions: QuerySet[Contribution]) -> list[_Link]:
    """The links of ``contributions`` as rows, with their targets' titles and plans (one query)."""
    rows = (
        contributions.annotate(target_title=_coalesce("title"), target_plan_id=_coalesce("plan_id"))
        .annotate(target_plan_title=_coalesce("plan__title"))
        .values_list(
            "objective_id",
            "objective__plan_id",
            "objective__plan__status",
            "objective__plan__first_approved_at",
            "to_milestone_id",
            "to_objective_id",
            "to_key_result_id",
            "to_key_result__objective_id",
            "target_title",
            "target_plan_id",
            "target_plan_title",
            "counts",
        )
    )
    links = []
    for source, plan_id, status, approved, milestone, objective, key_result, kr_objective, *rest in rows:
        kind = "milestone" if milestone else "objective" if objective else "key_result"
        links.append(
            _Link(
                source,
                plan_id,
                # Approved work counts, running or closed (a quarter's team plan still counts in the
                # year's company plan after it closes); a draft never approved does not.
                approved is not None or plan_runs(status, approved),
                kind,
                milestone or objective or key_result,
                kr_objective,
                *rest,
            )
        )
    return links


def _graph(organization_ids: set[int]) -> _Graph:
    """Every link of the organization, in one query: a few hundred rows for a company of 30 plans,
    where asking for the links of a 5,000-node plan's nodes by id took three times as long."""
    graph = _Graph()
    for link in _links(Contribution.objects.filter(organization_id__in=organization_ids)):
        graph.by_source[link.source] = link
        graph.by_target[link.key].append(link)
    return graph


def alignment_parts(trees: list) -> dict[NodeKey, list[Part]]:
    """Planning's contributor, in one query for the organization's links (and, when running plans
    serve these trees, their serving objectives' branches, read as ``contributing_trees`` in a fixed
    number more):

    - under each milestone or objective, each objective of a running plan that serves it (one that
      serves a key result, under the key result's objective), counted in its figure or shown beside
      it as its link says (``Part.counted``);
    - under each objective of these trees, what it serves (``kind="serves"``, never counted).
    """
    if not trees:
        return {}
    graph = _current_graph.get()
    if graph is not None:
        return _parts(trees, graph)
    graph = _graph({tree.plan.organization_id for tree in trees})
    token = _current_graph.set(graph)
    try:
        return _parts(trees, graph)
    finally:
        _current_graph.reset(token)


def _parts(trees: list, graph: _Graph) -> dict[NodeKey, list[Part]]:
    parts: dict[NodeKey, list[Part]] = defaultdict(list)
    if not graph.by_source:
        return parts
    keys: list[NodeKey] = [("objective", pk) for tree in trees for pk in tree.objectives]
    # A partial tree's milestones are not whole (``PlanTree.partial``): nothing is added to them.
    keys += [("milestone", m.pk) for tree in trees if not tree.partial for m in tree.milestones]
    for tree in trees:
        for pk in tree.objectives:
            link = graph.by_source.get(pk)
            if link is not None:
                kind = TARGET_KINDS[link.kind].capitalize()
                detail = f"{kind} of “{link.target_plan_title}”"
                parts["objective", pk].append(
                    Part(
                        link.title,
                        0.0,
                        0.0,
                        "serves",
                        link.target,
                        detail,
                        counted=False,
                        plan_id=link.target_plan,
                        node_kind=link.kind,
                    )
                )
    links = [link for key in keys for link in graph.by_target.get(key, ()) if link.approved]
    depth = max(tree.depth for tree in trees) + 1
    if not links or depth > MAX_PLAN_DEPTH:
        return parts
    plans = {plan.pk: plan for plan in Plan.objects.filter(pk__in={link.plan_id for link in links})}
    figures, objectives = {}, {}
    for tree in contributing_trees(
        plans=list(plans.values()),
        objective_ids=[link.source for link in links],
        today=trees[0].today or timezone.localdate(),
        depth=depth,
    ):
        assert tree.progress is not None  # read with its roll-up
        figures.update(tree.progress.objectives)
        objectives.update(tree.objectives)
    for link in links:
        served_by = objectives.get(link.source)
        if served_by is None:
            continue
        who = " · ".join(
            name
            for name in (
                # Read ``lean``: names annotated, not the team's and owner's rows.
                getattr(served_by, "team_name", None) or "",
                getattr(served_by, "owner_name", None) or "",
                f"“{plans[link.plan_id].title}”",
                f"via key result “{link.title}”" if link.kind == "key_result" else "",
            )
            if name
        )
        parts[link.key].append(
            Part(
                served_by.title,
                figures[link.source].value,
                1.0,
                "contribution",
                link.source,
                who,
                counted=link.counts,
                plan_id=link.plan_id,
                node_kind="objective",
            )
        )
    return parts


# --- The editor's picker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A node of the parent plan an objective may serve."""

    kind: str
    id: int
    title: str
    context: str  # where it sits: its milestone, or its objective for a key result

    @property
    def kind_label(self) -> str:
        return TARGET_KINDS[self.kind].capitalize()

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


PICKER_LIMIT = 30


def alignment_options(*, plan: Plan, query: str = "", limit: int = PICKER_LIMIT) -> list[Option]:
    """Milestones, objectives and key results of ``plan``'s parent whose title holds ``query``
    (all of them, up to ``limit`` of each kind, without one): three small queries, none without a parent."""
    if plan.parent_id is None:
        return []
    query = query.strip()[:200]
    match = Q(title__icontains=query) if query else Q()
    options = [
        Option("milestone", pk, title, "Milestone")
        for pk, title in Milestone.objects.filter(match, plan_id=plan.parent_id)
        .order_by("position", "pk")
        .values_list("pk", "title")[:limit]
    ]
    options += [
        Option("objective", pk, title, f"under “{milestone}”")
        for pk, title, milestone in Objective.objects.filter(match, plan_id=plan.parent_id)
        .order_by("milestone__position", "position", "pk")
        .values_list("pk", "title", "milestone__title")[:limit]
    ]
    options += [
        Option("key_result", pk, title, f"of “{objective}”")
        for pk, title, objective in KeyResult.objects.filter(match, plan_id=plan.parent_id)
        .order_by("objective__position", "position", "pk")
        .values_list("pk", "title", "objective__title")[:limit]
    ]
    return options


@dataclass
class Link:
    """An objective's current link, as its alignment page and the API show it."""

    kind: str
    id: int
    title: str
    plan_id: int
    plan_title: str
    counts: bool
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.label = target_label(self.kind, self.title, self.plan_title)


def objective_link(*, objective: Objective) -> Link | None:
    """What ``objective`` serves, in one query (None when nothing)."""
    found = _links(Contribution.objects.filter(objective=objective))
    if not found:
        return None
    link = found[0]
    return Link(link.kind, link.target, link.title, link.target_plan, link.target_plan_title, link.counts)


# --- The organization's alignment view ---------------------------------------------------------------


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
