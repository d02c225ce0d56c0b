"""Reads of the metrics app, each in a fixed number of queries whatever the data's size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, F, FilteredRelation, Max, Q, QuerySet, When, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from bizops.models import Membership, Organization
from planning.models import (
    ActionStep,
    Objective,
    Plan,
    PlanStatus,
    Recurrence,
    StepCompletion,
    StepStatus,
)
from planning.progress import HEALTH, Part, health, occurrence_start

from .models import KPI, CheckIn, KeyResult, KPITarget, Measurement
from .rules import (
    Status,
    key_result_period,
    key_result_progress,
    kpi_covers,
    kpi_source_detail,
    kpi_status,
    kpi_value_in,
    last_periods,
    period_label,
    period_start,
)

SPARK_PERIODS = 12


def key_result_parts(trees: list) -> dict[int, list[Part]]:
    """Planning's progress contributor: each key result is a weighted part of its objective; one
    measured by a KPI says which KPI value it shows (one more query, only when there are such)."""
    plan_ids = [tree.plan.pk for tree in trees]
    parts: dict[int, list[Part]] = defaultdict(list)
    if not plan_ids:
        return parts
    # Rows, not instances: a big plan has thousands of key results and the roll-up reads nine fields.
    key_results = KeyResult.objects.filter(plan_id__in=plan_ids)
    if any(tree.partial for tree in trees):
        key_results = key_results.filter(objective_id__in=[pk for tree in trees for pk in tree.objectives])
    rows = list(
        key_results.order_by("position", "pk").values_list(
            "pk", "objective_id", "title", "kind", "start", "target", "current", "weight", "kpi_id"
        )
    )
    sources = kpi_sources({row[-1] for row in rows if row[-1] is not None})
    objectives = {pk: o for tree in trees for pk, o in tree.objectives.items()}
    for pk, objective_id, title, kind, start, target, current, weight, kpi_id in rows:
        value, detail = key_result_progress(kind, start, target, current)
        objective = objectives.get(objective_id)
        if kpi_id in sources and objective is not None:
            plan = objective.plan
            begin, end = key_result_period(
                objective.start_date, objective.due_date, plan.period_start, plan.period_end
            )
            detail = sources[kpi_id].explain(kind, start, target, current, begin, end)
        parts[objective_id].append(Part(title, value, weight, "key_result", pk, detail))
    return parts


@dataclass
class KPISource:
    """A KPI as the key results it measures read it: its name, frequency and current values."""

    name: str
    frequency: str
    series: list[tuple[date, Decimal]] = field(default_factory=list)

    def explain(self, kind: str, start: Decimal, target: Decimal, current: Decimal, begin: date, end: date):
        """“12 of 60 — from KPI “Leads reached a month”, Mar 2027”: the value in the key result's
        dates (``begin``..``end``) that its current value follows."""
        found = kpi_value_in(self.series, self.frequency, begin, end)
        label = period_label(self.frequency, found[0]) if found else None
        return kpi_source_detail(kind, start, target, current, self.name, label)


def kpi_sources(kpi_ids: set[int]) -> dict[int, KPISource]:
    """The KPIs behind key results with their current values, in one query (none without ids)."""
    if not kpi_ids:
        return {}
    current = FilteredRelation("measurements", condition=Q(measurements__is_current=True))
    rows = (
        KPI.objects.filter(pk__in=kpi_ids)
        .annotate(current=current)
        .values_list("pk", "name", "frequency", "current__period_start", "current__value")
    )
    sources: dict[int, KPISource] = {}
    for pk, name, frequency, period, value in rows:
        source = sources.setdefault(pk, KPISource(name, frequency))
        if period is not None:
            source.series.append((period, value))
    return sources


# --- KPIs -------------------------------------------------------------------------------------------


@dataclass
class KPIRow:
    kpi: KPI
    series: list[tuple[date, Decimal | None, Decimal]] = field(default_factory=list)  # period, value, target
    latest: Measurement | None = None
    status: Status | None = None

    @property
    def latest_target(self) -> Decimal:
        return self.series[-1][2] if self.series else self.kpi.target


def _targets(kpis: list[KPI], since: date) -> dict[tuple[int, date], Decimal]:
    rows = KPITarget.objects.filter(kpi__in=kpis, period_start__gte=since).values_list(
        "kpi_id", "period_start", "target"
    )
    return {(k, p): t for k, p, t in rows}


def status_of(kpi: KPI, value: Decimal | None, target: Decimal) -> Status:
    return kpi_status(
        direction=kpi.direction,
        value=value,
        target=target,
        target_upper=kpi.target_upper,
        amber=kpi.amber_threshold,
        red=kpi.red_threshold,
    )


def kpi_rows(*, kpis: list[KPI], today: date | None = None, periods: int = SPARK_PERIODS) -> list[KPIRow]:
    """Each KPI with its last ``periods`` periods (value or gap, and target) and its status.

    Two queries for any number of KPIs and measurements: the most recent current measurements per
    KPI (a window function keeps the newest ``periods``), and the period targets in that span.
    """
    today = today or timezone.localdate()
    if not kpis:
        return []
    latest_rows = (
        Measurement.objects.filter(kpi__in=kpis, is_current=True, period_start__lte=today)
        .annotate(rank=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("period_start").desc()))
        .filter(rank__lte=periods)
        # What the series and ``latest`` show (LatestMeasurementSerializer): not who recorded it.
        .only("kpi", "period_start", "value", "recorded_at")
    )
    by_kpi: dict[int, dict[date, Measurement]] = defaultdict(dict)
    for m in latest_rows:
        by_kpi[m.kpi_id][m.period_start] = m
    oldest = min(last_periods(k.frequency, today, periods)[0] for k in kpis)
    targets = _targets(kpis, oldest)
    result = []
    for kpi in kpis:
        row = KPIRow(kpi)
        measured = by_kpi.get(kpi.pk, {})
        for start in last_periods(kpi.frequency, today, periods):
            m = measured.get(start)
            row.series.append((start, m.value if m else None, targets.get((kpi.pk, start), kpi.target)))
        if measured:
            row.latest = measured[max(measured)]
            target = targets.get((kpi.pk, row.latest.period_start), kpi.target)
            row.status = status_of(kpi, row.latest.value, target)
        else:
            row.status = status_of(kpi, None, kpi.target)
        result.append(row)
    return result


def kpi_list(*, organization: Organization) -> QuerySet[KPI]:
    return KPI.objects.filter(organization=organization).select_related("owner__user").order_by("name")


def measurement_history(*, kpi: KPI) -> QuerySet[Measurement]:
    """Every value ever recorded, corrections included, newest period first."""
    return (
        Measurement.objects.filter(kpi=kpi)
        .select_related("recorded_by")
        .order_by("-period_start", "-recorded_at", "-pk")
    )


# --- Key results and check-ins ----------------------------------------------------------------------


def objective_key_results(*, objective: Objective) -> list[KeyResult]:
    """The objective's key results with their progress; ``objective.plan`` must be loaded."""
    krs = list(
        KeyResult.objects.filter(objective=objective).select_related("owner__user").order_by("position", "pk")
    )
    sources = kpi_sources({kr.kpi_id for kr in krs if kr.kpi_id is not None})
    for kr in krs:
        kr.progress, kr.detail = key_result_progress(kr.kind, kr.start, kr.target, kr.current)
        kr.percent = round(kr.progress * 100)
        if kr.kpi_id in sources:
            plan = objective.plan
            begin, end = key_result_period(
                objective.start_date, objective.due_date, plan.period_start, plan.period_end
            )
            kr.detail = sources[kr.kpi_id].explain(kr.kind, kr.start, kr.target, kr.current, begin, end)
    return krs


