"""Validation and the activity log, shared by the planning services."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import Http404

from bizops.audit import audit_record
from bizops.errors import Conflict, ValidationError
from bizops.models import AuditEvent, Membership, Team, User

from ..models import Plan, PlanStatus, Recurrence, StepStatus

NODE_FIELDS: dict[str, list[str]] = {
    "milestone": ["title", "description", "target_date", "owner", "weight"],
    "objective": ["title", "description", "why", "start_date", "due_date", "team", "owner", "weight"],
    "step": ["title", "notes", "assignee", "due_date", "recurrence", "status"],
}
# What a step's assignee may change without edit rights on the plan.
ASSIGNEE_FIELDS = frozenset({"status", "notes"})
PLAN_FIELDS = ["title", "ultimate_goal", "description", "period_start", "period_end", "owner", "parent"]
DATE_FIELDS = ("target_date", "start_date", "due_date")


def plan_for_write(plan_id: int, *, shared: bool = False) -> Plan:
    """The plan read again inside the caller's transaction, its row locked until the transaction ends.

    Every write that depends on the plan's state (its status, its period, its version) decides on
    this copy, never on one read before the transaction: a submit, approval or close locks the row
    for update, so a write waiting here sees the plan as the transition left it, and a transition
    waits for the writes in flight. ``shared`` takes ``FOR SHARE``: edits of different nodes and
    check-ins on one plan do not wait for each other, only for a transition or a structural edit
    (``FOR UPDATE``). Callers lock the plan before any node of it, so two writers never wait on
    each other's rows in opposite order (a deadlock). A plan deleted meanwhile is a 404.
    """
    if shared and connection.features.has_select_for_update:
        # Django's select_for_update has no shared mode; the columns are named, not ``*``, so a
        # prepared statement survives a migration that adds one.
        columns = ", ".join(connection.ops.quote_name(f.column) for f in Plan._meta.concrete_fields)
        table = connection.ops.quote_name(Plan._meta.db_table)
        found = list(Plan.objects.raw(f"SELECT {columns} FROM {table} WHERE id = %s FOR SHARE", [plan_id]))
    else:
        found = list(Plan.objects.select_for_update(of=("self",)).filter(pk=plan_id))
    if not found:
        raise Http404("No such plan.")
    return found[0]


def require_not_closed(plan: Plan) -> None:
    if plan.status == PlanStatus.CLOSED:
        raise Conflict("This plan is closed and can no longer change.")


def require_editable(plan: Plan) -> None:
    if not plan.is_editable:
        raise Conflict(
            f"This plan is {plan.get_status_display().lower()}, so its map is locked. "
            "Changes go through a new review."
        )


def clean_node_fields(plan: Plan, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Check a node's fields against the plan; raise ValidationError with a message per field."""
    allowed = NODE_FIELDS[kind]
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    cleaned = dict(fields)
    errors: dict[str, str] = {}
    if "title" in cleaned:
        cleaned["title"] = (cleaned["title"] or "").strip()
        if not cleaned["title"]:
            errors["title"] = "Give it a title."
        elif len(cleaned["title"]) > 200:
            errors["title"] = "Keep the title under 200 characters."
    for name in DATE_FIELDS:
        value = cleaned.get(name)
        if value is not None and not (plan.period_start <= value <= plan.period_end):
            errors[name] = f"Choose a date inside the plan's period ({_period(plan)})."
    start, due = cleaned.get("start_date"), cleaned.get("due_date")
    if start and due and start > due and "due_date" not in errors:
        errors["due_date"] = "The due date must come after the start date."
    for name in ("owner", "assignee"):
        if name in cleaned:
            error = member_error(plan, cleaned[name])
            if error:
                errors[name] = error
    if "team" in cleaned and cleaned["team"] is not None:
        team = cleaned["team"]
        if not isinstance(team, Team) or team.organization_id != plan.organization_id:
            errors["team"] = "Choose one of this organization's teams."
    if "weight" in cleaned:
        weight = cleaned["weight"]
        if weight is None or not (0 <= int(weight) <= 100):
            errors["weight"] = "The weight must be between 0 and 100."
    if "recurrence" in cleaned and cleaned["recurrence"] not in Recurrence.values:
        errors["recurrence"] = "Choose how often the step repeats."
    if "status" in cleaned and cleaned["status"] not in StepStatus.values:
        errors["status"] = "Choose one of the statuses."
    for name in ("description", "why", "notes"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if len(cleaned[name]) > 10_000:
                errors[name] = "Keep this under 10,000 characters."
    if errors:
        raise ValidationError(errors)
    return cleaned


def member_error(plan: Plan, membership: Membership | None) -> str | None:
    if membership is None:
        return None
    if not isinstance(membership, Membership) or membership.organization_id != plan.organization_id:
        return "Choose a member of this organization."
    return None


def _period(plan: Plan) -> str:
    return f"{plan.period_start:%-d %b %Y} – {plan.period_end:%-d %b %Y}"


def activity_record(
    *,
    plan: Plan,
    actor: User | None,
    verb: str,
    kind: str,
    node: Any,
    changes: dict | None = None,
    comment: str = "",
) -> AuditEvent:
    """The audit event of a write to the plan or a node of it (the plan's Activity tab reads these)."""
    return audit_record(
        organization_id=plan.organization_id,
        actor=actor,
        kind=kind,
        action=verb,
        obj=node,
        title=str(getattr(node, "title", node)),
        plan_id=plan.pk,
        changes=changes,
        comment=comment,
    )
