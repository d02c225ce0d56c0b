"""Alignment pages: what an objective serves (the editor's searchable picker), and the organization's
alignment view (every running plan as one tree, with what serves nothing and what nobody works on)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from bizops.access import OrgObjects, org_view
from bizops.errors import Conflict, ValidationError
from bizops.requests import OrgRequest
from planning.access import can_edit_plan
from planning.models import Objective
from planning.progress import HEALTH
from planning.services.running import organization_date

from ..selectors.alignment import alignment_options, objective_link
from ..selectors.alignment_view import AlignmentFilters, alignment_map
from ..services.alignment import objective_align, objective_unalign

OBJECTIVES = OrgObjects(lambda: Objective.objects.select_related("plan__parent", "milestone"))


class AlignmentForm(forms.Form):
    target = forms.CharField(
        label="Serves", error_messages={"required": "Choose the node of the plan above that it serves."}
    )
    counts = forms.BooleanField(
        required=False,
        initial=True,
        label="Count its progress there",
        help_text="On: this objective's progress is a part of that node's figure. Off: it is shown beside it.",
    )

    def clean_target(self) -> tuple[str, str]:
        kind, _, pk = self.cleaned_data["target"].partition(":")
        if not kind or not pk:
            raise forms.ValidationError("Choose the node of the plan above that it serves.")
        return kind, pk


@org_view("plan_view")
def objective_alignment(request: OrgRequest, objective_id: int) -> HttpResponse:
    """What the objective serves; the picker (searchable, HTMX narrows the options as one types)."""
    objective = cast(Objective, OBJECTIVES.get_or_404(request.org, objective_id))
    plan = objective.plan
    plan.organization = request.org
    plan.can_edit = can_edit_plan(request.membership, plan)
    plan.can_edit_tree = may_edit = plan.can_edit and plan.is_editable
    link = objective_link(objective=objective)
    # Words only: a control character (a NUL) in a query is dropped, never sent to the database.
    query = "".join(ch for ch in request.GET.get("q", "")[:200] if ch.isprintable())
    form = AlignmentForm(
        request.POST or None,
        initial={"target": f"{link.kind}:{link.id}" if link else "", "counts": link.counts if link else True},
    )
    status = 200
    if request.method == "POST":
        try:
            if not may_edit:
                raise PermissionDenied
            if request.POST.get("action") == "clear":
                objective_unalign(actor=request.membership, objective=objective)
                messages.success(request, f"“{objective.title}” serves nothing now.")
                return redirect(_node_url(request, objective))
            if form.is_valid():
                kind, pk = form.cleaned_data["target"]
                objective_align(
                    actor=request.membership,
                    objective=objective,
                    target_kind=kind,
                    target_id=pk,
                    counts=form.cleaned_data["counts"],
                )
                messages.success(request, f"“{objective.title}” is aligned.")
                return redirect(_node_url(request, objective))
        except ValidationError as exc:
            for message in exc.messages:  # target_kind, target_id, target: all about the one choice
                form.add_error("target", message)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        status = status if status != 200 else 400
    options = alignment_options(plan=plan, query=query) if plan.parent_id else []
    context = {
        "objective": objective,
        "plan": plan,
        "link": link,
        "form": form,
        "query": query,
        "options": options,
        "may_edit": may_edit,
        "selected": form.data.get("target") if form.is_bound else form.initial["target"],
    }
    template = "metrics/objective_alignment.html"
    if request.htmx and request.method == "GET":
        template += "#options"
    return render(request, template, context, status=status)


def _node_url(request: OrgRequest, objective: Objective) -> str:
    return reverse(
        "planning:node_detail", args=[request.org.slug, objective.plan_id, "objective", objective.pk]
    )


@org_view("plan_view")
def alignment(request: OrgRequest) -> HttpResponse:
    """Every running plan as one tree, from the company's ultimate goal down through the plans that
    serve it; filters by team, owner, status and period, each with its own URL."""
    filters = AlignmentFilters.from_query(request.GET, organization=request.org)
    view = alignment_map(organization=request.org, filters=filters, today=organization_date(request.org))
    statuses = [(key, label) for key, (_, _, label) in HEALTH.items()]
    context = {"view": view, "filters": filters, "statuses": statuses}
    return render(request, "metrics/alignment.html", context)