def objective_check_ins(objective_id: int, *, key_result_ids: list[int] | None = None) -> Q:
    """The filter for an objective's check-ins and its key results' ones (their ids are read in one
    small query unless given).

    The key results' ids go in as a list, not a join or a subquery: PostgreSQL then ORs two index
    scans instead of reading every check-in of the organization (36 ms -> 0.3 ms on the bench).
    """
    if key_result_ids is None:
        key_result_ids = list(
            KeyResult.objects.filter(objective_id=objective_id).values_list("pk", flat=True)
        )
    return Q(objective_id=objective_id) | Q(key_result_id__in=key_result_ids)


# What a timeline entry shows (``check_in_item``): not the author's password hash and the rest.
TIMELINE_FIELDS = (
    "confidence",
    "created_at",
    "key_result",
    "value",
    "previous_value",
    "step_status",
    "note",
    "author__display_name",
)


def check_in_timeline(
    *,
    key_result: KeyResult | None = None,
    objective: Objective | None = None,
    key_results: list[KeyResult] | None = None,
    step=None,
    limit: int = 50,
):
    """Newest check-ins first. An objective's timeline includes its key results' (pass them if loaded)."""
    qs = CheckIn.objects.select_related("author").only(*TIMELINE_FIELDS)
    known: dict[int, KeyResult] = {}  # key results already loaded, which entries are given as theirs
    if key_result is not None:
        qs = qs.filter(key_result=key_result)
        known = {key_result.pk: key_result}
    elif objective is not None:
        ids = None if key_results is None else [kr.pk for kr in key_results]
        qs = qs.filter(objective_check_ins(objective.pk, key_result_ids=ids))
        if key_results is None:
            # This timeline names each entry's key result.
            qs = qs.select_related("key_result").only(*TIMELINE_FIELDS, "key_result__title")
        else:
            # Joining them instead made PostgreSQL hash the whole key result table for 50 rows.
            known = {kr.pk: kr for kr in key_results}
    else:
        qs = qs.filter(step=step)
    entries = list(qs.order_by("-created_at", "-pk")[:limit])
    for entry in entries:
        if entry.key_result_id in known:
            entry.key_result = known[entry.key_result_id]
    return entries


