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

from .models import KPI, KeyResult, KPITarget
from .rules import period_start, plain_number
from .services.common import KPI_FIELDS as SERVICE_KPI_FIELDS

KEY_RESULT_FIELDS = ("title", "kind", "start", "target", "direction", "weight", "owner", "kpi")
# A KPI as approved: its fields as the services write them, the plan's objectives it is linked to,
# and its targets for the plan's periods.
KPI_FIELDS = (*SERVICE_KPI_FIELDS, "objectives", "targets")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    return plain_number(value)


def _person(membership) -> str | None:
    return membership.user.display_name if membership is not None else None


def key_result_nodes(tree: PlanTree) -> list[dict]:
    # Rows, not instances: a big plan has thousands of key results (3,675 instances with their
    # owners and KPIs took ~80 ms; these rows a fraction of it).
    rows = (
        KeyResult.objects.filter(plan=tree.plan)
        .order_by("objective_id", "position", "pk")
        .values_list(
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


def kpi_nodes(tree: PlanTree) -> list[dict]:
    plan = tree.plan
    kpis = list(
        KPI.objects.filter(objectives__plan=plan)
        .distinct()
        .select_related("owner__user")
        .order_by("name", "pk")
    )
    if not kpis:
        return []
    links: dict[int, list[str]] = {}
    for kpi_id, title in (
        KPI.objects.filter(pk__in=[k.pk for k in kpis], objectives__plan=plan)
        .order_by("objectives__title")
        .values_list("pk", "objectives__title")
    ):
        links.setdefault(kpi_id, []).append(title)
    # Every period that overlaps the plan's: a quarter (or year) that began before the plan did counts.
    first = {kpi.pk: period_start(kpi.frequency, plan.period_start) for kpi in kpis}
    targets: dict[int, dict[str, str]] = {}
    for row in KPITarget.objects.filter(
        kpi__in=kpis, period_start__gte=min(first.values()), period_start__lte=plan.period_end
    ).order_by("period_start"):
        if row.period_start >= first[row.kpi_id]:
            targets.setdefault(row.kpi_id, {})[row.period_start.isoformat()] = _plain(row.target)
    nodes = []
    for kpi in kpis:
        fields = {name: _plain(getattr(kpi, name)) for name in SERVICE_KPI_FIELDS if name != "owner"}
        fields["owner"] = _person(kpi.owner)
        fields["objectives"] = links.get(kpi.pk, [])
        fields["targets"] = targets.get(kpi.pk, {})
        nodes.append(node_dict("kpi", kpi.pk, None, 0, fields))
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
# Records of what happens while a plan runs, owned by its nodes or KPIs, never approved.
NOT_APPROVED_MODELS = {
    "metrics.Measurement": "execution: the values a KPI took",
    "metrics.CheckIn": "execution: the updates people give",
}
