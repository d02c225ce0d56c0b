"""Progress over time: the recorded history of plans, objectives and key results, and their forecasts,
each in one query whatever the number of days or nodes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from planning.models import Plan

from ..forecast import PACE_DAYS, Forecast, day_label, expected, forecast
from ..models import ProgressPoint
from ..rules import key_result_period

Series = list[tuple[date, float]]


def plan_series(plans: list[Plan]) -> dict[int, Series]:
    """Each plan's recorded progress, one point a day, oldest first."""
    series: dict[int, Series] = defaultdict(list)
    if not plans:
        return series
    rows = (
        ProgressPoint.objects.filter(plan__in=plans, objective__isnull=True, key_result__isnull=True)
        .order_by("plan_id", "day")
        .values_list("plan_id", "day", "value")
    )
    for plan_id, day, value in rows:
        series[plan_id].append((day, value))
    return series


@dataclass
class PaceStarts:
    """The first recorded point of each subject inside the pace window (the last four weeks)."""

    plans: dict[int, tuple[date, float]]
    objectives: dict[int, tuple[date, float]]
    key_results: dict[int, tuple[date, float]]


def pace_starts(plans: list[Plan], today: date, *, key_results: bool = True) -> PaceStarts:
    """Where each plan, objective and key result of ``plans`` stood when the pace window began: its
    first point since ``today`` minus four weeks. One query; the database keeps the first per subject.
    ``key_results=False`` leaves key results out (the dashboard forecasts plans and objectives)."""
    result = PaceStarts({}, {}, {})
    if not plans:
        return result
    points = ProgressPoint.objects.filter(
        plan__in=plans, day__gte=today - timedelta(days=PACE_DAYS), day__lt=today
    )
    if not key_results:
        points = points.filter(key_result__isnull=True)
    first = Window(
        RowNumber(),
        partition_by=[F("plan_id"), F("objective_id"), F("key_result_id")],
        order_by=F("day").asc(),
    )
    rows = (
        ProgressPoint.objects.filter(
            plan__in=plans, day__gte=today - timedelta(days=PACE_DAYS), day__lt=today
        )
        .annotate(first=first)
        .filter(first=1)
        .values_list("plan_id", "objective_id", "key_result_id", "day", "value")
    )
    for plan_id, objective_id, key_result_id, day, value in rows:
        if key_result_id is not None:
            result.key_results[key_result_id] = (day, value)
        elif objective_id is not None:
            result.objectives[objective_id] = (day, value)
        else:
            result.plans[plan_id] = (day, value)
    return result


def _with_today(start: tuple[date, float] | None, today: date, now: float) -> Series:
    return ([start] if start else []) + [(today, now)]


def plan_forecast(plan: Plan, now: float, starts: PaceStarts, today: date) -> Forecast:
    return forecast(_with_today(starts.plans.get(plan.pk), today, now), today=today, due=plan.period_end)


def objective_due(objective, plan: Plan) -> date:
    return objective.due_date or plan.period_end


def _not_begun(start: date | None, due: date, today: date) -> Forecast | None:
    """No forecast for what has not begun: its pace says nothing yet (nor can it be "at risk")."""
    if start is not None and today < start:
        return Forecast(None, due, f"It begins on {day_label(start, today)}: no forecast before then.")
    return None


def objective_forecast(objective, now: float, starts: PaceStarts, today: date) -> Forecast:
    due = objective_due(objective, objective.plan)
    return _not_begun(objective.start_date, due, today) or forecast(
        _with_today(starts.objectives.get(objective.pk), today, now), today=today, due=due
    )


def key_result_forecast(
    key_result_id: int, objective, now: float, starts: PaceStarts, today: date
) -> Forecast:
    plan = objective.plan
    _, due = key_result_period(objective.start_date, objective.due_date, plan.period_start, plan.period_end)
    return _not_begun(objective.start_date, due, today) or forecast(
        _with_today(starts.key_results.get(key_result_id), today, now), today=today, due=due
    )


def expected_now(objective, today: date) -> float:
    """Where an objective should stand today on the straight line from its start to its due date."""
    plan = objective.plan
    return expected(today, objective.start_date or plan.period_start, objective_due(objective, plan))