@dataclass
class Indicator:
    step: ActionStep
    periods: list[tuple[date, bool]]

    @property
    def rate(self) -> int:
        return round(100 * sum(done for _, done in self.periods) / len(self.periods)) if self.periods else 0


def leading_indicators(
    *, objective: Objective, today: date | None = None, periods: int = 8
) -> list[Indicator]:
    """Each recurring step's completion, period by period: the leading indicator beside the lagging KRs."""
    from planning.progress import occurrence_start

    today = today or timezone.localdate()
    steps = list(
        ActionStep.objects.filter(objective=objective).exclude(recurrence="none").order_by("position")
    )
    if not steps:
        return []
    plan = Plan.objects.only("period_start", "period_end").get(pk=objective.plan_id)
    done = set(
        StepCompletion.objects.filter(
            step__in=steps, period_start__gte=today - timedelta(days=400)
        ).values_list("step_id", "period_start")
    )
    result = []
    for step in steps:
        starts: list[date] = []
        current = occurrence_start(step.recurrence, min(today, plan.period_end))
        while len(starts) < periods and current >= occurrence_start(step.recurrence, plan.period_start):
            starts.append(current)
            current = _previous(step.recurrence, current)
        result.append(Indicator(step, [(s, (step.pk, s) in done) for s in reversed(starts)]))
    return result


def _previous(recurrence: str, start: date) -> date:
    if recurrence == "weekly":
        return start - timedelta(days=7)
    if recurrence == "monthly":
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days=1)


# --- Dashboards -------------------------------------------------------------------------------------

# The plans a dashboard draws: the running ones and those in review. Their steps are overdue only
# while the plan runs (``ActionStep.objects.overdue``), not while it is in review.
DASHBOARD_PLAN_STATUSES = [PlanStatus.APPROVED, PlanStatus.ACTIVE, PlanStatus.AMENDING, PlanStatus.IN_REVIEW]


@dataclass
class Dashboard:
    trees: list
    at_risk: list[Objective]
    overdue: list[ActionStep]
    overdue_count: int
    kpis: list[KPIRow]
    missing: list[tuple[Membership, list]]  # owner, the objectives and key results without a recent check-in


def dashboard(
    *,
    organization: Organization,
    team=None,
    member: Membership | None = None,
    today: date | None = None,
    limit: int = 15,
) -> Dashboard:
    """The organization's (or a team's, or one person's) picture in a fixed number of queries."""
    from planning.selectors import plan_trees

    today = today or timezone.localdate()
    plans = list(
        Plan.objects.filter(organization=organization, status__in=DASHBOARD_PLAN_STATUSES)
        .select_related("owner__user")
        .order_by("-period_start", "title")[:20]
    )
    trees = plan_trees(plans=plans, today=today, step_tallies=True)
    objectives = [o for tree in trees for o in tree.objectives.values()]
    if team is not None:
        objectives = [o for o in objectives if o.team_id == team.pk]
    if member is not None:
        objectives = [o for o in objectives if o.owner_id == member.pk]
    latest_confidence, checked = _recent_check_ins(plans, objectives)
    shown = {o.pk for o in objectives}  # a set: a list made this loop quadratic on big plans
    at_risk = []
    for tree in trees:
        for o in tree.objectives.values():
            if o.pk not in shown:
                continue
            o.figure = tree.progress.objectives[o.pk]
            o.health_key = health(o.figure, o.start_date, o.due_date, today)
            o.health = HEALTH[o.health_key]
            o.confidence = latest_confidence.get(o.pk)
            if o.health_key in ("at_risk", "off_track") or o.confidence in ("at_risk", "off_track"):
                at_risk.append(o)
    steps = ActionStep.objects.filter(organization=organization).overdue(today)
    if team is not None:
        steps = steps.filter(objective__team=team)
    if member is not None:
        steps = steps.filter(assignee=member)
    # The total rides along as a window count over the whole filtered set: no second query.
    overdue = list(
        steps.select_related("assignee__user", "plan")
        .annotate(total=Window(Count("pk")))
        .order_by("due_date", "pk")[:limit]
    )
    overdue_count = overdue[0].total if overdue else 0
    kpis = KPI.objects.filter(organization=organization).select_related("owner__user").order_by("name")
    if team is not None:
        kpis = kpis.filter(objectives__team=team).distinct()
    if member is not None:
        kpis = kpis.filter(owner=member)
    return Dashboard(
        trees=trees,
        at_risk=at_risk[:limit],
        overdue=overdue,
        overdue_count=overdue_count,
        kpis=kpi_rows(kpis=list(kpis[:24]), today=today),
        missing=_missing_check_ins(objectives, checked),
    )


