"""Plan pages: the organization's overview, the list, creating (blank, template, copy), settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bizops import selectors as core_selectors
from bizops import services as core_services
from bizops.access import org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import add_service_errors
from bizops.models import Membership
from bizops.requests import OrgRequest

from .. import selectors, services
from ..forms import CloneForm, PlanCreateForm, PlanFilterForm, PlanForm
from ..getting_started import getting_started
from ..models import IN_PLANNING_STATUSES, PlanStatus
from .common import load_plan

# The Overview's plan groups, each a set of statuses, so a plan appears once, where its status says.
# Closed plans are under "All plans".
OVERVIEW_GROUPS = {
    "running": (PlanStatus.ACTIVE, PlanStatus.AMENDING),
    "approved": (PlanStatus.APPROVED,),
    "drafts": tuple(IN_PLANNING_STATUSES),
}


@org_view()
def overview(request: OrgRequest) -> HttpResponse:
    """The organization's front page: plans running now, your work, the people."""
    plans = {
        group: list(selectors.plan_list(organization=request.org).filter(status__in=statuses)[:8])
        for group, statuses in OVERVIEW_GROUPS.items()
    }
    work = selectors.my_work(membership=request.membership)
    # The first steps of a new organization, for the people who can take them all (owners, admins).
    checklist = getting_started(membership=request.membership) if request.can.members_invite else None
    context = {
        "getting_started": checklist,
        "getting_started_done": sum(item.done for item in checklist) if checklist else 0,
        "plans": plans["running"],
        "approved": plans["approved"],
        "drafts": plans["drafts"],
        "work": work,
        "member_count": Membership.objects.filter(organization=request.org).count(),
        "teams": core_selectors.team_list(organization=request.org)[:8],
    }
    return render(request, "planning/overview.html", context)


@org_view()
@require_POST
def getting_started_dismiss(request: OrgRequest) -> HttpResponse:
    """Hide the getting-started checklist from this person's Overview."""
    core_services.membership_dismiss_getting_started(membership=request.membership)
    messages.success(request, "The getting-started list is hidden. Everything in it stays a click away.")
    return redirect("planning:org_home", org_slug=request.org.slug)


@org_view("plan_view")
def plan_list(request: OrgRequest) -> HttpResponse:
    form = PlanFilterForm(request.GET or None)
    status = period = ""
    if form.is_valid():
        status, period = form.cleaned_data["status"], form.cleaned_data["period"]
    page = Paginator(
        selectors.plan_list(organization=request.org, status=status, period=period), 25
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "planning/plan_list.html",
        {"page": page, "filter_form": form, "filtered": bool(status or period not in ("", "all"))},
    )


@org_view("plan_create")
def plan_create(request: OrgRequest) -> HttpResponse:
    initial = {"start_from": request.GET.get("start_from", "blank"), "source": request.GET.get("source")}
    form = PlanCreateForm(request.POST or None, organization=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common = {
            "actor": request.membership,
            "title": data["title"],
            "period_start": data["period_start"],
            "period_end": data["period_end"],
        }
        try:
            plan = _create_plan(request.membership, data, common)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{plan.title}” is created as a draft. Shape its map next.")
            return redirect("planning:plan_editor", org_slug=request.org.slug, plan_id=plan.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "planning/plan_create.html", {"form": form}, status=status)


@transaction.atomic  # the plan and its own goal land together, or not at all
def _create_plan(actor, data: dict, common: dict):
    if data["start_from"] == "template":
        plan = services.plan_create_from_template(
            **common, owner=data["owner"], assignees=list(data["assignees"])
        )
    elif data["start_from"] == "clone":
        plan = services.plan_clone(**common, source=data["source"])
    else:
        return services.plan_create(
            **common,
            ultimate_goal=data["ultimate_goal"],
            description=data["description"],
            owner=data["owner"],
        )
    fields = {k: data[k] for k in ("ultimate_goal", "description") if data[k]}
    if fields:
        plan = services.plan_update(actor=actor, plan=plan, version=None, **fields)
    return plan


@org_view("plan_view")
def plan_settings(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    if request.method == "POST" and not plan.can_edit:
        raise PermissionDenied
    form = PlanForm(request.POST or None, instance=plan, organization=request.org)
    conflict = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in PlanForm.Meta.fields}
            try:
                services.plan_update(
                    actor=request.membership, plan=plan, version=form.cleaned_data["version"], **fields
                )
            except services.StaleEdit as exc:
                conflict = exc
                form = _rebound(form, exc.current_version)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "The plan is saved.")
                return redirect("planning:plan_map", org_slug=request.org.slug, plan_id=plan.pk)
        status = 409 if conflict else 400
        plan.refresh_from_db()
    return render(
        request,
        "planning/plan_settings.html",
        {"plan": plan, "form": form, "conflict": conflict},
        status=status,
    )


def _rebound(form, version: int):
    """The same input, now based on the current version: saving again overwrites knowingly."""
    data = form.data.copy()
    data["version"] = str(version)
    new = type(form)(data, instance=form.instance, organization=form.instance.organization)
    new.is_valid()
    return new


@org_view("plan_view")
@require_POST
def plan_delete(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    try:
        services.plan_delete(actor=request.membership, plan=plan)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("planning:plan_settings", org_slug=request.org.slug, plan_id=plan.pk)
    messages.success(request, f"“{plan.title}” is deleted.")
    return redirect("planning:plan_list", org_slug=request.org.slug)


@org_view("plan_create")
def plan_clone(request: OrgRequest, plan_id: int) -> HttpResponse:
    source = load_plan(request, plan_id)
    # Cloning a closed plan carries its unfinished objectives into the next period.
    initial = {
        "title": f"{source.title} (next period)",
        "only_unfinished": source.status == PlanStatus.CLOSED,
    }
    form = CloneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_clone(actor=request.membership, source=source, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{plan.title}” is a new draft copied from “{source.title}”.")
            return redirect("planning:plan_editor", org_slug=request.org.slug, plan_id=plan.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "planning/plan_clone.html", {"plan": source, "form": form}, status=status)


@org_view("plan_view")
def activity(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    page = Paginator(selectors.activity_list(plan=plan), 50).get_page(request.GET.get("page"))
    return render(request, "planning/activity.html", {"plan": plan, "page": page})
