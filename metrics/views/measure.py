"""Measuring objectives: key results, check-ins with their timeline, leading indicators."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bizops.access import OrgObjects, org_object_or_404, org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import add_service_errors
from bizops.requests import OrgRequest
from planning.access import can_edit_plan, can_update_step
from planning.models import ActionStep, Objective
from planning.views.common import UrlFor

from .. import selectors, services
from ..charts import sparkline
from ..forms import CheckInForm, KeyResultCheckInForm, KeyResultForm, StepCheckInForm
from ..models import KeyResult
from ..rules import key_result_progress, plain_number

OBJECTIVES = OrgObjects(lambda: Objective.objects.select_related("plan", "milestone", "team", "owner__user"))
# The objective's owner and team are needed as ids only (who may check in); the KPI for its name.
KEY_RESULTS = OrgObjects(lambda: KeyResult.objects.select_related("objective", "plan", "owner__user", "kpi"))


def _objective(request: OrgRequest, objective_id: int) -> Objective:
    objective = cast(Objective, OBJECTIVES.get_or_404(request.org, objective_id))
    objective.plan.organization = request.org
    objective.plan.can_edit = can_edit_plan(request.membership, objective.plan)
    return objective


@org_view("plan_view")
def objective_measures(request: OrgRequest, objective_id: int) -> HttpResponse:
    """An objective's key results, linked KPIs, leading indicators, check-in form and timeline."""
    objective = _objective(request, objective_id)
    return _render_objective(request, objective)


def _render_objective(request, objective, *, kr_form=None, check_in_form=None, status=200) -> HttpResponse:
    plan = objective.plan
    key_results = selectors.objective_key_results(objective=objective)
    kpis = list(objective.kpis.select_related("owner__user").order_by("name"))
    kpi_rows = selectors.kpi_rows(kpis=kpis)
    for row in kpi_rows:
        row.spark = sparkline([v for _, v, _ in row.series], label=row.kpi.name)
    may_check_in = services.can_check_in(
        request.membership, owner_id=objective.owner_id, team_id=objective.team_id
    )
    may_define = plan.can_edit and plan.is_editable
    context = {
        "objective": objective,
        "plan": plan,
        "key_results": key_results,
        "kpi_rows": kpi_rows,
        "indicators": selectors.leading_indicators(objective=objective),
        "timeline": selectors.check_in_timeline(objective=objective, key_results=key_results),
        "key_result_url": UrlFor("metrics:key_result_detail", request.org.slug),
        "kr_form": kr_form or (KeyResultForm(organization=request.org) if may_define else None),
        "check_in_form": check_in_form
        or (CheckInForm() if may_check_in and plan.status != "closed" else None),
        "may_define": may_define,
    }
    return render(request, "metrics/objective_measures.html", context, status=status)


