"""KPIs, their targets and measurements (recorded, corrected; imported from CSV in ``imports``), and
the key results a KPI measures following it. Every write records its audit event."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bizops.audit import display, field_changes
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.roles import can
from bizops.webhooks import emit
from planning.models import Objective, Plan, PlanStatus

from ..models import (
    KPI,
    Direction,
    Frequency,
    KeyResult,
    KPITarget,
    Measurement,
    Unit,
)
from ..rules import (
    check_thresholds,
    key_result_period,
    kpi_value_in,
    period_label,
    period_start,
)
from .common import (
    KPI_FIELDS,
    _decimal,
    _member_error,
    _require,
    _same_org,
    audit,
    created_fields,
)

# --- KPIs -------------------------------------------------------------------------------------------


def _clean_kpi(organization_id: int, fields: dict[str, Any], existing: KPI | None = None) -> dict[str, Any]:
    data = (
        {name: getattr(existing, name) for name in KPI_FIELDS}
        if existing
        else {"description": "", "currency": "", "owner": None, "unit": Unit.NUMBER}
    )
    data.update(fields)
    errors: dict[str, str] = {}
    data["name"] = (data.get("name") or "").strip()
    if not data["name"]:
        errors["name"] = "Give the KPI a name."
    elif len(data["name"]) > 200:
        errors["name"] = "Keep the name under 200 characters."
    data["description"] = (data.get("description") or "").strip()
    if data.get("unit") not in Unit.values:
        errors["unit"] = "Choose a unit."
    data["currency"] = (data.get("currency") or "").strip().upper()
    if data.get("unit") == Unit.CURRENCY and not (len(data["currency"]) == 3 and data["currency"].isalpha()):
        errors["currency"] = "Give the three-letter currency code, e.g. EUR."
    if data.get("unit") != Unit.CURRENCY:
        data["currency"] = ""
    if data.get("direction") not in Direction.values:
        errors["direction"] = "Choose a direction."
    if data.get("frequency") not in Frequency.values:
        errors["frequency"] = "Choose how often it is measured."
    for name in ("target",):
        data[name] = _decimal(data.get(name), name, errors)
    for name in ("target_upper", "amber_threshold", "red_threshold"):
        data[name] = _decimal(data.get(name), name, errors, required=False)
    if data.get("direction") != Direction.WITHIN:
        data["target_upper"] = None
    error = _member_error(organization_id, data.get("owner"))
    if error:
        errors["owner"] = error
    if not errors:
        errors.update(
            check_thresholds(
                data["direction"],
                data["target"],
                data["target_upper"],
                data["amber_threshold"],
                data["red_threshold"],
            )
        )
    if errors:
        raise ValidationError(errors)
    return {name: data[name] for name in KPI_FIELDS}


@transaction.atomic
def kpi_create(*, actor: Membership, objectives: list[Objective] | None = None, **fields: Any) -> KPI:
    _require(actor, "kpi_manage", "Managers, admins and owners define KPIs.")
    data = _clean_kpi(actor.organization_id, fields)
    if KPI.objects.filter(organization_id=actor.organization_id, name__iexact=data["name"]).exists():
        raise ValidationError({"name": "A KPI with this name exists already."})
    try:
        with transaction.atomic():
            kpi = KPI.objects.create(organization_id=actor.organization_id, **data)
    except IntegrityError:  # created at the same moment by someone else
        raise ValidationError({"name": "A KPI with this name exists already."}) from None
    audit(actor, kind="kpi", action="created", obj=kpi, changes=created_fields(data))
    if objectives:
        kpi_link_objectives(actor=actor, kpi=kpi, objectives=objectives)
    return kpi


@transaction.atomic
def kpi_update(*, actor: Membership, kpi: KPI, version: int | None, **fields: Any) -> KPI:
    _require(actor, "kpi_manage", "Managers, admins and owners change KPIs.")
    current = KPI.objects.select_for_update().get(pk=kpi.pk)
    if version is not None and int(version) != current.version:
        raise Conflict(
            "Someone else changed this KPI while you were editing it.", current_version=current.version
        )
    objectives = fields.pop("objectives", None)
    data = _clean_kpi(current.organization_id, fields, existing=current)
    duplicate = KPI.objects.filter(
        organization_id=current.organization_id, name__iexact=data["name"]
    ).exclude(pk=current.pk)
    if duplicate.exists():
        raise ValidationError({"name": "A KPI with this name exists already."})
    changes = field_changes(current, data)
    if changes:
        _require_not_approved(current, "change")
    if "unit" in changes and current.key_results.exists():
        raise ValidationError(
            {"unit": "Key results are measured by this KPI in its unit: unlink them before changing it."}
        )
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:  # renamed to the same name at the same moment by someone else
        raise ValidationError({"name": "A KPI with this name exists already."}) from None
    if changes:
        audit(actor, kind="kpi", action="updated", obj=current, changes=changes)
    if objectives is not None:
        kpi_link_objectives(actor=actor, kpi=current, objectives=objectives)
    return current


@transaction.atomic
def kpi_delete(*, actor: Membership, kpi: KPI, version: int | None = None) -> None:
    _require(actor, "kpi_manage", "Managers, admins and owners delete KPIs.")
    current = KPI.objects.select_for_update().filter(pk=kpi.pk, organization_id=actor.organization_id).first()
    if current is None:
        raise PermissionDenied("No such KPI in this organization.")
    if version is not None and int(version) != current.version:
        raise Conflict("Someone else changed this KPI since you loaded it.", current_version=current.version)
    _require_not_approved(current, "delete")
    audit(actor, kind="kpi", action="deleted", obj=current)
    current.delete()


def kpi_link_objectives(*, actor: Membership, kpi: KPI, objectives: list[Objective]) -> None:
    if any(o.organization_id != actor.organization_id for o in objectives):
        raise ValidationError({"objectives": "Choose objectives of this organization's plans."})
    linked = set(kpi.objectives.values_list("pk", flat=True))
    moved = linked.symmetric_difference(o.pk for o in objectives)
    if moved:
        _require_not_approved(kpi, "link", objective_ids=moved)
    before = list(kpi.objectives.values_list("plan_id", "title"))
    kpi.objectives.set(objectives)
    after = [(o.plan_id, o.title) for o in objectives]
    # One event per plan whose links changed, on that plan's trail: its Activity tab keeps the link
    # and the unlink even after the KPI has left it.
    for plan_id in sorted({p for p, _ in before} | {p for p, _ in after}):
        was = sorted(title for p, title in before if p == plan_id)
        now = sorted(title for p, title in after if p == plan_id)
        if was != now:
            audit(
                actor,
                kind="kpi",
                action="linked" if now else "unlinked",
                obj=kpi,
                plan_id=plan_id,
                changes={"objectives": [was, now]},
            )


def can_record(actor: Membership, kpi: KPI) -> bool:
    if kpi.organization_id != actor.organization_id:
        return False
    return can(actor.role, "kpi_manage") or (can(actor.role, "kpi_record") and kpi.owner_id == actor.pk)


@transaction.atomic
def measurement_record(
    *, actor: Membership, kpi: KPI, period: date, value: Any, note: str = ""
) -> Measurement:
    """Record the KPI's value for the period that contains ``period``; a second value for the same
    period corrects the first, which stays in the history. The key results the KPI measures follow
    in the same transaction."""
    if not can_record(actor, kpi):
        raise PermissionDenied("You can record values for the KPIs you own.")
    return _measurement_write(actor=actor, kpi=kpi, period=period, value=value, note=note)


def _measurement_write(*, actor: Membership, kpi: KPI, period: date, value: Any, note: str) -> Measurement:
    """``measurement_record`` without the recorder's check: a check-in on a key result the KPI
    measures records it too, by whoever may check in on that key result."""
    errors: dict[str, str] = {}
    number = _decimal(value, "value", errors)
    if period is None:
        errors["period"] = "Choose the period."
    elif period > timezone.localdate() + timedelta(days=366):
        errors["period"] = "That period is more than a year away."
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = "Keep the note under 2,000 characters."
    if errors:
        raise ValidationError(errors)
    assert number is not None  # _decimal (required) returns None only with an error
    start = period_start(kpi.frequency, period)
    # Lock the KPI row: two people correcting the same period at once both land, one after the other.
    KPI.objects.select_for_update().filter(pk=kpi.pk).first()
    previous = Measurement.objects.filter(kpi=kpi, period_start=start, is_current=True).first()
    before = _kpi_status_now(kpi)
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    measurement = Measurement.objects.create(
        organization_id=kpi.organization_id,
        kpi=kpi,
        period_start=start,
        value=number,
        note=note,
        recorded_by=actor.user,
        corrects=previous,
    )
    audit(
        actor,
        kind="measurement",
        action="corrected" if previous is not None else "recorded",
        obj=measurement,
        object_id=kpi.pk,
        title=f"{kpi.name}, {period_label(kpi.frequency, start)}",
        changes={"value": [display(previous.value) if previous else None, display(number)]},
        comment=note,
    )
    _key_results_follow(kpi)
    after = _kpi_status_now(kpi)
    if after.key != before.key:
        data = {
            "kpi": {"id": kpi.pk, "name": kpi.name},
            "from": before.key,
            "to": after.key,
            "reason": after.reason,
            "value": str(measurement.value),
            "period": start.isoformat(),
        }
        emit(organization=actor.organization, event="kpi.status_changed", data=data)
    return measurement


def _kpi_status_now(kpi: KPI):
    """The KPI's status from its latest current value (what the list and the dashboards show)."""
    from ..selectors import status_of

    latest = Measurement.objects.filter(kpi=kpi, is_current=True).order_by("-period_start").first()
    if latest is None:
        return status_of(kpi, None, kpi.target)
    target = (
        kpi.period_targets.filter(period_start=latest.period_start).values_list("target", flat=True).first()
    )
    return status_of(kpi, latest.value, kpi.target if target is None else target)