def _recent_check_ins(plans: list[Plan], objectives: list[Objective]) -> tuple[dict[int, str], set[int]]:
    """For the dashboard, in one query: the confidence of each objective's latest check-in (last 45
    days), and the objectives checked in on, directly or through a key result, in the last 7 days.

    Grouped by objective (a key result's check-in counts for its objective) and, for check-ins on the
    objective itself, by confidence: one row per objective and confidence, however many check-ins.
    The check-ins are found by their plans, not by lists of thousands of node ids.
    """
    ids = {o.pk for o in objectives}
    if not ids:
        return {}, set()
    now = timezone.now()
    week_ago = now - timedelta(days=7)
    rows = (
        CheckIn.objects.filter(plan__in=plans, created_at__gte=now - timedelta(days=45))
        .filter(Q(objective__isnull=False) | Q(key_result__isnull=False, created_at__gte=week_ago))
        .order_by()
        .annotate(
            owner=Coalesce("objective_id", "key_result__objective_id"),
            own_confidence=Case(When(objective__isnull=False, then="confidence")),
        )
        .values_list("owner", "own_confidence")
        .annotate(last=Max("created_at"))
    )
    latest: dict[int, tuple] = {}
    checked: set[int] = set()
    for owner, confidence, last in rows:
        if owner not in ids:
            continue
        if last >= week_ago:
            checked.add(owner)
        if confidence is not None and (owner not in latest or last > latest[owner][0]):
            latest[owner] = (last, confidence)
    return {pk: confidence for pk, (_, confidence) in latest.items()}, checked


def _missing_check_ins(objectives: list[Objective], checked: set[int]) -> list[tuple]:
    """Owners whose objectives have had no check-in (on them or their key results) for a week."""
    if not objectives:
        return []
    by_owner: dict[int, list] = defaultdict(list)
    owners: dict[int, Membership] = {}
    for o in objectives:
        if (
            o.pk in checked
            or o.owner_id is None
            or o.plan.status not in (PlanStatus.ACTIVE, PlanStatus.AMENDING)
        ):
            continue
        by_owner[o.owner_id].append(o)
        owners[o.owner_id] = o.owner
    return sorted(((owners[k], v) for k, v in by_owner.items()), key=lambda pair: pair[0].user.display_name)


def period_of(kpi: KPI, day: date) -> date:
    return period_start(kpi.frequency, day)


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
            last[check_in.key_result_id] = check_in
    for kr in key_results:
        kr.previous = last.get(kr.pk)
        kr.progress, kr.detail = key_result_progress(kr.kind, kr.start, kr.target, kr.current)
        kr.percent = round(kr.progress * 100)
        kr.kpi_period = None
        if kr.kpi_id is not None:
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
    recurring = [s for s in steps if s.is_recurring]
    done: set[tuple[int, date]] = set()
    if recurring:
        done = set(
            StepCompletion.objects.filter(
                step__in=recurring, period_start__gte=today - timedelta(days=31)
            ).values_list("step_id", "period_start")
        )
    for step in steps:
        step.occurrence = occurrence_start(step.recurrence, today) if step.is_recurring else None
        step.done_this_period = (step.pk, step.occurrence) in done
    return CheckInItems(key_results, kpis, steps)


def kpi_activity(plan) -> Q:
    """The audit events of the KPIs linked to ``plan``'s objectives, and of their targets, for the
    plan's Activity tab (registered with ``planning.activity`` in ``MetricsConfig.ready``)."""
    linked = KPI.objects.filter(objectives__plan=plan).values("pk")
    return Q(kind__in=["kpi", "kpi_target"], object_id__in=linked)
