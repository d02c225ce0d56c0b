"""Key results: defined on an objective of a plan being written or amended, each write audited on
the plan's trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from bizops.audit import field_changes
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from planning.access import can_edit_plan
from planning.models import Objective, Plan
from planning.services import plan_for_write

from ..models import (
    Direction,
    KeyResult,
    KeyResultKind,
)
from ..rules import (
    KPI_UNIT_OF_KIND,
)
from .common import (
    KEY_RESULT_FIELDS,
    _decimal,
    _member_error,
    _same_org,
    audit,
    created_fields,
)
from .kpis import _kpi_value_for

# --- Key results ------------------------------------------------------------------------------------


def _clean_key_result(
    plan: Plan, fields: dict[str, Any], existing: KeyResult | None = None
) -> dict[str, Any]:
    data = {name: getattr(existing, name) for name in KEY_RESULT_FIELDS} if existing else {}
    data.update(fields)
    errors: dict[str, str] = {}
    data["title"] = (data.get("title") or "").strip()
    if not data["title"]:
        errors["title"] = "Give the key result a title."
    elif len(data["title"]) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if data.get("kind") not in KeyResultKind.values:
        errors["kind"] = "Choose a kind."
    if data.get("direction") not in (Direction.INCREASE, Direction.DECREASE):
        errors["direction"] = "Choose increase or decrease."
    kind = data.get("kind")
    if kind == KeyResultKind.YES_NO:
        data.update(start=Decimal(0), target=Decimal(1), direction=Direction.INCREASE)
        data["current"] = (
            Decimal(1)
            if data.get("current") in (True, 1, "1", Decimal(1))
            else _decimal(data.get("current") or 0, "current", errors)
        )
    elif kind == KeyResultKind.MILESTONE:
        data.update(start=Decimal(0), target=Decimal(100), direction=Direction.INCREASE)
        data["current"] = _decimal(data.get("current") or 0, "current", errors)
    else:
        for name in ("start", "target"):
            data[name] = _decimal(data.get(name), name, errors)
        data["current"] = _decimal(
            data.get("current") if data.get("current") not in (None, "") else data.get("start"),
            "current",
            errors,
        )
        if "start" not in errors and "target" not in errors and data["start"] == data["target"]:
            errors["target"] = "The target must differ from the start."
        elif not errors:
            rising = data["target"] > data["start"]
            if rising != (data["direction"] == Direction.INCREASE):
                errors["direction"] = "The direction must match going from the start to the target."
        if kind == KeyResultKind.PERCENT and not errors and not (0 <= data["target"] <= 100):
            errors["target"] = "A percentage target lies between 0 and 100."
    weight = data.get("weight", 1)
    try:
        data["weight"] = int(weight)
        if not 0 <= data["weight"] <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["weight"] = "The weight must be between 0 and 100."
    error = _member_error(plan.organization_id, data.get("owner"))
    if error:
        errors["owner"] = error
    kpi = data.get("kpi")
    if kpi is not None:
        if kpi.organization_id != plan.organization_id:
            errors["kpi"] = "Choose a KPI of this organization."
        elif kind not in KPI_UNIT_OF_KIND:
            errors["kpi"] = "Only number, percent and currency key results can be measured by a KPI."
        elif KPI_UNIT_OF_KIND[kind] != kpi.unit:
            errors["kpi"] = (
                f"“{kpi.name}” is a {kpi.get_unit_display().lower()} KPI: a "
                f"{KeyResultKind(kind).label.lower()} key result needs a KPI of the same unit."
            )
    if errors:
        raise ValidationError(errors)
    return {name: data[name] for name in KEY_RESULT_FIELDS if name in data}


def _require_plan_writable(actor: Membership, plan: Plan) -> None:
    if not can_edit_plan(actor, plan):
        raise PermissionDenied("Only the plan's owner, managers and admins define key results.")
    if not plan.is_editable:
        raise Conflict(
            f"This plan is {plan.get_status_display().lower()}: its key results change through an amendment."
        )


@transaction.atomic
def key_result_create(*, actor: Membership, objective: Objective, **fields: Any) -> KeyResult:
    _same_org(actor, objective)
    plan = plan_for_write(objective.plan_id)
    if not Objective.objects.filter(pk=objective.pk).exists():
        raise Http404("No such objective.")  # deleted while this request waited for the plan
    _require_plan_writable(actor, plan)
    data = _clean_key_result(
        plan, {"kind": KeyResultKind.NUMBER, "direction": Direction.INCREASE, "start": 0, **fields}
    )
    if data.get("kpi") is not None:
        data["current"] = _kpi_value_for(data["kpi"], objective=objective, plan=plan, start=data["start"])
    position = KeyResult.objects.filter(objective=objective).count()
    key_result = KeyResult.objects.create(
        organization_id=plan.organization_id, plan=plan, objective=objective, position=position, **data
    )
    audit(
        actor,
        kind="key_result",
        action="created",
        obj=key_result,
        plan_id=plan.pk,
        changes=created_fields(data),
    )
    return key_result


def _lock_key_result(pk: int) -> KeyResult:
    """The key result under its row lock, taken after its plan's (``plan_for_write``); deleted
    meanwhile is a 404."""
    found = (
        KeyResult.objects.select_for_update(of=("self",))
        .select_related("objective", "kpi")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such key result.")
    return found


@transaction.atomic
def key_result_update(
    *, actor: Membership, key_result: KeyResult, version: int | None, **fields: Any
) -> KeyResult:
    plan = plan_for_write(key_result.plan_id, shared=True)
    current = _lock_key_result(key_result.pk)
    current.plan = plan
    _require_plan_writable(actor, plan)
    if version is not None and int(version) != current.version:
        raise Conflict(
            "Someone else changed this key result while you were editing it.", current_version=current.version
        )
    data = _clean_key_result(plan, fields, existing=current)
    if data.get("kpi") is not None:
        data["current"] = _kpi_value_for(
            data["kpi"], objective=current.objective, plan=plan, start=data["start"]
        )
    changes = field_changes(current, data)
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    current.save()
    if changes:
        audit(actor, kind="key_result", action="updated", obj=current, plan_id=plan.pk, changes=changes)
    return current


@transaction.atomic
def key_result_delete(*, actor: Membership, key_result: KeyResult, version: int | None = None) -> None:
    plan = plan_for_write(key_result.plan_id, shared=True)
    current = _lock_key_result(key_result.pk)
    _same_org(actor, current)
    _require_plan_writable(actor, plan)
    if version is not None and int(version) != current.version:
        raise Conflict(
            "Someone else changed this key result since you loaded it.", current_version=current.version
        )
    audit(actor, kind="key_result", action="deleted", obj=current, plan_id=plan.pk)
    current.delete()
