"""A plan's progress over time: its history against the expected pace, and where it will land."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from bizops.access import org_view
from bizops.requests import OrgRequest
from planning.services.running import organization_date
from planning.views.common import load_plan

from ..charts import progress_chart
from ..selectors.history import plan_history


@org_view("plan_view")
def plan_progress(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The plan's progress day by day since its approval, the expected pace, the forecasts of the
    plan, its objectives and key results. Loaded into the strategy map's goal card by HTMX."""
    plan = load_plan(request, plan_id)
    # The map's goal card loads only the plan's chart; the page adds each objective and key result.
    history = plan_history(plan=plan, today=organization_date(request.org), objectives=not request.htmx)
    chart = progress_chart(
        series=history.series,
        start=plan.period_start,
        end=plan.period_end,
        today=history.today,
        forecast=history.forecast,
        title=f"Progress of {plan.title} over its period",
    )
    context = {"plan": plan, "history": history, "chart": chart}
    template = "metrics/plan_progress.html#chart" if request.htmx else "metrics/plan_progress.html"
    return render(request, template, context)
