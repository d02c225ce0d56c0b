"""Dashboards: the organization's, a team's, your own, and a plan's end-of-cycle summary."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bizops.access import org_object_or_404, org_view
from bizops.models import Team
from bizops.requests import OrgRequest
from planning.models import ObjectiveScore
from planning.selectors import display_tree
from planning.views.common import load_plan

from .. import selectors
from ..charts import progress_trend, sparkline
from ..models import CheckIn, KeyResult
from ..rules import key_result_progress


def _running_objectives(board, team=None, member=None) -> int:
    """The objectives of running plans this dashboard covers: with none, its empty lists mean that
    nothing runs yet, not that all is well."""
    return sum(
        1
        for tree in board.trees
        for o in tree.objectives.values()
        if (team is None or o.team_id == team.pk) and (member is None or o.owner_id == member.pk)
    )


def _render(
    request: OrgRequest, board, title: str, subtitle: str, scope: str, team=None, member=None
) -> HttpResponse:
    for row in board.kpis:
        row.spark = sparkline([v for _, v, _ in row.series], label=row.kpi.name)
    for line in board.plans:
        plan = line.tree.plan
        line.trend = progress_trend(
            series=line.series,
            start=plan.period_start,
            end=plan.period_end,
            label=f"Progress of {plan.title}",
        )
    context = {
        "board": board,
        "running_objectives": _running_objectives(board, team, member),
        "title": title,
        "subtitle": subtitle,
        "scope": scope,
        "team": team,
        "today": timezone.localdate(),
    }
    return render(request, "metrics/dashboard.html", context)


@org_view("plan_view")
def organization_dashboard(request: OrgRequest) -> HttpResponse:
    board = selectors.dashboard(organization=request.org)
    return _render(request, board, "Dashboard", f"How {request.org.name}'s plans are going.", "org")


@org_view("plan_view")
def team_dashboard(request: OrgRequest, team_id: int) -> HttpResponse:
    team = org_object_or_404(Team, request.org, pk=team_id)
    board = selectors.dashboard(organization=request.org, team=team)
    return _render(
        request,
        board,
        f"{team.name}: dashboard",
        "Objectives the team owns, their steps and KPIs.",
        "team",
        team,
    )


@org_view("plan_view")
def my_dashboard(request: OrgRequest) -> HttpResponse:
    board = selectors.dashboard(organization=request.org, member=request.membership)
    return _render(
        request,
        board,
        "My dashboard",
        "Objectives and KPIs you own, and your overdue steps.",
        "me",
        member=request.membership,
    )


@org_view("plan_view")
def plan_summary(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The end-of-cycle summary: progress, key results, scores and how much the team checked in."""
    plan = load_plan(request, plan_id)
    tree = display_tree(plan=plan)
    assert tree.progress is not None  # display_tree computes the roll-up
    scores = {s.objective_id: s for s in ObjectiveScore.objects.filter(plan=plan)}
    krs: dict[int, list] = {}
    for kr in KeyResult.objects.filter(plan=plan).select_related("owner__user").order_by("position", "pk"):
        kr.percent = round(key_result_progress(kr.kind, kr.start, kr.target, kr.current)[0] * 100)
        krs.setdefault(kr.objective_id, []).append(kr)
    check_in_count = CheckIn.objects.filter(plan=plan).count()
    rows = []
    for milestone in tree.milestones:
        for objective in milestone.children:
            figure = tree.progress.objectives[objective.pk]
            done = sum(1 for s in objective.children if s.status == "done")
            rows.append(
                (milestone, objective, figure, krs.get(objective.pk, []), scores.get(objective.pk), done)
            )
    context = {"plan": plan, "tree": tree, "rows": rows, "check_in_count": check_in_count}
    return render(request, "metrics/plan_summary.html", context)
