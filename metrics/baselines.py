"""What metrics adds to a plan's baseline: its key results and the KPIs linked to its objectives.

Registered with ``planning.baselines.register_snapshot_part`` in ``MetricsConfig.ready`` (planning
imports nothing from metrics). An approver approves a key result's target and weight and a linked
KPI's target and amber/red lines as much as an objective's title: an amendment that moves one shows
in the diff and needs a new approval.
"""

from __future__ import annotations

from typing import Any

from planning.baselines import SnapshotPart, node_dict
from planning.selectors import PlanTree

from .models import KPI, Contribution, KeyResult, KPITarget
from .rules import period_start, plain_number
from .selectors.alignment import link_rows
from .services.alignment import target_label
from .services.common import KPI_FIELDS as SERVICE_KPI_FIELDS

KEY_RESULT_FIELDS = ("title", "kind", "start", "target", "direction", "weight", "owner", "kpi")
# A KPI as approved: its fields as the services write them, the plan's objectives it is linked to,
# and its targets for the plan's periods.
KPI_FIELDS = (*SERVICE_KPI_FIELDS, "objectives", "targets")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    return plain_number(value)


def key_result_nodes(tree: PlanTree) -> list[dict]:
    # Rows, not instances: a big plan has thousands of key results (3,675 instances with their
    # owners and KPIs took ~80 ms; these rows a fraction of it).
    key_results = KeyResult.objects.filter(plan=tree.plan)
    if tree.partial:  # some objectives' branches only (a milestone opened on the review page)
        key_results = key_results.filter(objective_id__in=list(tree.objectives))
    rows = key_results.order_by("objective_id", "position", "pk").values_list(
        "pk",
        "objective_id",
        "position",
        "title",
        "kind",
        "start",
        "target",
        "direction",
        "weight",
        "owner__user__display_name",
        "kpi__name",
    )
    nodes = []
    for pk, objective_id, position, title, kind, start, target, direction, weight, owner, kpi in rows:
        fields = {
            "title": title,
            "kind": kind,
            "start": _plain(start),
            "target": _plain(target),
            "direction": direction,
            "weight": weight,
            "owner": owner,
            "kpi": kpi,
        }
        nodes.append(node_dict("key_result", pk, objective_id, position, fields))
    return nodes


KPI_OWN_FIELDS = [name for name in SERVICE_KPI_FIELDS if name != "owner"]


def kpi_nodes(tree: PlanTree) -> list[dict]:
    # Rows, not instances, as for key results: a big plan links ~160 KPIs with ~200 targets. One row
    # per link to an objective of this plan, so the query that finds the KPIs also names the links.
    plan = tree.plan
    kpis: list[tuple] = []
    links: dict[int, list[str]] = {}
    for *kpi, title in (
        KPI.objects.filter(objectives__plan=plan)
        .order_by("name", "pk", "objectives__title")
        .values_list("pk", "owner__user__display_name", *KPI_OWN_FIELDS, "objectives__title")
    ):
        if not kpis or kpis[-1][0] != kpi[0]:
            kpis.append(tuple(kpi))
        links.setdefault(kpi[0], []).append(title)
    if not kpis:
        return []
    ids = [row[0] for row in kpis]
    # Every period that overlaps the plan's: a quarter (or year) that began before the plan did counts.
    frequency = KPI_OWN_FIELDS.index("frequency") + 2
    first = {row[0]: period_start(row[frequency], plan.period_start) for row in kpis}
    targets: dict[int, dict[str, str]] = {}
    for kpi_id, start, target in (
        KPITarget.objects.filter(
            kpi_id__in=ids, period_start__gte=min(first.values()), period_start__lte=plan.period_end
        )
        .order_by("period_start")
        .values_list("kpi_id", "period_start", "target")
    ):
        if start >= first[kpi_id]:
            targets.setdefault(kpi_id, {})[start.isoformat()] = _plain(target)
    nodes = []
    for pk, owner, *values in kpis:
        fields = {name: _plain(value) for name, value in zip(KPI_OWN_FIELDS, values, strict=True)}
        fields["owner"] = owner
        fields["objectives"] = links.get(pk, [])
        fields["targets"] = targets.get(pk, {})
        nodes.append(node_dict("kpi", pk, None, 0, fields))
    return nodes


KEY_RESULTS = SnapshotPart(
    kind="key_result",
    label="Key result",
    parent_kind="objective",
    model="metrics.KeyResult",
    fields=KEY_RESULT_FIELDS,
    not_approved={
        "id": "identity",
        "organization": "the tenant",
        "plan": "identity",
        "objective": "the key result's parent (moves are diffed)",
        "current": "execution: check-ins move it",
        "position": "in every node's snapshot",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
    },
    build=key_result_nodes,
)
KPIS = SnapshotPart(
    kind="kpi",
    label="KPI",
    parent_kind=None,
    model="metrics.KPI",
    fields=KPI_FIELDS,
    not_approved={
        "id": "identity",
        "organization": "the tenant",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
    },
    build=kpi_nodes,
    other_models={
        # A KPI's targets for the plan's periods are frozen under the KPI's "targets".
        "metrics.KPITarget": {
            "id": "identity",
            "organization": "the tenant",
            "kpi": "the target's KPI",
            "period_start": "in the KPI's targets",
            "target": "in the KPI's targets",
        },
    },
)


def alignment_nodes(tree: PlanTree) -> list[dict]:
    """Each objective's link to the parent plan's node it serves, hung under the objective (keyed by
    the objective: re-pointing a link is a change, not a removal and an addition)."""
    links = Contribution.objects.filter(objective__plan=tree.plan)
    if tree.partial:
        links = links.filter(objective_id__in=list(tree.objectives))
    nodes = []
    for row in link_rows(links.order_by("objective_id")):
        serves = target_label(row.kind, row.title, row.target_plan_title)
        fields = {"title": row.source_title, "serves": serves, "counts": row.counts}
        nodes.append(node_dict("alignment", row.source, row.source, 0, fields))
    return nodes


ALIGNMENT = SnapshotPart(
    kind="alignment",
    label="Alignment",
    parent_kind="objective",
    model="metrics.Contribution",
    fields=("objective", "to_milestone", "to_objective", "to_key_result", "counts"),
    not_approved={
        "id": "identity (a link is keyed by its objective)",
        "organization": "the tenant",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    build=alignment_nodes,
    measures=False,
)
# Records of what happens while a plan runs, owned by its nodes or KPIs, never approved.
NOT_APPROVED_MODELS = {
    "metrics.Measurement": "execution: the values a KPI took",
    "metrics.CheckIn": "execution: the updates people give",
    "metrics.ProgressPoint": "execution: the figures the plan reached, day by day",
}
