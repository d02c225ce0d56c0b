"""Writes to a plan's tree: create, edit, move and delete nodes; step status.

Field edits lock only the node's row and compare its ``version``, so two people editing different
nodes never conflict. Structural edits (create, move, delete) lock the plan row, so positions stay
dense and a move cannot race a delete of its new parent.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from bizops.audit import display, field_changes
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.webhooks import emit

from ..access import can_edit_plan, can_update_step, require_plan_edit
from ..models import ActionStep, Milestone, Objective, Plan, StepCompletion, StepStatus
from ..progress import occurrence_start
from .common import (
    ASSIGNEE_FIELDS,
    activity_record,
    clean_node_fields,
    plan_for_write,
    require_editable,
    require_not_closed,
)

Node = Milestone | Objective | ActionStep
N = TypeVar("N", bound=Node)  # one kind of node, or any of them


class StaleEdit(Conflict):
    """The node changed since the editor loaded it. Carries the current node and what differs."""

    current_version: int  # always given: the node's version now

    def __init__(self, node: Node | Plan, submitted: dict[str, Any]) -> None:
        self.node = node
        self.changed = {
            name: {"current": display(getattr(node, name)), "yours": display(value)}
            for name, value in submitted.items()
            if _comparable(getattr(node, name)) != _comparable(value)
        }
        super().__init__(
            f"Someone else saved this {_label(node)} while you were editing it.", current_version=node.version
        )


def _comparable(value: Any) -> Any:
    return getattr(value, "pk", value)


def _label(node: Node | Plan) -> str:
    return {"plan": "plan", "milestone": "milestone", "objective": "objective", "step": "action step"}[
        node.kind
    ]


def _lock_plan(plan: Plan) -> Plan:
    return plan_for_write(plan.pk)


def _lock_node(model: type[N], pk: int, *related: str) -> N:
    """The node re-read under its row lock (after its plan's: see ``plan_for_write``); a node
    deleted meanwhile is a 404, never a 500."""
    found = model.objects.select_for_update(of=("self",)).select_related(*related).filter(pk=pk).first()
    if found is None:
        raise Http404(f"No such {_label_of(model)}.")
    return cast(N, found)  # ``model``'s instance: mypy reads ``model.objects`` off the bound's union


def _label_of(model: type[N]) -> str:
    return {Milestone: "milestone", Objective: "objective", ActionStep: "action step"}[model]


def _next_position(queryset) -> int:
    current = queryset.aggregate(m=Max("position"))["m"]
    return 0 if current is None else current + 1


def _touch(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())


# --- Create -----------------------------------------------------------------------------------------


def _create(
    actor: Membership, plan: Plan, model: type[N], parent: dict[str, Any], fields: dict[str, Any]
) -> N:
    """Create a node at the end of its siblings: plan locked, rights and fields checked, logged."""
    plan = _lock_plan(plan)
    require_plan_edit(actor, plan)
    require_editable(plan)
    for parent_node in parent.values():
        # Deleted (or moved to another plan's copy) while this request waited for the plan's lock.
        _lock_node(type(parent_node), parent_node.pk)
        if parent_node.plan_id != plan.pk:
            raise ValidationError({parent_node.kind: "Choose a node of this plan."})
    fields = clean_node_fields(plan, model.kind, {"title": "", **fields})
    if model is ActionStep and fields.get("status") == StepStatus.DONE:
        fields["completed_at"] = timezone.now()
    node = model.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        position=_next_position(model.objects.filter(plan=plan, **parent)),
        **parent,
        **fields,
    )
    activity_record(plan=plan, actor=actor.user, verb="created", kind=model.kind, node=node)
    _touch(plan)
    return cast(N, node)  # ``model``'s instance, as in ``_lock_node``


@transaction.atomic
def milestone_create(*, actor: Membership, plan: Plan, **fields: Any) -> Milestone:
    return _create(actor, plan, Milestone, {}, fields)


@transaction.atomic
def objective_create(*, actor: Membership, milestone: Milestone, **fields: Any) -> Objective:
    return _create(actor, milestone.plan, Objective, {"milestone": milestone}, fields)


@transaction.atomic
def step_create(*, actor: Membership, objective: Objective, **fields: Any) -> ActionStep:
    return _create(actor, objective.plan, ActionStep, {"objective": objective}, fields)


# --- Edit -------------------------------------------------------------------------------------------


@transaction.atomic
def node_update(*, actor: Membership, node: N, version: int | None, **fields: Any) -> N:
    """Change a node's fields. ``version`` is what the editor saw; an older one raises ``StaleEdit``.

    ``version=None`` skips the check (API clients that send no precondition). The plan's status is
    read under its shared lock, so an edit racing a submit or a close lands before it or is refused.
    """
    plan = plan_for_write(node.plan_id, shared=True)
    model = type(node)
    current = _lock_node(model, node.pk, *_people(node.kind))
    current.plan = plan
    require_not_closed(plan)
    if isinstance(node, ActionStep) and not can_edit_plan(actor, plan):
        if not can_update_step(actor, cast(ActionStep, current), plan):  # ``node``'s kind
            raise _forbidden()
        if set(fields) - ASSIGNEE_FIELDS:
            raise ValidationError({"__all__": "You can change the status and notes of your own steps only."})
    else:
        require_plan_edit(actor, plan)
        # Step status and notes stay open while a plan runs; everything else needs a plan in writing.
        if not (isinstance(node, ActionStep) and set(fields) <= ASSIGNEE_FIELDS):
            require_editable(plan)
    cleaned = clean_node_fields(plan, node.kind, fields)
    if version is not None and int(version) != current.version:
        raise StaleEdit(current, cleaned)
    if current.kind == "objective":
        start = cleaned.get("start_date", cast(Objective, current).start_date)
        due = cleaned.get("due_date", cast(Objective, current).due_date)
        if start and due and start > due:
            raise ValidationError({"due_date": "The due date must come after the start date."})
    changes = field_changes(current, cleaned)
    if not changes:
        return current
    for name, value in cleaned.items():
        setattr(current, name, value)
    if isinstance(current, ActionStep) and "status" in changes:
        current.completed_at = timezone.now() if current.status == StepStatus.DONE else None
    current.version += 1
    current.updated_at = timezone.now()
    current.save()
    activity_record(
        plan=plan, actor=actor.user, verb="updated", kind=current.kind, node=current, changes=changes
    )
    if isinstance(current, ActionStep) and "status" in changes and current.status == StepStatus.DONE:
        _step_completed(plan, current, actor)
    return current


def _step_completed(plan: Plan, step: ActionStep, actor: Membership, period: str | None = None) -> None:
    data = {
        "step": {"id": step.pk, "title": step.title, "recurrence": step.recurrence, "period": period},
        "plan": {"id": plan.pk, "title": plan.title},
        "actor": actor.user.email,
    }
    emit(organization=actor.organization, event="step.completed", data=data)


def _people(kind: str) -> list[str]:
    return {"milestone": ["owner__user"], "objective": ["owner__user", "team"], "step": ["assignee__user"]}[
        kind
    ]


def _forbidden():
    from django.core.exceptions import PermissionDenied

    return PermissionDenied("You can update only the steps assigned to you.")


@transaction.atomic
def step_set_status(*, actor: Membership, step: ActionStep, status: str) -> ActionStep:
    """One-click status change. For a recurring step, "done" checks off the current day, week or
    month (once, however often it is clicked) and keeps the step's status: the step goes on, and
    "doing" or "blocked" still say how it goes. Any other status un-checks the period and is set."""
    if status not in StepStatus.values:
        raise ValidationError({"status": "Choose one of the statuses."})
    plan = plan_for_write(step.plan_id, shared=True)
    current = _lock_node(ActionStep, step.pk)
    current.plan = plan
    require_not_closed(plan)  # a 409 that says why, before the assignee check would say 403
    if not can_update_step(actor, current, plan):
        raise _forbidden()
    if not current.is_recurring:
        return node_update(actor=actor, node=current, version=None, status=status)
    period = occurrence_start(current.recurrence, timezone.localdate())
    if status == StepStatus.DONE:
        _, created = StepCompletion.objects.get_or_create(
            step=current,
            period_start=period,
            defaults={"organization_id": plan.organization_id, "done_by": actor.user},
        )
        if created:
            _step_completed(plan, current, actor, period.isoformat())
            changes = {"done for": [None, period.isoformat()]}
            activity_record(
                plan=plan, actor=actor.user, verb="checked off", kind="step", node=current, changes=changes
            )
        return current
    else:
        deleted, _ = StepCompletion.objects.filter(step=current, period_start=period).delete()
        if deleted:
            changes = {"done for": [period.isoformat(), None]}
            activity_record(
                plan=plan, actor=actor.user, verb="unchecked", kind="step", node=current, changes=changes
            )
        new_status = status
    if current.status != new_status:
        return node_update(actor=actor, node=current, version=None, status=new_status)
    return current


# --- Move and delete --------------------------------------------------------------------------------


def _siblings(node: Node):
    if isinstance(node, Milestone):
        return Milestone.objects.filter(plan_id=node.plan_id)
    if isinstance(node, Objective):
        return Objective.objects.filter(milestone_id=node.milestone_id)
    return ActionStep.objects.filter(objective_id=node.objective_id)


def _renumber(nodes: list[Node]) -> None:
    """Dense positions 0..n-1; a node whose position changes gets a new version (its ETag changes)."""
    changed: list[Any] = []  # siblings, all of one kind: their model's manager takes them
    for index, sibling in enumerate(nodes):
        if sibling.position != index:
            sibling.position = index
            sibling.version += 1
            changed.append(sibling)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position", "version"])


@transaction.atomic
def node_move(
    *,
    actor: Membership,
    node: Node,
    position: int | None = None,
    direction: str | None = None,
    parent: Any = None,
    version: int | None = None,
) -> Node:
    """Reorder a node among its siblings (``direction`` up/down or a ``position``), or move it under
    another ``parent`` of the same plan (an objective to another milestone, a step to another objective).

    With ``version``, a node changed since the caller saw it is not moved (``StaleEdit``): compared
    under the plan's lock, so of many moves sent with one ETag exactly one succeeds (a move that
    changes the node's place gives it a new version)."""
    plan = _lock_plan(node.plan)
    require_plan_edit(actor, plan)
    require_editable(plan)
    current = _lock_node(type(node), node.pk)
    current.plan = plan
    if version is not None and int(version) != current.version:
        raise StaleEdit(current, {})
    old_parent = None
    if parent is not None:
        parent_models: dict[str, type[Milestone] | type[Objective]] = {
            "objective": Milestone,
            "step": Objective,
        }
        parent_model = parent_models.get(current.kind)
        if parent_model is None or not isinstance(parent, parent_model):
            raise ValidationError({"parent": "A milestone sits directly under the plan's goal."})
        parent = _lock_node(parent_model, parent.pk)
        if parent.plan_id != plan.pk:
            raise ValidationError({"parent": "A node can only move within its own plan."})
        field = "milestone" if current.kind == "objective" else "objective"
        if getattr(current, f"{field}_id") != parent.pk:
            old_parent = getattr(current, f"{field}_id")
            setattr(current, field, parent)
            current.position = 10**6  # last, until renumbered
            current.version += 1
            current.save(update_fields=[field, "position", "version"])
    siblings = list(_siblings(current).order_by("position", "pk"))
    index = next(i for i, s in enumerate(siblings) if s.pk == current.pk)
    target = index
    if direction == "up":
        target = max(0, index - 1)
    elif direction == "down":
        target = min(len(siblings) - 1, index + 1)
    elif position is not None:
        target = max(0, min(len(siblings) - 1, int(position)))
    moved = siblings.pop(index)
    siblings.insert(target, moved)
    _renumber(siblings)
    if old_parent is not None:
        field = "milestone_id" if current.kind == "objective" else "objective_id"
        _renumber(list(type(current).objects.filter(**{field: old_parent}).order_by("position", "pk")))
    if target != index or old_parent is not None:
        changes = {"position": [index, target]}
        if old_parent is not None:
            changes["parent"] = [old_parent, parent.pk]
        activity_record(
            plan=plan, actor=actor.user, verb="moved", kind=current.kind, node=current, changes=changes
        )
        _touch(plan)
    current.refresh_from_db()
    current.plan = plan
    return current


@transaction.atomic
def node_delete(*, actor: Membership, node: Node, version: int | None = None) -> dict[str, int]:
    """Delete a node and everything under it; returns how many of each kind went.

    With ``version``, a node changed since the caller saw it is not deleted (``StaleEdit``). Counts
    and siblings come from the node as it is under the lock: a move committed while this request
    waited may have given it another parent, whose positions must close the gap."""
    plan = _lock_plan(node.plan)
    require_plan_edit(actor, plan)
    require_editable(plan)
    current = _lock_node(type(node), node.pk)
    if version is not None and int(version) != current.version:
        raise StaleEdit(current, {})
    removed = {"objectives": 0, "steps": 0}
    if isinstance(current, Milestone):
        removed["objectives"] = current.objectives.count()
        removed["steps"] = ActionStep.objects.filter(objective__milestone=current).count()
    elif isinstance(current, Objective):
        removed["steps"] = current.steps.count()
    siblings = _siblings(current)
    changes = {k: [v, 0] for k, v in removed.items() if v}
    activity_record(
        plan=plan, actor=actor.user, verb="deleted", kind=current.kind, node=current, changes=changes
    )
    type(current).objects.filter(pk=current.pk).delete()
    _renumber(list(siblings.order_by("position", "pk")))
    _touch(plan)
    return removed


def node_child_count(*, node: Node) -> int:
    """How many nodes a delete would take with it."""
    if isinstance(node, Milestone):
        return node.objectives.count() + ActionStep.objects.filter(objective__milestone=node).count()
    if isinstance(node, Objective):
        return node.steps.count()
    return 0
