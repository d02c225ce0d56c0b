"""Baselines: the whole tree as plain data, and the difference between two such snapshots.

A snapshot records what was approved: titles, dates, owners and weights, not execution state (a
step's status changes every day without changing the plan). Diffs key nodes by kind and id, so a
renamed node is a change, a node under a new parent is a move, and new ids are additions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from .selectors import AnyPlanTree, ContentRow, PlanTree, StepRow

if TYPE_CHECKING:
    from .models import Milestone, Objective
    from .selectors.content import MilestoneRow, ObjectiveRow

# 2: key results and the KPIs linked to the plan's objectives are part of what is approved.
# 3: the plan it serves (``parent``) and its objectives' contributions to that plan's nodes.
SNAPSHOT_VERSION = 3
PLAN_FIELDS = ["title", "ultimate_goal", "description", "period_start", "period_end", "owner", "parent"]
FIELDS = {
    "milestone": ["title", "description", "target_date", "owner", "weight"],
    "objective": ["title", "why", "description", "start_date", "due_date", "team", "owner", "weight"],
    "step": ["title", "assignee", "due_date", "recurrence"],
}
# What a baseline leaves out on purpose, per model: execution state (a step's status changes every
# day without changing the plan), bookkeeping, and the workflow's own fields. Every concrete field of
# a model a plan owns is either in a snapshot or here (tests/planning/test_baseline_coverage.py), so
# a field added later cannot slip past approval unnoticed. ``position`` is in every node's snapshot.
NOT_APPROVED: dict[str, dict[str, str]] = {
    "planning.Plan": {
        "id": "identity",
        "organization": "the tenant never changes",
        "status": "the workflow's state, recorded by transitions",
        "version": "bookkeeping for concurrent edits",
        "cloned_from": "where the draft came from, not what it commits to",
        "review_round": "the workflow's state",
        "submitted_by": "the workflow's state",
        "submitted_at": "the workflow's state",
        "activated_at": "the workflow's state",
        "first_approved_at": "the workflow's state",
        "approved_alone": "the workflow's state",
        "closed_at": "the workflow's state",
        "created_by": "bookkeeping",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    "planning.Milestone": {
        "id": "identity",
        "organization": "the tenant",
        "plan": "identity",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    "planning.Objective": {
        "id": "identity",
        "organization": "the tenant",
        "plan": "identity",
        "milestone": "the node's parent (moves are diffed)",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    "planning.ActionStep": {
        "id": "identity",
        "organization": "the tenant",
        "plan": "identity",
        "objective": "the node's parent (moves are diffed)",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
        "status": "execution: assignees move it every day",
        "completed_at": "execution",
        "notes": "the assignee's working notes, kept up to date while the plan runs",
    },
}
# Whole models a plan owns that record what happens while it runs or is reviewed, not what is approved.
NOT_APPROVED_MODELS: dict[str, str] = {
    "planning.StepCompletion": "execution: a recurring step done for a day, week or month",
    "planning.Suggestion": "proposals; an accepted one becomes a node, which is in the snapshot",
    "planning.Comment": "conversation about the plan",
    "planning.PlanTransition": "the workflow's own record",
    "planning.PlanApprover": "who reviews a round, not what is reviewed",
    "planning.Approval": "the decisions themselves",
    "planning.Baseline": "the snapshots themselves",
    "planning.Submission": "the snapshots themselves",
    "planning.ObjectiveScore": "the reflection at the close of a cycle",
}


@dataclass(frozen=True)
class SnapshotPart:
    """Nodes another app adds to a plan's snapshot (planning imports none of them): ``build(tree)``
    returns node dicts like ``_node`` makes; ``fields`` are what it freezes, ``not_approved`` what it
    leaves out of ``model`` and why (both for the coverage test)."""

    kind: str
    label: str
    parent_kind: str | None
    model: str
    fields: tuple[str, ...]
    not_approved: dict[str, str]
    build: Callable[[PlanTree], list[dict]]
    other_models: dict[str, dict[str, str]] = field(default_factory=dict)
    # Hung under an objective, it measures it (a key result; ``measured_objectives``). An objective's
    # contribution to its parent plan hangs there too but measures nothing.
    measures: bool = True


_PARTS: list[SnapshotPart] = []
LABELS = {"milestone": "Milestone", "objective": "Objective", "step": "Action step"}
PARENT_KIND = {"objective": "milestone", "step": "objective"}
FIELD_LABELS = {
    "ultimate_goal": "Ultimate goal",
    "period_start": "Period start",
    "period_end": "Period end",
    "target_date": "Target date",
    "start_date": "Start date",
    "due_date": "Due date",
    "why": "Why it matters",
    "target_upper": "Upper target",
    "amber_threshold": "Amber line",
    "red_threshold": "Red line",
    "objectives": "Linked objectives",
    "targets": "Period targets",
    "kpi": "Measured by KPI",
    "parent": "Serves plan",
    "serves": "Serves",
    "counts": "Counts in its progress",
}


def register_snapshot_part(part: SnapshotPart) -> None:
    """Called from another app's ``ready()`` (see ``metrics/apps.py``); registering twice is harmless."""
    if any(p.kind == part.kind for p in _PARTS):
        return
    _PARTS.append(part)
    LABELS[part.kind] = part.label
    if part.parent_kind:
        PARENT_KIND[part.kind] = part.parent_kind


