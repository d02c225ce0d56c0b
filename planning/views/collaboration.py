"""Suggestions: anyone proposes, editors accept or decline with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bizops.access import org_object_or_404, org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import add_service_errors
from bizops.requests import OrgRequest

from .. import selectors, services
from ..forms import DeclineForm, SuggestionForm
from ..models import Suggestion
from .common import error_message, load_plan


@org_view("plan_view")
def suggestions(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    form = SuggestionForm(request.POST or None, plan=plan)
    status = 200
    if request.method == "POST":
        if not request.can.plan_suggest:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.suggestion_create(actor=request.membership, plan=plan, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Thanks: your suggestion waits for the plan's editors.")
                return redirect("planning:suggestions", org_slug=request.org.slug, plan_id=plan.pk)
        status = 400
    context = {
        "plan": plan,
        "form": form if request.can.plan_suggest and plan.is_editable else None,
        "suggestions": selectors.suggestion_list(plan=plan),
        "decline_form": DeclineForm(),
    }
    return render(request, "planning/suggestions.html", context, status=status)


@org_view("plan_view")
@require_POST
def suggestion_decide(request: OrgRequest, plan_id: int, suggestion_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    suggestion = org_object_or_404(Suggestion.objects.filter(plan=plan), request.org, pk=suggestion_id)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            node = services.suggestion_accept(actor=request.membership, suggestion=suggestion)
            messages.success(request, f"“{node.title}” joined the plan.")
        elif decision == "decline":
            services.suggestion_decline(
                actor=request.membership, suggestion=suggestion, reason=request.POST.get("reason", "")
            )
            messages.success(request, "The suggestion is declined; its author can read your reason.")
        else:
            messages.error(request, "Accept or decline the suggestion.")
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
    return redirect("planning:suggestions", org_slug=request.org.slug, plan_id=plan.pk)