def _kpi_value_for(kpi: KPI, *, objective: Objective, plan: Plan, start: Decimal) -> Decimal:
    """A KPI-measured key result's value: the KPI's latest value in the key result's dates, its start
    while there is none (the KPI is the one source: whatever ``current`` was given is not kept)."""
    begin, end = key_result_period(
        objective.start_date, objective.due_date, plan.period_start, plan.period_end
    )
    series = Measurement.objects.filter(
        kpi=kpi, is_current=True, period_start__gte=period_start(kpi.frequency, begin), period_start__lte=end
    ).values_list("period_start", "value")
    found = kpi_value_in(series, kpi.frequency, begin, end)
    return start if found is None else found[1]


def _key_results_follow(kpi: KPI) -> None:
    """Move the key results ``kpi`` measures to its latest value in each one's dates. Closed plans
    keep their final values. The caller holds the KPI's lock: key results are locked after it, in
    id order, as a check-in on one of them does (KPI, then key result)."""
    key_results = list(
        KeyResult.objects.select_for_update(of=("self",))
        .filter(kpi=kpi)
        .exclude(plan__status=PlanStatus.CLOSED)
        .select_related("objective", "plan")
        .only(
            "current",
            "start",
            "version",
            "objective__start_date",
            "objective__due_date",
            "plan__period_start",
            "plan__period_end",
        )
        .order_by("pk")
    )
    if not key_results:
        return
    series = list(Measurement.objects.filter(kpi=kpi, is_current=True).values_list("period_start", "value"))
    changed = []
    for kr in key_results:
        begin, end = key_result_period(
            kr.objective.start_date, kr.objective.due_date, kr.plan.period_start, kr.plan.period_end
        )
        found = kpi_value_in(series, kpi.frequency, begin, end)
        value = kr.start if found is None else found[1]
        if kr.current != value:
            kr.current = value
            kr.version += 1
            changed.append(kr)
    if changed:
        KeyResult.objects.bulk_update(changed, ["current", "version"])


