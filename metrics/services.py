"""Every write of the metrics app: KPIs and measurements, key results, check-ins, CSV import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.roles import can
from bizops.text import clean_text
from bizops.webhooks import emit
from planning.access import can_edit_plan, can_update_step
from planning.models import ActionStep, Objective, Plan, PlanStatus, StepStatus
from planning.services import plan_for_write, step_set_status

from .models import (
    KPI,
    CheckIn,
    Confidence,
    Direction,
    Frequency,
    KeyResult,
    KeyResultKind,
    KPITarget,
    Measurement,
    Unit,
)
from .rules import (
    KPI_UNIT_OF_KIND,
    check_thresholds,
    key_result_period,
    kpi_covers,
    kpi_value_in,
    period_label,
    period_start,
)

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


def _require(actor: Membership, action: str, message: str) -> None:
    if not can(actor.role, action):
        raise PermissionDenied(message)


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
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:  # renamed to the same name at the same moment by someone else
        raise ValidationError({"name": "A KPI with this name exists already."}) from None
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
    current.delete()


def kpi_link_objectives(*, actor: Membership, kpi: KPI, objectives: list[Objective]) -> None:
    if any(o.organization_id != actor.organization_id for o in objectives):
        raise ValidationError({"objectives": "Choose objectives of this organization's plans."})
    kpi.objectives.set(objectives)


def _same_org(actor: Membership, obj) -> None:
    """Services are the last line: an object of another organization is refused here too."""
    if obj.organization_id != actor.organization_id:
        raise PermissionDenied("That belongs to another organization.")


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
    elif period > timezone.localdate() + timezone.timedelta(days=366):
        errors["period"] = "That period is more than a year away."
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = "Keep the note under 2,000 characters."
    if errors:
        raise ValidationError(errors)
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
    from .selectors import status_of

    latest = Measurement.objects.filter(kpi=kpi, is_current=True).order_by("-period_start").first()
    if latest is None:
        return status_of(kpi, None, kpi.target)
    target = (
        kpi.period_targets.filter(period_start=latest.period_start).values_list("target", flat=True).first()
    )
    return status_of(kpi, latest.value, kpi.target if target is None else target)


@dataclass
class ImportResult:
    rows: int = 0
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
IMPORT_COLUMNS = ["kpi", "period", "value", "note"]


def measurements_import_csv(*, actor: Membership, content: bytes) -> ImportResult:
    """Import measurements from CSV (columns: kpi, period, value, note). Every row is checked first;
    if any row is wrong nothing is saved and the result lists each error with its line number."""
    _require(actor, "metrics_import", "Managers, admins and owners import measurements.")
    result = ImportResult()
    if len(content) > MAX_IMPORT_BYTES:
        result.errors.append((0, "The file is larger than 1 MB."))
        return result
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "The file is not UTF-8 text. Export it as CSV (UTF-8)."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("kpi", "period", "value") if c not in header]
    if missing:
        result.errors.append(
            (1, f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(IMPORT_COLUMNS)}.")
        )
        return result
    kpis = {k.name.lower(): k for k in KPI.objects.filter(organization_id=actor.organization_id)}
    parsed: list[tuple[KPI, date, str, str]] = []
    try:
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            result.rows += 1
            if result.rows > MAX_IMPORT_ROWS:
                result.errors.append((line, f"More than {MAX_IMPORT_ROWS} rows: split the file."))
                break
            kpi = kpis.get(row.get("kpi", "").lower())
            if kpi is None:
                result.errors.append((line, f"No KPI named “{row.get('kpi', '')}”."))
                continue
            try:
                day = date.fromisoformat(row.get("period", ""))
            except ValueError:
                result.errors.append((line, f"“{row.get('period', '')}” is not a date like 2027-03-01."))
                continue
            errors: dict[str, str] = {}
            _decimal(row.get("value"), "value", errors)
            if errors:
                result.errors.append((line, f"“{row.get('value', '')}” is not a number."))
                continue
            if not can_record(actor, kpi):
                result.errors.append((line, f"You cannot record values for “{kpi.name}”."))
                continue
            try:
                note = clean_text(row.get("note", ""), multiline=True)
            except ValidationError as exc:
                result.errors.append((line, f"note: {' '.join(exc.messages)}"))
                continue
            parsed.append((kpi, day, row.get("value", ""), note))
    except csv.Error as exc:
        result.errors.append((reader.line_num, f"The file is not valid CSV: {exc}."))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for kpi, day, value, note in parsed:
                measurement_record(actor=actor, kpi=kpi, period=day, value=value, note=note)
                result.saved += 1
    except ValidationError as exc:  # e.g. a period too far in the future: the whole file is refused
        result.saved = 0
        result.errors.append((0, " ".join(exc.messages)))
    return result


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
    return KeyResult.objects.create(
        organization_id=plan.organization_id, plan=plan, objective=objective, position=position, **data
    )


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
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    current.save()
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
    current.delete()


# --- Check-ins --------------------------------------------------------------------------------------


def can_check_in(actor: Membership, *, owner_id: int | None, team_id: int | None) -> bool:
    """People check in on what they own; managers on their teams' work; admins and owners on all."""
    if not can(actor.role, "check_in"):
        return False
    if actor.role in ("owner", "admin") or owner_id == actor.pk:
        return True
    if actor.role == "manager":
        if team_id is None:
            return True
        return actor.teams.filter(pk=team_id).exists() or actor.teams_led.filter(pk=team_id).exists()
    return False