def snapshot_parts() -> list[SnapshotPart]:
    return list(_PARTS)


def shown(value: Any) -> Any:
    """A snapshot value as a page shows it: lists joined, period targets as "period: value"."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


# Model instances (the reference ``snapshot`` is held to) and ``StepRow``s; ``ContentRow``s, what
# snapshots are built from, carry the names themselves and take ``_row_node``.
def _person(obj: Any, name: str) -> str | None:
    member = getattr(obj, name)
    return member.user.display_name if member is not None else None


def _assignee(obj: Any, name: str) -> str | None:
    if isinstance(obj, StepRow):  # a step as a row carries its assignee's name
        return obj.assignee_name or None
    return _person(obj, name)


def _team(obj: Any, name: str) -> str | None:
    return obj.team.name if obj.team_id else None


def _parent(obj: Any, name: str) -> str | None:
    return obj.parent.title if obj.parent_id else None


_RELATED = {"owner": _person, "assignee": _assignee, "team": _team, "parent": _parent}


def _value(obj: Any, name: str) -> Any:
    # Called for every field of every node (~25,000 calls for a 5,520-node plan): a type check
    # instead of ``hasattr(value, "isoformat")``, which raises and catches inside for every string.
    related = _RELATED.get(name)
    if related is not None:
        return related(obj, name)
    value = getattr(obj, name)
    return value.isoformat() if isinstance(value, date) else value


def snapshot(tree: AnyPlanTree) -> dict:
    """The tree as JSON-ready data, in map order, then what other apps add (key results, KPIs)."""
    nodes: list[dict] = []
    m: Milestone | MilestoneRow
    o: Objective | ObjectiveRow
    if tree.milestones and isinstance(tree.milestones[0], ContentRow):
        # Rows (``selectors.content_tree``) carry each field under a plain name: read them directly.
        # The same values as ``_value`` reads off model instances (tests/planning/test_review_decides.py).
        m_attrs, o_attrs, s_attrs = (_row_attrs(kind) for kind in ("milestone", "objective", "step"))
        for m in cast("list[MilestoneRow]", tree.milestones):  # the first is a row: all are
            nodes.append(_row_node("milestone", m, None, m_attrs))
            for o in m.children:
                nodes.append(_row_node("objective", o, m.id, o_attrs))
                nodes.extend(_row_node("step", s, o.id, s_attrs) for s in o.children)
    else:
        for m in tree.milestones:
            nodes.append(_node("milestone", m, None))
            for o in m.children:
                nodes.append(_node("objective", o, m.pk))
                for s in o.children:
                    nodes.append(_node("step", s, o.pk))
    for part in _PARTS:
        nodes.extend(part.build(tree))
    return {
        "version": SNAPSHOT_VERSION,
        "plan": {name: _value(tree.plan, name) for name in PLAN_FIELDS},
        "nodes": nodes,
    }


def measured_objectives(snap: dict) -> set[int]:
    """The objectives a snapshot shows a measure under: a node another app hangs under an objective
    (a key result), as the roll-up's contributors count them (``progress.contributions``)."""
    kinds = {part.kind for part in _PARTS if part.parent_kind == "objective" and part.measures}
    return {node["parent"] for node in snap["nodes"] if node["kind"] in kinds}


def outline(snap: dict) -> dict[str, list[dict]]:
    """A snapshot as the tree it froze, for a page: milestones, each with its objectives, each with
    its key results and steps (``children`` by kind); the KPIs apart."""
    by_key: dict[tuple[str, int], dict] = {}
    roots: dict[str, list[dict]] = {"milestones": [], "kpis": []}
    for node in snap["nodes"]:
        item = {**node, "title": _title(node), "children": {}}
        by_key[node["kind"], node["id"]] = item
        parent = by_key.get((PARENT_KIND.get(node["kind"], ""), node["parent"]))
        if parent is not None:
            parent["children"].setdefault(node["kind"], []).append(item)
        elif node["kind"] == "milestone":
            roots["milestones"].append(item)
        elif node["kind"] == "kpi":
            roots["kpis"].append(item)
    return roots


