"""Baselines: the whole tree as plain data, and the difference between two such snapshots.

A snapshot records what was approved: titles, dates, owners and weights, not execution state (a
step's status changes every day without changing the plan). Diffs key nodes by kind and id, so a
renamed node is a change, a node under a new parent is a move, and new ids are additions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .selectors import PlanTree

SNAPSHOT_VERSION = 1
PLAN_FIELDS = ["title", "ultimate_goal", "description", "period_start", "period_end", "owner"]
FIELDS = {
    "milestone": ["title", "description", "target_date", "owner", "weight"],
    "objective": ["title", "why", "description", "start_date", "due_date", "team", "owner", "weight"],
    "step": ["title", "notes", "assignee", "due_date", "recurrence"],
}
LABELS = {"milestone": "Milestone", "objective": "Objective", "step": "Action step"}


def _value(obj: Any, name: str) -> Any:
    if name in ("owner", "assignee"):
        member = getattr(obj, name)
        return member.user.display_name if member is not None else None
    if name == "team":
        return obj.team.name if obj.team_id else None
    value = getattr(obj, name)
    return value.isoformat() if hasattr(value, "isoformat") else value


def snapshot(tree: PlanTree) -> dict:
    """The tree as JSON-ready data, in map order."""
    nodes: list[dict] = []
    for m in tree.milestones:
        nodes.append(_node("milestone", m, None))
        for o in m.children:
            nodes.append(_node("objective", o, m.pk))
            for s in o.children:
                nodes.append(_node("step", s, o.pk))
    return {
        "version": SNAPSHOT_VERSION,
        "plan": {name: _value(tree.plan, name) for name in PLAN_FIELDS},
        "nodes": nodes,
    }


def _node(kind: str, obj: Any, parent: int | None) -> dict:
    return {
        "kind": kind,
        "id": obj.pk,
        "parent": parent,
        "position": obj.position,
        "fields": {name: _value(obj, name) for name in FIELDS[kind]},
    }


@dataclass
class NodeChange:
    change: str  # added, removed, moved, changed
    kind: str
    id: int
    title: str
    fields: dict[str, list[Any]] = field(default_factory=dict)
    detail: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)


@dataclass
class Diff:
    plan_fields: dict[str, list[Any]]
    changes: list[NodeChange]

    @property
    def is_empty(self) -> bool:
        return not self.plan_fields and not self.changes

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)


def diff(before: dict | None, after: dict) -> Diff:
    """What changed from ``before`` to ``after`` (both snapshots); no baseline means all is new."""
    before = before or {"plan": {}, "nodes": []}
    plan_fields = {
        name: [before["plan"].get(name), after["plan"].get(name)]
        for name in PLAN_FIELDS
        if before["plan"] and before["plan"].get(name) != after["plan"].get(name)
    }
    old = {(n["kind"], n["id"]): n for n in before["nodes"]}
    new = {(n["kind"], n["id"]): n for n in after["nodes"]}
    titles = {
        **{k: n["fields"]["title"] for k, n in old.items()},
        **{k: n["fields"]["title"] for k, n in new.items()},
    }
    changes: list[NodeChange] = []
    reordered = _reordered(before["nodes"], after["nodes"])
    for key, node in new.items():
        if key not in old:
            changes.append(NodeChange("added", node["kind"], node["id"], node["fields"]["title"]))
            continue
        previous = old[key]
        if previous["parent"] != node["parent"]:
            parent_kind = {"objective": "milestone", "step": "objective"}[node["kind"]]
            detail = (
                f"from “{titles.get((parent_kind, previous['parent']), '?')}” "
                f"to “{titles.get((parent_kind, node['parent']), '?')}”"
            )
            changes.append(
                NodeChange("moved", node["kind"], node["id"], node["fields"]["title"], detail=detail)
            )
        elif key in reordered:
            changes.append(
                NodeChange("moved", node["kind"], node["id"], node["fields"]["title"], detail="reordered")
            )
        fields = {
            name: [previous["fields"].get(name), value]
            for name, value in node["fields"].items()
            if previous["fields"].get(name) != value
        }
        if fields:
            changes.append(NodeChange("changed", node["kind"], node["id"], node["fields"]["title"], fields))
    for key, node in old.items():
        if key not in new:
            changes.append(NodeChange("removed", node["kind"], node["id"], node["fields"]["title"]))
    order = {"removed": 0, "added": 1, "moved": 2, "changed": 3}
    changes.sort(key=lambda c: (order[c.change], c.kind, c.title))
    return Diff(plan_fields, changes)


def _reordered(before: list[dict], after: list[dict]) -> set[tuple[str, int]]:
    """Nodes whose place among the siblings they kept changed (insertions alone move nothing)."""

    def siblings(nodes: list[dict]) -> dict[tuple[str, Any], list[tuple[str, int]]]:
        groups: dict[tuple[str, Any], list[tuple[str, int]]] = {}
        for n in sorted(nodes, key=lambda n: n["position"]):
            groups.setdefault((n["kind"], n["parent"]), []).append((n["kind"], n["id"]))
        return groups

    old_groups, new_groups = siblings(before), siblings(after)
    moved: set[tuple[str, int]] = set()
    for group, new_ids in new_groups.items():
        old_ids = old_groups.get(group, [])
        common = set(old_ids) & set(new_ids)
        old_order = [k for k in old_ids if k in common]
        new_order = [k for k in new_ids if k in common]
        moved.update(a for a, b in zip(old_order, new_order, strict=True) if a != b)
    return moved