def _check_confidence(confidence: str, note: str) -> str:
    errors = {}
    if confidence not in Confidence.values:
        errors["confidence"] = "Say how confident you are: on track, at risk or off track."
    note = (note or "").strip()
    if len(note) > 5000:
        errors["note"] = "Keep the note under 5,000 characters."
    if errors:
        raise ValidationError(errors)
    return note


def _require_running(plan_status: str) -> None:
    if plan_status == PlanStatus.CLOSED:
        raise Conflict("This plan is closed: check-ins are over.")


@transaction.atomic
def check_in_key_result(
    *, actor: Membership, key_result: KeyResult, value: Any, confidence: str, note: str = ""
) -> CheckIn:
    """A new value for a key result; its current value moves in the same transaction.

    The plan is locked shared first (``plan_for_write``), then the key result's row for update:
    check-ins on one plan do not wait for each other, but a plan being closed waits for them, and
    they for it.

    A key result measured by a KPI records the value as the KPI's measurement for the period that
    contains today (a correction when that period has one), by whoever may check in on the key
    result, and takes its value from the KPI: one value, one source. The KPI is locked before the
    key result, in the order a measurement locks them, so the two never wait on each other.
    """
    plan = plan_for_write(key_result.plan_id, shared=True)
    kpi = None
    if key_result.kpi_id is not None:
        kpi = KPI.objects.select_for_update().filter(pk=key_result.kpi_id).first()
    current = _lock_key_result(key_result.pk)
    _same_org(actor, current)
    owner_id = current.owner_id or current.objective.owner_id
    if not can_check_in(actor, owner_id=owner_id, team_id=current.objective.team_id):
        raise PermissionDenied("You check in on the key results you own.")
    _require_running(plan.status)
    if current.kpi_id != (kpi.pk if kpi else None):
        raise Conflict("Someone linked this key result to another KPI meanwhile: check in again.")
    note = _check_confidence(confidence, note)
    errors: dict[str, str] = {}
    number = _decimal(value, "value", errors)
    if number is not None and current.kind == KeyResultKind.YES_NO and number not in (0, 1):
        errors["value"] = "A yes/no key result is 0 (not yet) or 1 (done)."
    today = timezone.localdate()
    if kpi is not None and not errors:
        begin, end = key_result_period(
            current.objective.start_date, current.objective.due_date, plan.period_start, plan.period_end
        )
        if not kpi_covers(kpi.frequency, today, begin, end):
            errors["value"] = (
                f"This key result counts “{kpi.name}” from {begin:%-d %b %Y} to {end:%-d %b %Y}; "
                f"{period_label(kpi.frequency, period_start(kpi.frequency, today))} is outside those dates. "
                "Record past periods on the KPI's page."
            )
    if errors:
        raise ValidationError(errors)
    previous_value = current.current
    if kpi is not None:
        _measurement_write(
            actor=actor,
            kpi=kpi,
            period=today,
            value=number,
            note=f"Check-in on the key result “{current.title}”.",
        )
        # The measurement moved the key result (``_key_results_follow``): read what it wrote.
        current.refresh_from_db(fields=["current", "version"])
    else:
        current.current = number
    check_in = CheckIn.objects.create(
        organization_id=current.organization_id,
        plan_id=current.plan_id,
        target=CheckIn.Target.KEY_RESULT,
        key_result=current,
        value=number,
        previous_value=previous_value,
        confidence=confidence,
        note=note,
        author=actor.user,
    )
    _check_in_created(check_in, actor)
    current.version += 1
    current.save(update_fields=["current", "version"])
    return check_in


@transaction.atomic
def check_in_objective(
    *, actor: Membership, objective: Objective, confidence: str, note: str = ""
) -> CheckIn:
    _same_org(actor, objective)
    if not can_check_in(actor, owner_id=objective.owner_id, team_id=objective.team_id):
        raise PermissionDenied("You check in on the objectives you own.")
    # A close in progress finishes first (see check_in_key_result).
    _require_running(plan_for_write(objective.plan_id, shared=True).status)
    if not Objective.objects.filter(pk=objective.pk).exists():
        raise Http404("No such objective.")
    note = _check_confidence(confidence, note)
    check_in = CheckIn.objects.create(
        organization_id=objective.organization_id,
        plan_id=objective.plan_id,
        target=CheckIn.Target.OBJECTIVE,
        objective=objective,
        confidence=confidence,
        note=note,
        author=actor.user,
    )
    _check_in_created(check_in, actor)
    return check_in


