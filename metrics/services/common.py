"""What every metrics write shares: field lists, number parsing, the permission and tenancy checks."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied

from bizops.audit import audit_record, display
from bizops.models import Membership
from bizops.roles import can

KPI_FIELDS = [
    "name",
    "description",
    "unit",
    "currency",
    "direction",
    "target",
    "target_upper",
    "amber_threshold",
    "red_threshold",
    "frequency",
    "owner",
]
KEY_RESULT_FIELDS = ["title", "kind", "start", "target", "current", "direction", "weight", "owner", "kpi"]
MAX_VALUE = Decimal("1e13")


def _decimal(value: Any, field_name: str, errors: dict, *, required: bool = True) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors[field_name] = "Enter a number."
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors[field_name] = "Enter a number."
        return None
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        errors[field_name] = "Enter a number below 10 trillion."
        return None
    return number.quantize(Decimal("0.0001"))


def _member_error(organization_id: int, membership: Membership | None) -> str | None:
    if membership is not None and membership.organization_id != organization_id:
        return "Choose a member of this organization."
    return None


def _require(actor: Membership, action: str, message: str) -> None:
    if not can(actor.role, action):
        raise PermissionDenied(message)


def _same_org(actor: Membership, obj) -> None:
    """Services are the last line: an object of another organization is refused here too."""
    if obj.organization_id != actor.organization_id:
        raise PermissionDenied("That belongs to another organization.")


def audit(
    actor: Membership,
    *,
    kind: str,
    action: str,
    obj: Any,
    object_id: int | None = None,
    title: str | None = None,
    plan_id: int | None = None,
    changes: dict[str, list[Any]] | None = None,
    comment: str = "",
) -> None:
    """The audit event of a metrics write, in the caller's transaction (``bizops.audit``).

    A KPI's targets and measurements are recorded with the KPI's id as their object (the title names
    the period), so a plan's Activity tab finds every change to the KPIs linked to it.
    """
    audit_record(
        organization_id=obj.organization_id,
        actor=actor,
        kind=kind,
        action=action,
        obj=obj,
        object_id=object_id,
        title=title,
        plan_id=plan_id,
        changes=changes,
        comment=comment,
    )


def created_fields(data: dict[str, Any]) -> dict[str, list[Any]]:
    """What a new object was created with, as ``{field: [None, value]}`` (empty values left out)."""
    return {name: [None, display(value)] for name, value in data.items() if value not in (None, "")}
