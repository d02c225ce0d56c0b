"""A plan's progress over time: its history against the expected pace, and where it will land."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bizops.access import org_view
from bizops.requests import OrgRequest
from planning.models import plan_runs
from planning.progress import Figure, Part
from planning.selectors import dashboard_trees
from planning.views.common import load_plan

from ..charts import progress_chart
from ..forecast import Forecast, expected
from ..selectors.history import expected_now, history, key_result_forecast, objective_forecast, plan_forecast


@dataclass
class ObjectiveLine:
    objective: object
    figure: Figure
    expected: int  # percent
    forecast: Forecast
    key_results: list[tuple[Part, Forecast]]


@org_view("plan_view")
def plan_progress(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The plan's progress day by day since its approval, the expected pace, the forecasts of the
    plan, its objectives and key results. Loaded into the strategy map's goal card by HTMX."""
    plan = load_plan(request, plan_id)
    today = timezone.localdate()
    runs = plan_runs(plan.status, plan.first_approved_at)
    tree = dashboard_trees(plans=[plan], today=today)[0]
    assert tree.progress is not None  # dashboard_trees computes the roll-up
    recorded = history([plan], today)
    series, starts = recorded.series[plan.pk], recorded.starts
    live = runs and plan.period_start <= today <= plan.period_end
    if live:
        series = [*series, (today, tree.progress.plan.value)]
    forecast = plan_forecast(plan, tree.progress.plan.value, starts, today) if live else None
    lines = []
    for milestone in tree.milestones:
        for objective in milestone.children:
            figure = tree.progress.objectives[objective.pk]
            parts = [p for p in figure.parts if p.kind == "key_result" and p.node_id is not None]
            lines.append(
                (
                    milestone,
                    ObjectiveLine(
                        objective,
                        figure,
                        round(expected_now(objective, today) * 100),
                        objective_forecast(objective, figure.value, starts, today),
                        [
                            (p, key_result_forecast(p.node_id, objective, p.value, starts, today))
                            for p in parts
                            if p.node_id is not None
                        ],
                    ),
                )
            )
    context = {
        "plan": plan,
        "runs": runs,
        "live": live,
        "begins": plan.period_start if today < plan.period_start else None,
        "recorded": len(series) - (1 if live else 0),
        "figure": tree.progress.plan,
        "expected": round(expected(today, plan.period_start, plan.period_end) * 100),
        "forecast": forecast,
        "lines": lines,
        "chart": progress_chart(
            series=series,
            start=plan.period_start,
            end=plan.period_end,
            today=today,
            forecast=forecast,
            title=f"Progress of {plan.title} over its period",
        ),
    }
    template = "metrics/plan_progress.html#chart" if request.htmx else "metrics/plan_progress.html"
    return render(request, template, context)