def digest(snap: dict) -> str:
    """A short name for a snapshot's content: an approval names the content its approver saw."""
    text = json.dumps(snap, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _node(kind: str, obj: Any, parent: int | None) -> dict:
    return node_dict(kind, obj.pk, parent, obj.position, {name: _value(obj, name) for name in FIELDS[kind]})


def _row_attrs(kind: str) -> list[tuple[str, str]]:
    """(snapshot field, row attribute) for a kind: a person or team is the row's ``<field>_name``."""
    return [(name, f"{name}_name" if name in _RELATED else name) for name in FIELDS[kind]]


def _row_node(kind: str, row: ContentRow, parent: int | None, attrs: list[tuple[str, str]]) -> dict:
    fields = {}
    for name, attr in attrs:
        value = getattr(row, attr)
        fields[name] = value.isoformat() if isinstance(value, date) else value
    return {"kind": kind, "id": row.id, "parent": parent, "position": row.position, "fields": fields}


def node_dict(kind: str, pk: int, parent: int | None, position: int, fields: dict[str, Any]) -> dict:
    return {"kind": kind, "id": pk, "parent": parent, "position": position, "fields": fields}


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

    @property
    def field_rows(self) -> list[tuple[str, Any, Any]]:
        """(label, before, after) for each changed field, for pages."""
        return [
            (field_label(name), shown(before), shown(after)) for name, (before, after) in self.fields.items()
        ]


@dataclass
class Diff:
    plan_fields: dict[str, list[Any]]
    changes: list[NodeChange]

    @property
    def is_empty(self) -> bool:
        return not self.plan_fields and not self.changes

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    @property
    def plan_field_rows(self) -> list[tuple[str, Any, Any]]:
        return [(field_label(name), before, after) for name, (before, after) in self.plan_fields.items()]


def diff(before: dict | None, after: dict) -> Diff:
    """What changed from ``before`` to ``after`` (both snapshots); no baseline means all is new."""
    before = before or {"plan": {}, "nodes": []}
    plan_fields = {
        name: [before["plan"].get(name), after["plan"].get(name)]
        for name in PLAN_FIELDS
        if before["plan"] and before["plan"].get(name) != after["plan"].get(name)
    }
    # A 5,520-node plan against its baseline: ~9,000 pairs of nodes, nearly all unchanged, so each
    # pair is compared whole first, and titles are looked up only for the nodes that moved.
    old = {(n["kind"], n["id"]): n for n in before["nodes"]}
    new = {(n["kind"], n["id"]): n for n in after["nodes"]}

    def title_of(key: tuple[str, Any]) -> str:
        node = new.get(key) or old.get(key)
        return _title(node) if node is not None else "?"

    changes: list[NodeChange] = []
    reordered = _reordered(old, new)
    for key, node in new.items():
        previous = old.get(key)
        if previous is None:
            changes.append(NodeChange("added", node["kind"], node["id"], _title(node), detail=_serves(node)))
            continue
        if previous["parent"] != node["parent"]:
            parent_kind = PARENT_KIND.get(node["kind"], "")
            detail = (
                f"from “{title_of((parent_kind, previous['parent']))}” "
                f"to “{title_of((parent_kind, node['parent']))}”"
            )
            changes.append(NodeChange("moved", node["kind"], node["id"], _title(node), detail=detail))
        elif key in reordered:
            changes.append(NodeChange("moved", node["kind"], node["id"], _title(node), detail="reordered"))
        if previous["fields"] == node["fields"]:
            continue
        fields = {
            name: [previous["fields"].get(name), value]
            for name, value in node["fields"].items()
            if previous["fields"].get(name) != value
        }
        if fields:
            changes.append(NodeChange("changed", node["kind"], node["id"], _title(node), fields))
    for key, node in old.items():
        if key not in new:
            changes.append(
                NodeChange("removed", node["kind"], node["id"], _title(node), detail=_serves(node))
            )
    order = {"removed": 0, "added": 1, "moved": 2, "changed": 3}
    changes.sort(key=lambda c: (order[c.change], c.kind, c.title))
    return Diff(plan_fields, changes)


def _serves(node: dict) -> str:
    """What an objective's link to the parent plan (an ``alignment`` node) points at, said with it."""
    serves = node["fields"].get("serves")
    return f"serves {serves}" if serves else ""


def _title(node: dict) -> str:
    fields = node["fields"]
    return str(fields.get("title") or fields.get("name") or "")


def _reordered(old: dict[tuple[str, int], dict], new: dict[tuple[str, int], dict]) -> set[tuple[str, int]]:
    """Nodes whose place among the siblings they kept changed (insertions alone move nothing).

    Only sibling groups where a node kept its parent but not its position can have one: elsewhere
    the kept siblings sort the same way before and after."""
    suspects = {
        (node["kind"], node["parent"])
        for key, node in new.items()
        if (was := old.get(key)) is not None
        and was["parent"] == node["parent"]
        and was["position"] != node["position"]
    }
    if not suspects:
        return set()

    def siblings(nodes: Iterable[dict]) -> dict[tuple[str, Any], list[tuple[str, int]]]:
        groups: dict[tuple[str, Any], list[tuple[str, int]]] = {}
        for n in sorted(nodes, key=lambda n: n["position"]):
            group = (n["kind"], n["parent"])
            if group in suspects:
                groups.setdefault(group, []).append((n["kind"], n["id"]))
        return groups

    old_groups, new_groups = siblings(old.values()), siblings(new.values())
    moved: set[tuple[str, int]] = set()
    for group, new_ids in new_groups.items():
        old_ids = old_groups.get(group, [])
        common = set(old_ids) & set(new_ids)
        old_order = [k for k in old_ids if k in common]
        new_order = [k for k in new_ids if k in common]
        moved.update(a for a, b in zip(old_order, new_order, strict=True) if a != b)
    return moved