@transaction.atomic
def kpi_target_set(*, actor: Membership, kpi: KPI, period: date, target: Any) -> KPITarget | None:
    """A target for the period containing ``period`` (a ramp over the year); an empty target removes it."""
    _require(actor, "kpi_manage", "Managers, admins and owners set targets.")
    _same_org(actor, kpi)
    start = period_start(kpi.frequency, period)
    KPI.objects.select_for_update().filter(pk=kpi.pk).first()  # one target change at a time
    _require_not_approved(kpi, "target", period=start)
    existing = KPITarget.objects.filter(kpi=kpi, period_start=start).first()
    title = f"{kpi.name}, {period_label(kpi.frequency, start)}"
    if target in (None, ""):
        if existing is not None:
            audit(
                actor,
                kind="kpi_target",
                action="removed",
                obj=existing,
                object_id=kpi.pk,
                title=title,
                changes={"target": [display(existing.target), None]},
            )
            existing.delete()
        return None
    errors: dict[str, str] = {}
    number = _decimal(target, "target", errors)
    if errors:
        raise ValidationError(errors)
    before = existing.target if existing is not None else None
    result, _ = KPITarget.objects.update_or_create(
        kpi=kpi, period_start=start, defaults={"organization_id": kpi.organization_id, "target": number}
    )
    if before != number:
        audit(
            actor,
            kind="kpi_target",
            action="set",
            obj=result,
            object_id=kpi.pk,
            title=title,
            changes={"target": [display(before), display(number)]},
        )
    return result


# A KPI linked to a plan's objectives, or measuring its key results, is part of what the plan's
# approvers approved (``metrics.baselines``). While such a plan is in review or runs, what they approved
# changes only through an amendment of the plan.
APPROVED_CONTENT_STATUSES = (PlanStatus.IN_REVIEW, PlanStatus.APPROVED, PlanStatus.ACTIVE)


def _require_not_approved(
    kpi: KPI, what: str, *, objective_ids: set[int] | None = None, period: date | None = None
) -> None:
    """Refuse (409) a change to ``kpi`` that would change a reviewed or running plan's approved
    content: its fields, its links to that plan's objectives, or its target for a period of that plan."""
    plans = Plan.objects.filter(status__in=APPROVED_CONTENT_STATUSES)
    if objective_ids is not None:
        plans = plans.filter(objectives__pk__in=objective_ids)
    else:
        plans = plans.filter(Q(objectives__kpis=kpi) | Q(key_results__kpi=kpi))
    for plan in plans.distinct().order_by("title", "pk"):
        if period is not None and not (
            period_start(kpi.frequency, plan.period_start) <= period <= plan.period_end
        ):
            continue
        doing = {
            "change": "Its settings",
            "delete": "It",
            "link": "Its links to that plan's objectives",
            "target": f"Its target for {period_label(kpi.frequency, period) if period else 'that period'}",
        }[what]
        raise Conflict(
            f"“{kpi.name}” is part of the plan “{plan.title}”, which is "
            f"{plan.get_status_display().lower()}. {doing} can change through an amendment of that plan."
        )
