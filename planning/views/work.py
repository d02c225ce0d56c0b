"""My work: a member's steps across plans, and one-click status changes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bizops.access import org_object_or_404, org_view
from bizops.errors import Conflict, ValidationError
from bizops.requests import OrgRequest

from .. import selectors, services
from ..models import ActionStep, StepStatus
from .common import back, error_message


@org_view("plan_view")
def my_work(request: OrgRequest) -> HttpResponse:
    work = selectors.my_work(membership=request.membership)
    groups = [
        ("overdue", "Overdue", work.overdue, "Nothing overdue. Well done."),
        ("this_week", "This week", work.this_week, "Nothing due this week."),
        ("later", "Later", work.later, ""),
        ("no_date", "No due date", work.no_date, ""),
        ("done", "Done in the last 7 days", work.done_recently, ""),
    ]
    context = {"work": work, "groups": groups, "today": timezone.localdate(), "statuses": StepStatus.choices}
    return render(request, "planning/my_work.html", context)


@org_view("step_update_own")
@require_POST
def step_status(request: OrgRequest, step_id: int) -> HttpResponse:
    step = org_object_or_404(ActionStep.objects.select_related("plan", "objective"), request.org, pk=step_id)
    plan = step.plan
    status_code = 200
    try:
        step = services.step_set_status(
            actor=request.membership, step=step, status=request.POST.get("status", "")
        )
    except PermissionDenied:
        raise
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
        status_code = 400
    if request.htmx:
        step = ActionStep.objects.select_related("plan", "objective", "assignee__user").get(pk=step.pk)
        today = timezone.localdate()
        step.done_this_period = (
            step.is_recurring and step.completions.filter(period_start=_occurrence(step, today)).exists()
        )
        context = {"step": step, "today": today, "statuses": StepStatus.choices, "plan": plan}
        return render(request, "planning/my_work.html#work-row", context, status=status_code)
    if status_code == 200:
        messages.success(request, _status_message(step, request.POST.get("status", "")))
    return back(request, reverse("planning:my_work", args=[request.org.slug]))


def _occurrence(step: ActionStep, today):
    from ..progress import occurrence_start

    return occurrence_start(step.recurrence, today)


OCCURRENCE_WORD = {"daily": "today", "weekly": "this week", "monthly": "this month"}


def _status_message(step: ActionStep, posted: str) -> str:
    """What changed, as the person sees it. A recurring step's "done" ticks this period off and
    leaves its status as it was: the message says both."""
    status = step.get_status_display().lower()
    if not step.is_recurring:
        return f"“{step.title}” is now {status}."
    period = OCCURRENCE_WORD.get(step.recurrence, "this period")
    if posted == StepStatus.DONE:
        return f"“{step.title}” is done for {period}. It recurs, so its status stays {status}."
    return f"“{step.title}” is no longer done for {period}; its status is {status}."
