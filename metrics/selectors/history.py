"""Progress over time: the recorded history of plans, objectives and key results, and their forecasts,
each in one query whatever the number of days or nodes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from planning.models import Objective, Plan, plan_runs
from planning.progress import Figure, Part

from ..forecast import PACE_DAYS, Forecast, day_label, expected, forecast
from ..models import KeyResult, ProgressPoint
from ..rules import key_result_period

Series = list[tuple[date, float]]


@dataclass
class PaceStarts:
    """The first recorded point of each subject inside the pace window (the last four weeks)."""

    plans: dict[int, tuple[date, float]]
    objectives: dict[int, tuple[date, float]]
    key_results: dict[int, tuple[date, float]]


@dataclass
class History:
    series: dict[int, Series]  # each plan's recorded progress, a point a day, oldest first
    starts: PaceStarts


def history(plans: list[Plan], today: date, *, key_results: bool = True) -> History:
    """The plans' recorded series, and where each plan, objective and key result stood when the pace
    window began (its first point since ``today`` minus four weeks), in one query: every plan row,
    and, for each objective (and key result), its first row in the window, found by one index seek
    each (``ProgressPoint``'s unique (objective, day) index) rather than by reading four weeks of
    rows. ``key_results=False`` leaves key results out (the dashboard forecasts plans and objectives)."""
    result = History(defaultdict(list), PaceStarts({}, {}, {}))
    if not plans:
        return result
    since = today - timedelta(days=PACE_DAYS)
    window = {"day__gte": since, "day__lt": today}

    def first_in_window(model, field: str) -> QuerySet:
        first = ProgressPoint.objects.filter(**{field: OuterRef("pk")}, **window).order_by("day")
        return model.objects.filter(plan__in=plans).values(ref=Subquery(first.values("pk")[:1]))

    fields = ("plan_id", "objective_id", "key_result_id", "day", "value")
    plan_rows = (
        ProgressPoint.objects.filter(
            plan__in=plans, objective__isnull=True, key_result__isnull=True, day__lt=today
        )
        .order_by()  # the parts of a UNION are not ordered (SQLite refuses it); the whole is, below
        .values_list(*fields)
    )
    firsts = [first_in_window(Objective, "objective")]
    if key_results:
        firsts.append(first_in_window(KeyResult, "key_result"))
    # A UNION ALL, not an OR: with OR the database reads the whole table instead of two indexes.
    rows = plan_rows.union(
        *(ProgressPoint.objects.filter(pk__in=refs).order_by().values_list(*fields) for refs in firsts),
        all=True,
    ).order_by("day")
    starts = result.starts
    for plan_id, objective_id, key_result_id, day, value in rows:
        if key_result_id is not None:
            starts.key_results[key_result_id] = (day, value)
        elif objective_id is not None:
            starts.objectives[objective_id] = (day, value)
        else:
            result.series[plan_id].append((day, value))
            if day >= since and plan_id not in starts.plans:
                starts.plans[plan_id] = (day, value)
    return result


def runs_on(plan: Plan, today: date) -> bool:
    """The plan runs and ``today`` is in its period: its series ends with today's live figure and it
    has a forecast (the progress page, its API and the dashboard ask the same)."""
    return plan_runs(plan.status, plan.first_approved_at) and plan.period_start <= today <= plan.period_end


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


# --- A plan's progress over time: what its page and its API show -------------------------------------


@dataclass
class ObjectiveLine:
    milestone: Any
    objective: Any
    figure: Figure
    expected: float  # where it should stand today: the straight line from its start to its due date
    forecast: Forecast
    key_results: list[tuple[Part, Forecast]]

    @property
    def expected_percent(self) -> int:
        return round(self.expected * 100)


@dataclass
class PlanHistory:
    plan: Plan
    today: date
    runs: bool  # approved at least once and not closed: its days are recorded
    live: bool  # runs and today is in its period: the series ends with today's figure
    series: Series
    figure: Figure
    expected: float
    forecast: Forecast | None
    lines: list[ObjectiveLine]

    @property
    def recorded(self) -> int:
        """Days recorded (today's live figure is not one)."""
        return len(self.series) - (1 if self.live else 0)

    @property
    def expected_percent(self) -> int:
        return round(self.expected * 100)

    @property
    def begins(self) -> date | None:
        return self.plan.period_start if self.today < self.plan.period_start else None


def _idle(history_plan: Plan, today: date, runs: bool, due: date) -> Forecast | None:
    """No forecast while the plan does not run today: what says so instead."""
    if today < history_plan.period_start:
        return Forecast(
            None,
            due,
            f"The plan begins on {day_label(history_plan.period_start, today)}: no forecast before then.",
        )
    if not runs:
        return Forecast(None, due, "The plan is not running: no forecast.")
    if today > history_plan.period_end:
        return Forecast(None, due, f"The plan's period ended on {day_label(history_plan.period_end, today)}.")
    return None


def plan_history(*, plan: Plan, today: date, objectives: bool = True) -> PlanHistory:
    """The plan's recorded days with today's figure, the expected pace, and the forecasts of the
    plan, its objectives and key results, in a fixed number of queries (the roll-up's and one).
    ``today`` is the organization's date (``planning.services.running.organization_date``), the day
    its history counts in. ``objectives=False``: the plan's line and forecast only (the map's chart)."""
    from planning.selectors import dashboard_trees

    runs = plan_runs(plan.status, plan.first_approved_at)
    tree = dashboard_trees(plans=[plan], today=today)[0]
    assert tree.progress is not None  # dashboard_trees computes the roll-up
    recorded = history([plan], today, key_results=objectives)
    series, starts = recorded.series[plan.pk], recorded.starts
    live = runs_on(plan, today)
    if live:
        series = [*series, (today, tree.progress.plan.value)]
    lines = []
    for milestone in tree.milestones if objectives else []:
        for objective in milestone.children:
            figure = tree.progress.objectives[objective.pk]
            due = objective_due(objective, plan)
            idle = _idle(plan, today, runs, due)
            key_results = [
                (part, idle or key_result_forecast(part.node_id, objective, part.value, starts, today))
                for part in figure.parts
                if part.kind == "key_result" and part.node_id is not None
            ]
            lines.append(
                ObjectiveLine(
                    milestone,
                    objective,
                    figure,
                    expected_now(objective, today),
                    idle or objective_forecast(objective, figure.value, starts, today),
                    key_results,
                )
            )
    return PlanHistory(
        plan=plan,
        today=today,
        runs=runs,
        live=live,
        series=series,
        figure=tree.progress.plan,
        expected=expected(today, plan.period_start, plan.period_end),
        forecast=plan_forecast(plan, tree.progress.plan.value, starts, today) if live else None,
        lines=lines,
    )