@transaction.atomic
def check_in_step(
    *, actor: Membership, step: ActionStep, status: str, confidence: str, note: str = ""
) -> CheckIn:
    """Status and a note on a step; the step's status changes through planning's service."""
    _same_org(actor, step)
    plan = plan_for_write(step.plan_id, shared=True)
    if not can_update_step(actor, step, plan) and not can_edit_plan(actor, plan):
        raise PermissionDenied("You check in on the steps assigned to you.")
    _require_running(plan.status)
    if status not in StepStatus.values:
        raise ValidationError({"status": "Choose one of the statuses."})
    note = _check_confidence(confidence, note)
    step.plan = plan
    step_set_status(actor=actor, step=step, status=status)  # checks the assignee's rights
    check_in = CheckIn.objects.create(
        organization_id=step.organization_id,
        plan=plan,
        target=CheckIn.Target.STEP,
        step=step,
        step_status=status,
        confidence=confidence,
        note=note,
        author=actor.user,
    )
    _check_in_created(check_in, actor)
    return check_in


def _check_in_created(check_in: CheckIn, actor: Membership) -> None:
    target = check_in.key_result or check_in.objective or check_in.step
    data = {
        "check_in": {
            "id": check_in.pk,
            "on": check_in.target,
            "target_id": target.pk,
            "target_title": target.title,
            "value": str(check_in.value) if check_in.value is not None else None,
            "step_status": check_in.step_status or None,
            "confidence": check_in.confidence,
            "note": check_in.note,
        },
        "plan": {"id": check_in.plan_id},
        "author": actor.user.email,
    }
    emit(organization=actor.organization, event="check_in.created", data=data)


# --- One check-in: many items, one transaction -------------------------------------------------------


@dataclass(frozen=True)
class CheckInEntry:
    """One touched item of the check-in page: a key result (value, confidence, note), a KPI (value
    for the current period) or a step (status). ``key`` is the item's form prefix, e.g. "kr-12": its
    errors come back as "kr-12-value"; ``fields`` are the item's form fields, the first its main one
    (where an error about the whole item goes)."""

    key: str
    target: KeyResult | KPI | ActionStep
    fields: tuple[str, ...]
    value: Any = None
    confidence: str = ""
    note: str = ""
    status: str = ""


def _lock_order(entry: CheckInEntry) -> tuple[int, int, int]:
    """KPIs first, by id (a check-in on a key result a KPI measures locks that KPI), then key results,
    then steps: two check-ins of overlapping items take their locks in the same order."""
    target = entry.target
    if isinstance(target, KPI):
        return (0, target.pk, 0)
    if isinstance(target, KeyResult):
        return (0, target.kpi_id, target.pk) if target.kpi_id is not None else (1, target.pk, 0)
    return (2, target.pk, 0)


@transaction.atomic
def check_in_many(*, actor: Membership, entries: list[CheckInEntry]) -> list[CheckInEntry]:
    """Save every entry, or none: each goes through its own service (``check_in_key_result``,
    ``measurement_record`` for the period containing today, ``step_set_status``), and any refusal
    becomes that entry's field error; after trying them all, one error rolls the whole back.

    Every entry is tried, so the person sees all that is wrong at once; each service runs in its own
    savepoint (they are atomic), so a refused one leaves nothing behind for the others to trip on.
    """
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    for entry in sorted(entries, key=_lock_order):
        target = entry.target
        try:
            if isinstance(target, KeyResult):
                check_in_key_result(
                    actor=actor,
                    key_result=target,
                    value=entry.value,
                    confidence=entry.confidence,
                    note=entry.note,
                )
            elif isinstance(target, KPI):
                measurement_record(actor=actor, kpi=target, period=today, value=entry.value)
            else:
                step_set_status(actor=actor, step=target, status=entry.status)
        except ValidationError as exc:
            found = exc.message_dict if hasattr(exc, "error_dict") else {entry.fields[0]: exc.messages}
            for name, messages in found.items():
                field_name = name if name in entry.fields else entry.fields[0]
                errors.setdefault(f"{entry.key}-{field_name}", []).extend(messages)
        except Conflict as exc:
            errors.setdefault(f"{entry.key}-{entry.fields[0]}", []).append(exc.message)
        except (PermissionDenied, Http404) as exc:
            message = str(exc) or "You cannot update this."
            errors.setdefault(f"{entry.key}-{entry.fields[0]}", []).append(message)
    if errors:
        raise ValidationError(errors)  # leaving the atomic block undoes what the others saved
    return entries


@transaction.atomic
def kpi_target_set(*, actor: Membership, kpi: KPI, period: date, target: Any) -> KPITarget | None:
    """A target for the period containing ``period`` (a ramp over the year); an empty target removes it."""
    _require(actor, "kpi_manage", "Managers, admins and owners set targets.")
    _same_org(actor, kpi)
    start = period_start(kpi.frequency, period)
    if target in (None, ""):
        KPITarget.objects.filter(kpi=kpi, period_start=start).delete()
        return None
    errors: dict[str, str] = {}
    number = _decimal(target, "target", errors)
    if errors:
        raise ValidationError(errors)
    result, _ = KPITarget.objects.update_or_create(
        kpi=kpi, period_start=start, defaults={"organization_id": kpi.organization_id, "target": number}
    )
    return result
