"""The organization's audit page for owners and admins: every write, filtered, and as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from . import selectors
from .access import org_view
from .models import AuditEvent, Membership
from .requests import OrgRequest
from .text import Form

if TYPE_CHECKING:
    from .forms import LabelledChoiceField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(Form):
    actor = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, label="Who", empty_label="Anyone"
    )
    kind = forms.ChoiceField(required=False, label="What")
    start = forms.DateField(required=False, widget=DATE, label="From")
    end = forms.DateField(required=False, widget=DATE, label="Until")

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        actor = cast("LabelledChoiceField", self.fields["actor"])
        actor.queryset = (
            Membership.objects.filter(organization=organization)
            .select_related("user")
            .order_by("user__display_name")
        )
        actor.label_from_instance = lambda m: m.user.display_name or m.user.email
        kinds = selectors.audit_kinds(organization=organization)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", "Anything")] + [
            (kind, AuditEvent.KIND_LABELS.get(kind, kind.replace("_", " ")).capitalize()) for kind in kinds
        ]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "Choose an end on or after the start.")
        return data


def _events(request: OrgRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET or None, organization=request.org)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "actor_id": data["actor"].user_id if data.get("actor") else None,
            "kind": data.get("kind") or "",
            "start": data.get("start"),
            "end": data.get("end"),
        }
    return form, selectors.audit_events(organization=request.org, **filters)


@org_view("audit_view")
def audit_log(request: OrgRequest) -> HttpResponse:
    form, events = _events(request)
    if form.is_bound and form.errors:
        events = events.none()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "bizops/audit_log.html", context, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


@org_view("audit_view")
def audit_log_csv(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered trail as CSV, streamed: a year of a big organization's events never sits in memory."""
    form, events = _events(request)
    if form.is_bound and form.errors:
        return HttpResponse(
            # An ErrorList gives its messages as text (its __getitem__), not the ValidationErrors it keeps.
            "Fix the filters first: "
            + "; ".join(e for errs in form.errors.values() for e in cast(Iterable[str], errs)),
            status=400,
            content_type="text/plain",
        )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            ["when", "who", "action", "kind", "object", "object id", "plan id", "changes", "comment"]
        )
        for event in events.iterator(chunk_size=2000):
            changes = "; ".join(f"{name}: {before} → {after}" for name, before, after in event.change_rows)
            yield writer.writerow(
                [
                    event.created_at.isoformat(),
                    _safe(event.actor_name),
                    event.action,
                    event.kind,
                    _safe(event.object_repr),
                    event.object_id or "",
                    event.plan_id or "",
                    _safe(changes),
                    _safe(event.comment),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.org.slug}-audit.csv"'
    return response


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
