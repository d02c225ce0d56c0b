"""The dashboards: an organization's, a team's, a person's running plans with their figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, Max, Q, When, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from bizops.models import Membership, Organization
from planning.models import (
    ActionStep,
    Objective,
    Plan,
    PlanStatus,
)
from planning.progress import HEALTH, health
from planning.services.running import organization_date

from ..forecast import Forecast
from ..models import KPI, CheckIn
from ..rules import (
    period_start,
)
from .history import Series, history, objective_forecast, plan_forecast, runs_on
from .measures import KPIRow, kpi_rows

# --- Dashboards -------------------------------------------------------------------------------------

# The plans a dashboard draws: the running ones and those in review. Their steps are overdue only
# while the plan runs (``ActionStep.objects.overdue``), not while it is in review.
DASHBOARD_PLAN_STATUSES = [PlanStatus.APPROVED, PlanStatus.ACTIVE, PlanStatus.AMENDING, PlanStatus.IN_REVIEW]


@dataclass
class PlanLine:
    """A plan on the dashboard: its tree with figures, its recorded history (today's figure last,
    while it runs) and its forecast."""

    tree: Any
    series: Series
    forecast: Forecast | None
    trend: str = ""  # the SVG line, drawn by the view (metrics.charts.progress_trend)


@dataclass
class Dashboard:
    trees: list
    plans: list[PlanLine]
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
    from planning.selectors import dashboard_trees

    # The organization's date: its plans' periods, overdue steps and forecasts count in its time zone.
    today = today or organization_date(organization)
    plans = list(
        Plan.objects.filter(organization=organization, status__in=DASHBOARD_PLAN_STATUSES)
        .select_related("owner__user")
        .order_by("-period_start", "title")[:20]
    )
    trees = dashboard_trees(plans=plans, today=today)
    objectives = [o for tree in trees for o in tree.objectives.values()]
    if team is not None:
        objectives = [o for o in objectives if o.team_id == team.pk]
    if member is not None:
        objectives = [o for o in objectives if o.owner_id == member.pk]
    latest_confidence, checked = _recent_check_ins(plans, objectives)
    shown = {o.pk for o in objectives}  # a set: a list made this loop quadratic on big plans
    recorded = history(plans, today, key_results=False)
    starts = recorded.starts
    lines = []
    at_risk = []
    for tree in trees:
        assert tree.progress is not None  # dashboard_trees computes the roll-up
        plan = tree.plan
        live = runs_on(plan, today)
        series = recorded.series.get(plan.pk, [])
        if live:
            series = [*series, (today, tree.progress.plan.value)]
        lines.append(
            PlanLine(
                tree, series, plan_forecast(plan, tree.progress.plan.value, starts, today) if live else None
            )
        )
        for o in tree.objectives.values():
            if o.pk not in shown:
                continue
            o.figure = tree.progress.objectives[o.pk]
            o.health_key = health(o.figure, o.start_date, o.due_date, today)
            o.health = HEALTH[o.health_key]
            o.confidence = latest_confidence.get(o.pk)
            # Running objectives only: one in review has no pace yet.
            forecast = objective_forecast(o, o.figure.value, starts, today) if live else None
            o.forecast = forecast
            if (
                o.health_key in ("at_risk", "off_track")
                or o.confidence in ("at_risk", "off_track")
                or (forecast is not None and forecast.falls_short)
            ):
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
    # ``total`` comes from the annotate() above; StepQuerySet is not generic, so the stubs lose it.
    overdue_count = overdue[0].total if overdue else 0  # type: ignore[attr-defined]
    kpis = KPI.objects.filter(organization=organization).select_related("owner__user").order_by("name")
    if team is not None:
        kpis = kpis.filter(objectives__team=team).distinct()
    if member is not None:
        kpis = kpis.filter(owner=member)
    return Dashboard(
        trees=trees,
        plans=lines,
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
        assert o.owner is not None  # owner_id is set
        owners[o.owner_id] = o.owner
    return sorted(((owners[k], v) for k, v in by_owner.items()), key=lambda pair: pair[0].user.display_name)


def period_of(kpi: KPI, day: date) -> date:
    return period_start(kpi.frequency, day)
