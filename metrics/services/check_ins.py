"""Check-ins on key results, objectives and steps, one at a time or many in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from bizops.audit import display
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from bizops.roles import can
from bizops.webhooks import emit
from planning.access import can_edit_plan, can_update_step
from planning.models import ActionStep, Objective, PlanStatus, StepStatus
from planning.services import plan_for_write, step_set_status

from ..models import (
    KPI,
    CheckIn,
    Confidence,
    KeyResult,
    KeyResultKind,
)
from ..rules import (
    key_result_period,
    kpi_covers,
    period_label,
    period_start,
)
from .common import (
    _decimal,
    _same_org,
    audit,
)
from .key_results import _lock_key_result
from .kpis import _measurement_write, measurement_record

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
    assert number is not None  # _decimal (required) returns None only with an error
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
    """What every check-in does once saved: the webhook, and its audit event (same transaction)."""
    target = check_in.key_result or check_in.objective or check_in.step
    assert target is not None  # check_in_one_target: exactly one is set
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
    # On the audit trail as a change of what it checks in on: the confidence, and a key result's value.
    changes = {"confidence": [None, Confidence(check_in.confidence).label]}
    key_result = check_in.key_result  # the target, when it is a key result
    if key_result is not None and check_in.previous_value != key_result.current:
        changes = {"current": [display(check_in.previous_value), display(key_result.current)], **changes}
    audit(
        actor,
        kind=check_in.target,
        action="checked in",
        obj=target,
        plan_id=check_in.plan_id,
        changes=changes,
        comment=check_in.note,
    )


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
