"""Reads of alignment: which team objectives serve which nodes of the plan above them.

``alignment_parts`` is planning's roll-up contributor (``MetricsConfig.ready``): the objectives of
approved plans that serve a tree's nodes, with their own figures, and what each objective of the tree
serves. ``alignment_options`` feeds the editor's picker; ``link_rows`` reads links for the snapshot,
the plan file and the API. The organization's view is ``alignment_view``.
"""

from __future__ import annotations

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from planning.models import Milestone, Objective, Plan, plan_runs
from planning.progress import NodeKey, Part
from planning.selectors import contributing_trees
from planning.services.plans import MAX_PLAN_DEPTH

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
class LinkRow:
    """One link as the roll-up (``_graph``), the snapshot, the plan file and the API read it."""

    source: int  # the serving objective
    source_title: str
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
    by_source: dict[int, LinkRow] = field(default_factory=dict)
    by_target: dict[NodeKey, list[LinkRow]] = field(default_factory=lambda: defaultdict(list))


# The graph read once per top-level read of trees: the reads it starts for the serving objectives
# (``contributing_trees``, whose contributors call ``alignment_parts`` again) reuse it.
_current_graph: ContextVar[_Graph | None] = ContextVar("alignment_graph", default=None)


def link_rows(contributions: QuerySet[Contribution]) -> list[LinkRow]:
    """The links of ``contributions`` as rows, with their objectives' and targets' titles and the
    targets' plans (one query, in the queryset's order)."""
    rows = (
        contributions.annotate(target_title=_coalesce("title"), target_plan_id=_coalesce("plan_id"))
        .annotate(target_plan_title=_coalesce("plan__title"))
        .values_list(
            "objective_id",
            "objective__title",
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
    for source, source_title, plan_id, status, approved, milestone, objective, key_result, *rest in rows:
        kr_objective, *rest = rest
        kind = "milestone" if milestone else "objective" if objective else "key_result"
        links.append(
            LinkRow(
                source,
                source_title,
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
    for link in link_rows(Contribution.objects.filter(organization_id__in=organization_ids)):
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
    found = link_rows(Contribution.objects.filter(objective=objective))
    if not found:
        return None
    link = found[0]
    return Link(link.kind, link.target, link.title, link.target_plan, link.target_plan_title, link.counts)
