"""One check-in: everything a person owns that is due an update, on one page, saved in one transaction.

The per-item pages (a KPI's "Record", a key result's, an objective's and a step's check-in) stay; this
page is where the check-in reminder sends people, so a week's update is one form instead of four flows.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from bizops.access import org_view
from bizops.errors import ValidationError
from bizops.forms import add_service_errors
from bizops.requests import OrgRequest

from .. import selectors, services
from ..forms import CheckInPageForm
from ..models import KPI, KeyResult


@org_view("check_in")
def check_in(request: OrgRequest) -> HttpResponse:
    today = timezone.localdate()
    items = selectors.check_in_items(membership=request.membership, today=today)
    form = CheckInPageForm(request.POST or None, items=items)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            entries = form.entries()
            if not entries:
                messages.info(request, "Nothing changed, so nothing was saved.")
                return redirect("metrics:check_in", org_slug=request.org.slug)
            try:
                services.check_in_many(actor=request.membership, entries=entries)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Check-in saved: {_summary(entries)}.")
                return redirect("metrics:check_in", org_slug=request.org.slug)
        status = 400
    context = {"items": items, "form": form, "today": today}
    return render(request, "metrics/check_in.html", context, status=status)


def _summary(entries: list[services.CheckInEntry]) -> str:
    counts = {"key result": 0, "KPI value": 0, "step": 0}
    for entry in entries:
        if isinstance(entry.target, KeyResult):
            counts["key result"] += 1
        elif isinstance(entry.target, KPI):
            counts["KPI value"] += 1
        else:
            counts["step"] += 1
    return ", ".join(f"{n} {what}{'s' if n != 1 else ''}" for what, n in counts.items() if n)