@org_view("plan_view")
@require_POST
def key_result_create(request: OrgRequest, objective_id: int) -> HttpResponse:
    objective = _objective(request, objective_id)
    form = KeyResultForm(request.POST, organization=request.org)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version" and v is not None}
        try:
            kr = services.key_result_create(actor=request.membership, objective=objective, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Key result “{kr.title}” added.")
            return redirect(
                "metrics:objective_measures", org_slug=request.org.slug, objective_id=objective.pk
            )
    return _render_objective(request, objective, kr_form=form, status=400)


@org_view("plan_view")
@require_POST
def objective_check_in(request: OrgRequest, objective_id: int) -> HttpResponse:
    objective = _objective(request, objective_id)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.check_in_objective(actor=request.membership, objective=objective, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Check-in saved.")
            return redirect(
                "metrics:objective_measures", org_slug=request.org.slug, objective_id=objective.pk
            )
    return _render_objective(request, objective, check_in_form=form, status=400)


@org_view("plan_view")
def key_result_detail(request: OrgRequest, key_result_id: int) -> HttpResponse:
    """Check in on a key result, seeing the previous check-in and the trend while writing."""
    kr = cast(KeyResult, KEY_RESULTS.get_or_404(request.org, key_result_id))
    kr.plan.organization = request.org
    kr.plan.can_edit = can_edit_plan(request.membership, kr.plan)
    owner_id = kr.owner_id or kr.objective.owner_id
    may_check_in = kr.plan.status != "closed" and services.can_check_in(
        request.membership, owner_id=owner_id, team_id=kr.objective.team_id
    )
    may_define = kr.plan.can_edit and kr.plan.is_editable
    check_in_form = KeyResultCheckInForm(
        request.POST if request.POST.get("form") == "check_in" else None,
        initial={"value": request.GET.get("value") or plain_number(kr.current)},
    )
    edit_form = KeyResultForm(
        request.POST if request.POST.get("form") == "edit" else None, instance=kr, organization=request.org
    )
    status = 200
    if request.method == "POST":
        form_name = request.POST.get("form")
        try:
            if form_name == "check_in":
                if not may_check_in:
                    raise PermissionDenied
                if check_in_form.is_valid():
                    services.check_in_key_result(
                        actor=request.membership, key_result=kr, **check_in_form.cleaned_data
                    )
                    messages.success(request, "Check-in saved: the key result's value is updated.")
                    return redirect(
                        "metrics:key_result_detail", org_slug=request.org.slug, key_result_id=kr.pk
                    )
            elif form_name == "edit":
                if edit_form.is_valid():
                    data = {
                        k: v for k, v in edit_form.cleaned_data.items() if k != "version" and v is not None
                    }
                    services.key_result_update(
                        actor=request.membership,
                        key_result=kr,
                        version=edit_form.cleaned_data.get("version"),
                        **data,
                    )
                    messages.success(request, "Key result saved.")
                    return redirect(
                        "metrics:key_result_detail", org_slug=request.org.slug, key_result_id=kr.pk
                    )
            elif form_name == "delete":
                services.key_result_delete(actor=request.membership, key_result=kr)
                messages.success(request, f"Key result “{kr.title}” deleted.")
                return redirect(
                    "metrics:objective_measures", org_slug=request.org.slug, objective_id=kr.objective_id
                )
        except ValidationError as exc:
            add_service_errors(check_in_form if form_name == "check_in" else edit_form, exc)
        except Conflict as exc:
            (check_in_form if form_name == "check_in" else edit_form).add_error(None, exc.message)
        status = 400
    timeline = selectors.check_in_timeline(key_result=kr)
    kr.progress, kr.detail = key_result_progress(kr.kind, kr.start, kr.target, kr.current)
    kr.percent = round(kr.progress * 100)
    trend = [c.value for c in reversed(timeline)]
    context = {
        "kr": kr,
        "plan": kr.plan,
        "previous": timeline[0] if timeline else None,
        "trend": sparkline(trend, width=240, height=48, label=f"{kr.title}: values of the last check-ins"),
        "timeline": timeline,
        "check_in_form": check_in_form if may_check_in else None,
        "edit_form": edit_form if may_define else None,
    }
    return render(request, "metrics/key_result.html", context, status=status)


@org_view("plan_view")
def step_check_in(request: OrgRequest, step_id: int) -> HttpResponse:
    step = org_object_or_404(
        ActionStep.objects.select_related("plan", "objective", "assignee__user"), request.org, pk=step_id
    )
    step.plan.organization = request.org
    if not can_update_step(request.membership, step, step.plan):
        raise PermissionDenied("You check in on the steps assigned to you.")
    form = StepCheckInForm(request.POST or None, initial={"status": step.status})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.check_in_step(actor=request.membership, step=step, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Check-in saved.")
                return redirect(
                    "planning:node_detail",
                    org_slug=request.org.slug,
                    plan_id=step.plan_id,
                    kind="step",
                    node_id=step.pk,
                )
        status = 400
    timeline = selectors.check_in_timeline(step=step)
    context = {
        "step": step,
        "plan": step.plan,
        "form": form,
        "timeline": timeline,
        "previous": timeline[0] if timeline else None,
    }
    return render(request, "metrics/step_check_in.html", context, status=status)
