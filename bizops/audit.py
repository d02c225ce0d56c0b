"""The one audit trail: every write service records what it did, in its own transaction.

``audit_record`` writes an ``AuditEvent``: who, when, which object (kind, id and name as it was), the
action, and the fields changed as ``{field: [before, after]}`` in a readable form (people by name,
dates as ISO text). Secrets never go in: an API token is recorded by its name and prefix, a webhook
secret's rotation by the fact alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from .models import AuditEvent, Membership, User


def display(value: Any) -> Any:
    """A JSON-friendly, human-readable form of a field value, for the audit trail and diffs."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, Membership):
        return value.user.display_name
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [display(v) for v in value]
    return str(value)


def _key(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def field_changes(instance: Any, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose new value differs from the instance's: ``{name: [before, after]}``."""
    changes: dict[str, list[Any]] = {}
    for name, new in fields.items():
        old = getattr(instance, name)
        if _key(old) != _key(new):
            changes[name] = [display(old), display(new)]
    return changes


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{name: [before, after]}`` for two dicts of already displayable values."""
    return {
        name: [display(before.get(name)), display(after.get(name))]
        for name in after
        if display(before.get(name)) != display(after.get(name))
    }


def _repr(obj: Any, title: str | None) -> str:
    if title is None:
        title = getattr(obj, "title", None) or getattr(obj, "name", None) or str(obj)
    return str(title)[:200]


def audit_record(
    *,
    organization_id: int,
    actor: User | Membership | None,
    kind: str,
    action: str,
    obj: Any = None,
    object_id: int | None = None,
    title: str | None = None,
    plan_id: int | None = None,
    changes: dict[str, list[Any]] | None = None,
    comment: str = "",
) -> AuditEvent:
    """Record one write. Call it inside the service's transaction, after the write succeeded."""
    user = actor.user if isinstance(actor, Membership) else actor
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=user,
        actor_name=(user.display_name or user.email)[:120] if user is not None else "",
        kind=kind,
        action=action,
        object_id=object_id if object_id is not None else getattr(obj, "pk", None),
        object_repr=_repr(obj, title) if obj is not None or title is not None else "",
        plan_id=plan_id,
        changes=changes or {},
        comment=comment,
    )
