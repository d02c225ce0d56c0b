"""One check-in: everything a person updates, on one page; and a KPI's part in a plan's activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from bizops.models import Membership
from planning.models import (
    ActionStep,
    Recurrence,
    StepStatus,
)
from planning.progress import occurrence_start
from planning.selectors import mark_done_this_period

from ..models import KPI, CheckIn, KeyResult, Measurement
from ..rules import (
    key_result_period,
    key_result_progress,
    kpi_covers,
    period_label,
    period_start,
)

# --- One check-in: everything a person updates, on one page ------------------------------------------


@dataclass
class CheckInItems:
    """What a person owns that is due an update in the running plans (``check_in_items``)."""

    key_results: list[KeyResult]
    kpis: list[KPI]
    steps: list[ActionStep]

    def __bool__(self) -> bool:
        return bool(self.key_results or self.kpis or self.steps)


# What the check-in page shows of a key result, its plan, objective and KPI.
CHECK_IN_KEY_RESULT_FIELDS = (
    "plan",
    "objective",
    "title",
    "kind",
    "start",
    "target",
    "current",
    "owner",
    "kpi",
    "version",
    "plan__title",
    "plan__status",
    "plan__period_start",
    "plan__period_end",
    "objective__title",
    "objective__start_date",
    "objective__due_date",
    "objective__owner",
    "objective__team",
    "kpi__name",
    "kpi__frequency",
    "kpi__unit",
    "kpi__organization",
)
CHECK_IN_STEP_FIELDS = (
    "plan",
    "objective",
    "title",
    "assignee",
    "due_date",
    "recurrence",
    "status",
    "version",
    "plan__title",
    "plan__status",
    "plan__owner",
    "plan__period_end",
    "objective__title",
)


def check_in_items(*, membership: Membership, today: date | None = None) -> CheckInItems:
    """The person's key results (with their last check-in), the KPIs they record (with their value
    for the current period, or the last one) and their open or recurring steps, in the running plans
    (``RUNNING_STATUSES``), in five queries whatever the plans' size.

    KPIs that measure one of the listed key results are left out: the key result's check-in records
    their value, so nothing is entered twice. A key result measured by a KPI whose dates do not
    cover today's KPI period (``kr.kpi_period`` is None) is listed without a value to enter.
    """
    today = today or timezone.localdate()
    key_results = list(
        KeyResult.objects.filter(organization_id=membership.organization_id)
        .running()
        .answered_by(membership.pk)
        .select_related("plan", "objective", "kpi")
        .only(*CHECK_IN_KEY_RESULT_FIELDS)
        .order_by("plan__title", "plan_id", "objective__position", "objective_id", "position", "pk")
    )
    last: dict[int, CheckIn] = {}
    if key_results:
        newest = Window(
            RowNumber(), partition_by=[F("key_result_id")], order_by=[F("created_at").desc(), F("pk").desc()]
        )
        for check_in in (
            CheckIn.objects.filter(key_result__in=[kr.pk for kr in key_results])
            .annotate(rank=newest)
            .filter(rank=1)
            .only("key_result", "value", "confidence", "created_at")
        ):
            assert check_in.key_result_id is not None  # filtered on key_result__in
            last[check_in.key_result_id] = check_in
    for kr in key_results:
        kr.previous = last.get(kr.pk)
        kr.progress, kr.detail = key_result_progress(kr.kind, kr.start, kr.target, kr.current)
        kr.percent = round(kr.progress * 100)
        kr.kpi_period = None
        if kr.kpi_id is not None:
            assert kr.kpi is not None  # kpi_id is set
            begin, end = key_result_period(
                kr.objective.start_date, kr.objective.due_date, kr.plan.period_start, kr.plan.period_end
            )
            if kpi_covers(kr.kpi.frequency, today, begin, end):
                kr.kpi_period = period_label(kr.kpi.frequency, period_start(kr.kpi.frequency, today))
    backing = {kr.kpi_id for kr in key_results if kr.kpi_id is not None}
    kpis = list(
        KPI.objects.filter(organization_id=membership.organization_id, owner=membership)
        .exclude(pk__in=backing)
        .order_by("name")
    )
    if kpis:
        newest = Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("period_start").desc())
        latest = {
            m.kpi_id: m
            for m in Measurement.objects.filter(kpi__in=kpis, is_current=True, period_start__lte=today)
            .annotate(rank=newest)
            .filter(rank=1)
            .only("kpi", "period_start", "value")
        }
        for kpi in kpis:
            kpi.period = period_start(kpi.frequency, today)
            kpi.period_label = period_label(kpi.frequency, kpi.period)
            found = latest.get(kpi.pk)
            # The current period's value is the one a new entry corrects; an older one is shown as the last.
            kpi.this_period = found if found and found.period_start == kpi.period else None
            kpi.last = found if found and found.period_start != kpi.period else None
            if kpi.last:
                kpi.last.label = period_label(kpi.frequency, kpi.last.period_start)
    steps = list(
        ActionStep.objects.filter(assignee=membership)
        .running()
        .filter(
            Q(recurrence=Recurrence.NONE, status__in=[StepStatus.TODO, StepStatus.DOING, StepStatus.BLOCKED])
            | (~Q(recurrence=Recurrence.NONE) & Q(plan__period_end__gte=today))
        )
        .select_related("plan", "objective")
        .only(*CHECK_IN_STEP_FIELDS)
        .order_by(F("due_date").asc(nulls_last=True), "plan__title", "position", "pk")
    )
    mark_done_this_period(steps, today)
    for step in steps:
        step.occurrence = occurrence_start(step.recurrence, today) if step.is_recurring else None
    return CheckInItems(key_results, kpis, steps)


def kpi_activity(plan) -> Q:
    """The audit events of the KPIs linked to ``plan``'s objectives, and of their targets, for the
    plan's Activity tab (registered with ``planning.activity`` in ``MetricsConfig.ready``)."""
    linked = KPI.objects.filter(objectives__plan=plan).values("pk")
    return Q(kind__in=["kpi", "kpi_target"], object_id__in=linked)
