"""KPI pages: the list with sparklines, one KPI with its chart and history, recording, CSV in and out."""

from __future__ import annotations

import csv
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bizops.access import OrgObjects, org_object_or_404, org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import add_service_errors
from bizops.requests import OrgRequest

from .. import selectors, services
from ..charts import kpi_chart, sparkline
from ..forms import ImportForm, KPIForm, MeasurementForm, PeriodTargetForm
from ..models import KPI, CheckIn, Direction, Measurement
from ..rules import period_label, period_start

CHART_PERIODS = {"weekly": 26, "monthly": 12, "quarterly": 8}


def decorate_map(rows) -> None:
    for row in rows:
        row.spark = sparkline(
            [v for _, v, _ in row.series], label=f"{row.kpi.name}, last {len(row.series)} periods"
        )
        row.may_record = False


@org_view("kpi_view")
def kpi_list(request: OrgRequest) -> HttpResponse:
    kpis = list(selectors.kpi_list(organization=request.org))
    rows = selectors.kpi_rows(kpis=kpis)
    decorate_map(rows)
    for row in rows:
        row.may_record = services.can_record(request.membership, row.kpi)
    today = timezone.localdate()
    return render(request, "metrics/kpi_list.html", {"rows": rows, "today": today})


@org_view("kpi_manage")
def kpi_create(request: OrgRequest) -> HttpResponse:
    form = KPIForm(request.POST or None, organization=request.org)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        objectives = list(data.pop("objectives") or [])
        try:
            kpi = services.kpi_create(actor=request.membership, objectives=objectives, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The KPI “{kpi.name}” is created. Record its first value.")
            return redirect("metrics:kpi_detail", org_slug=request.org.slug, kpi_id=kpi.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "metrics/kpi_form.html", {"form": form}, status=status)


@org_view("kpi_manage")
def kpi_edit(request: OrgRequest, kpi_id: int) -> HttpResponse:
    kpi = org_object_or_404(KPI, request.org, pk=kpi_id)
    form = KPIForm(request.POST or None, instance=kpi, organization=request.org)
    if request.method == "POST":
        if request.POST.get("delete") == "yes":
            try:
                services.kpi_delete(actor=request.membership, kpi=kpi)
            except Conflict as exc:  # part of a plan under review or running
                messages.error(request, exc.message)
                return redirect("metrics:kpi_edit", org_slug=request.org.slug, kpi_id=kpi.pk)
            messages.success(request, f"The KPI “{kpi.name}” and its history are deleted.")
            return redirect("metrics:kpi_list", org_slug=request.org.slug)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            data["objectives"] = list(data.get("objectives") or [])
            try:
                services.kpi_update(actor=request.membership, kpi=kpi, version=version, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "The KPI is saved.")
                return redirect("metrics:kpi_detail", org_slug=request.org.slug, kpi_id=kpi.pk)
    status = 400 if form.is_bound and form.errors else 200
    kpi.refresh_from_db()
    return render(request, "metrics/kpi_form.html", {"form": form, "kpi": kpi}, status=status)


KPIS = OrgObjects(lambda: KPI.objects.select_related("owner__user"))


@org_view("kpi_view")
def kpi_detail(request: OrgRequest, kpi_id: int) -> HttpResponse:
    kpi = cast(KPI, KPIS.get_or_404(request.org, kpi_id))
    return _render_detail(request, kpi, MeasurementForm(initial={"period": timezone.localdate()}))


def _render_detail(request: OrgRequest, kpi: KPI, form: MeasurementForm, status: int = 200) -> HttpResponse:
    periods = CHART_PERIODS[kpi.frequency]
    row = selectors.kpi_rows(kpis=[kpi], periods=periods)[0]
    statuses = [selectors.status_of(kpi, v, t) if v is not None else None for _, v, t in row.series]
    labels = [period_label(kpi.frequency, p) for p, _, _ in row.series]
    chart = kpi_chart(
        series=row.series,
        statuses=statuses,
        labels=labels,
        target_upper=kpi.target_upper,
        amber=kpi.amber_threshold,
        red=kpi.red_threshold,
        within=kpi.direction == Direction.WITHIN,
        title=f"{kpi.name}: the last {periods} periods against the target",
    )
    history = Paginator(selectors.measurement_history(kpi=kpi), 50).get_page(request.GET.get("page"))
    for m in history.object_list:
        m.label = period_label(kpi.frequency, m.period_start)
    context = {
        "kpi": kpi,
        "row": row,
        "chart": chart,
        "history": history,
        "form": form if services.can_record(request.membership, kpi) else None,
        "objectives": kpi.objectives.select_related("plan").order_by("plan__title"),
        "target_form": PeriodTargetForm(initial={"period": timezone.localdate()})
        if request.can.kpi_manage
        else None,
        "period_targets": kpi.period_targets.order_by("-period_start")[:24],
        "current_period": period_label(kpi.frequency, period_start(kpi.frequency, timezone.localdate())),
    }
    return render(request, "metrics/kpi_detail.html", context, status=status)


@org_view("kpi_record")
@require_POST
def measurement_create(request: OrgRequest, kpi_id: int) -> HttpResponse:
    kpi = cast(KPI, KPIS.get_or_404(request.org, kpi_id))
    form = MeasurementForm(request.POST)
    if form.is_valid():
        try:
            measurement = services.measurement_record(actor=request.membership, kpi=kpi, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            label = period_label(kpi.frequency, measurement.period_start)
            corrected = (
                " (a correction: the earlier value stays in the history)" if measurement.corrects_id else ""
            )
            if request.htmx and request.POST.get("from") == "list":
                row = selectors.kpi_rows(kpis=[kpi])[0]
                decorate_map([row])
                row.may_record = True
                row.just_saved = f"Saved {label}{corrected}."
                return render(request, "metrics/kpi_list.html#kpi-row", {"row": row})
            messages.success(request, f"Recorded {measurement.value.normalize():f} for {label}{corrected}.")
            return redirect("metrics:kpi_detail", org_slug=request.org.slug, kpi_id=kpi.pk)
    if request.htmx and request.POST.get("from") == "list":
        row = selectors.kpi_rows(kpis=[kpi])[0]
        decorate_map([row])
        row.may_record = True
        # An ErrorList gives its messages (str), not the ValidationErrors the stubs type its items as.
        row.error = " ".join(cast(str, e) for errors in form.errors.values() for e in errors)
        return render(request, "metrics/kpi_list.html#kpi-row", {"row": row}, status=400)
    return _render_detail(request, kpi, form, status=400)


# --- CSV ----------------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_safe(cell) for cell in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(cell):
    """Neutralise spreadsheet formulas in user text (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


@org_view("kpi_view")
def measurements_export(request: OrgRequest) -> StreamingHttpResponse:
    rows = (
        Measurement.objects.filter(organization=request.org)
        .select_related("kpi", "recorded_by")
        .order_by("kpi__name", "period_start", "recorded_at")
        .values_list(
            "kpi__name", "period_start", "value", "note", "is_current", "recorded_by__email", "recorded_at"
        )
        .iterator(chunk_size=2000)
    )
    header = ["kpi", "period", "value", "note", "current", "recorded_by", "recorded_at"]
    return _csv_response(f"{request.org.slug}-measurements.csv", header, rows)


@org_view("kpi_view")
def check_ins_export(request: OrgRequest) -> StreamingHttpResponse:
    rows = (
        CheckIn.objects.filter(organization=request.org)
        .order_by("created_at", "pk")
        .values_list(
            "created_at",
            "plan__title",
            "target",
            "key_result__title",
            "objective__title",
            "step__title",
            "value",
            "step_status",
            "confidence",
            "note",
            "author__email",
        )
        .iterator(chunk_size=2000)
    )
    header = [
        "at",
        "plan",
        "on",
        "key_result",
        "objective",
        "step",
        "value",
        "step_status",
        "confidence",
        "note",
        "author",
    ]
    return _csv_response(f"{request.org.slug}-check-ins.csv", header, rows)


@org_view("metrics_import")
def measurements_import(request: OrgRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(".csv") or upload.size > services.MAX_IMPORT_BYTES:
            form.add_error("file", "Upload a .csv file of at most 1 MB.")
            status = 400
        else:
            result = services.measurements_import_csv(actor=request.membership, content=upload.read())
            if result.ok:
                messages.success(
                    request, f"Imported {result.saved} measurement{'s' if result.saved != 1 else ''}."
                )
                return redirect("metrics:kpi_list", org_slug=request.org.slug)
            status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "metrics/import.html", {"form": form, "result": result}, status=status)


@org_view("kpi_manage")
@require_POST
def period_target_set(request: OrgRequest, kpi_id: int) -> HttpResponse:
    kpi = org_object_or_404(KPI, request.org, pk=kpi_id)
    form = PeriodTargetForm(request.POST)
    if form.is_valid():
        try:
            services.kpi_target_set(actor=request.membership, kpi=kpi, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:  # the period belongs to a plan under review or running
            messages.error(request, exc.message)
        else:
            messages.success(request, "The period's target is saved.")
    else:
        messages.error(request, "Choose a period and a number.")
    return redirect("metrics:kpi_detail", org_slug=request.org.slug, kpi_id=kpi.pk)
