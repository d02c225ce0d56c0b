"""KPIs, their measurements (a second value for a period is a correction that keeps the first), and the
CSV import of measurements."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.access import org_object_or_404
from bizops.models import Organization
from bizops.rest import ETAG, IF_MATCH, LOCATION, pinned_version

from .. import serializers as s
from .. import services
from ..models import KPI, Measurement
from ..rules import period_label, period_start
from ..selectors import SPARK_PERIODS, KPIRow, kpi_list, kpi_rows, measurement_history, status_of
from .common import (
    ERROR_400,
    ERROR_403,
    ERROR_404,
    ERROR_412,
    READ_ERRORS,
    OrgApi,
    conflict,
    stale_is_precondition_failed,
)

TAG = "kpis"
MEASUREMENTS_TAG = "measurements"


def kpi_for(organization: Organization, pk: int) -> KPI:
    return org_object_or_404(
        KPI.objects.select_related("owner__user").prefetch_related("objectives"), organization, pk=pk
    )


def with_status(rows: list[KPIRow]) -> list[KPI]:
    """The rows' KPIs, each carrying what ``KPISerializer`` reads beyond the model."""
    for row in rows:
        row.kpi.latest = row.latest
        row.kpi.status = row.status
        row.kpi.current_target = row.latest_target
    return [row.kpi for row in rows]


def with_series(row: KPIRow) -> KPI:
    (kpi,) = with_status([row])
    kpi.series = [
        {
            "period": period,
            "label": period_label(kpi.frequency, period),
            "value": value,
            "target": target,
            "status": None if value is None else status_of(kpi, value, target).key,
        }
        for period, value, target in row.series
    ]
    return kpi


class KPIApi(OrgApi):
    def kpi_response(self, pk: int, periods: int, *, created: bool = False) -> Response:
        """The KPI, reloaded with its people and links, its status and the series of its last periods."""
        kpi = with_series(kpi_rows(kpis=[kpi_for(self.organization, pk)], periods=periods)[0])
        location = (
            reverse("metrics_api:api_kpi_detail", args=[self.organization.slug, pk]) if created else None
        )
        return self.versioned(kpi, s.KPIDetailSerializer(kpi).data, created=created, location=location)


class KPIListApi(KPIApi):
    @extend_schema(
        operation_id="kpi_list",
        summary="List KPIs",
        description="Every KPI of the organization by name, each with its latest value, its status against "
        "the target (a key, a label and the reason in words) and the current period's target.",
        tags=[TAG],
        parameters=[s.KPIFilterSerializer],
        responses={200: s.KPISerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(s.KPIFilterSerializer, request.query_params)
        kpis, paginator = self.paginate(
            kpi_list(organization=self.organization, **filters).prefetch_related("objectives")
        )
        rows = kpi_rows(kpis=kpis)
        return paginator.get_paginated_response(s.KPISerializer(with_status(rows), many=True).data)

    @extend_schema(
        operation_id="kpi_create",
        summary="Define a KPI",
        description="Owners, admins and managers. The thresholds must agree with the direction (for "
        "`increase`, amber at or below the target and red below amber), and names are unique.",
        tags=[TAG],
        request=s.KPICreateSerializer,
        parameters=[ETAG, LOCATION],
        responses={201: s.KPIDetailSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.KPICreateSerializer, request.data)
        kpi = services.kpi_create(actor=self.membership, **data)
        return self.kpi_response(kpi.pk, SPARK_PERIODS, created=True)


class KPIDetailApi(KPIApi):
    @extend_schema(
        operation_id="kpi_retrieve",
        summary="Read a KPI",
        description="With `series`: its value (or a gap), target and status for each of the last `periods` "
        "periods, oldest first.",
        tags=[TAG],
        parameters=[s.KPIDetailQuerySerializer, ETAG],
        responses={200: s.KPIDetailSerializer, 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        query = self.validated(s.KPIDetailQuerySerializer, request.query_params)
        return self.kpi_response(pk, query["periods"])

    @extend_schema(
        operation_id="kpi_update",
        summary="Change a KPI",
        description="Owners, admins and managers. Send only what changes; `objectives` replaces the links.",
        tags=[TAG],
        request=s.KPIUpdateSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={
            200: s.KPIDetailSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: conflict("`version` is stale (`current_version` says which is).", stale=True),
            412: ERROR_412,
        },
    )
    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kpi = kpi_for(self.organization, pk)
        pinned = pinned_version(request, kpi.version)  # preconditions before the content (RFC 9110 13.2.1)
        data = self.validated(s.KPIUpdateSerializer, request.data, partial=True)
        version = data.pop("version", None)
        with stale_is_precondition_failed(version is None and pinned is not None):
            services.kpi_update(
                actor=self.membership, kpi=kpi, version=pinned if version is None else version, **data
            )
        return self.kpi_response(pk, SPARK_PERIODS)

    @extend_schema(
        operation_id="kpi_destroy",
        summary="Delete a KPI",
        description="Owners, admins and managers. Its measurements go with it.",
        tags=[TAG],
        parameters=[IF_MATCH],
        responses={204: None, 403: ERROR_403, 404: ERROR_404, 412: ERROR_412},
    )
    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kpi = kpi_for(self.organization, pk)
        pinned = pinned_version(request, kpi.version)
        with stale_is_precondition_failed(pinned is not None):
            services.kpi_delete(actor=self.membership, kpi=kpi, version=pinned)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Measurements -----------------------------------------------------------------------------------


def measurements_of(
    kpi: KPI, *, period_from: date | None = None, period_to: date | None = None, include_history: bool = False
) -> QuerySet[Measurement]:
    """The KPI's values, newest period first; corrected ones only with ``include_history``."""
    queryset = measurement_history(kpi=kpi)
    if not include_history:
        queryset = queryset.filter(is_current=True)
    if period_from is not None:
        queryset = queryset.filter(period_start__gte=period_start(kpi.frequency, period_from))
    if period_to is not None:
        queryset = queryset.filter(period_start__lte=period_to)
    return queryset


class MeasurementListApi(OrgApi):
    def kpi(self, pk: int) -> KPI:
        return org_object_or_404(KPI, self.organization, pk=pk)

    @extend_schema(
        operation_id="measurement_list",
        summary="List a KPI's measurements",
        description="Newest period first; within a period, the newest value first.",
        tags=[MEASUREMENTS_TAG],
        parameters=[s.MeasurementFilterSerializer],
        responses={200: s.MeasurementSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kpi = self.kpi(pk)
        filters = self.validated(s.MeasurementFilterSerializer, request.query_params)
        rows, paginator = self.paginate(measurements_of(kpi, **filters))
        data = s.MeasurementSerializer(rows, many=True, context={"kpi": kpi}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="measurement_create",
        summary="Record a KPI's value",
        description="For the period containing `period`. A second value for the same period is a "
        "correction: it becomes the current value and the first stays in the history (`corrects` names "
        "it). Owners, admins and managers for any KPI; members for the KPIs they own.",
        tags=[MEASUREMENTS_TAG],
        request=s.MeasurementCreateSerializer,
        responses={201: s.MeasurementSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404},
    )
    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kpi = self.kpi(pk)
        data = self.validated(s.MeasurementCreateSerializer, request.data)
        measurement = services.measurement_record(actor=self.membership, kpi=kpi, **data)
        return Response(s.MeasurementSerializer(measurement, context={"kpi": kpi}).data, status=201)


class MeasurementImportApi(OrgApi):
    # A file upload; every other body of the API is JSON (``DEFAULT_PARSER_CLASSES``).
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="measurements_import",
        summary="Import measurements from CSV",
        description="Owners, admins and managers. Every row is checked first: if any is wrong nothing is "
        "saved and the answer lists each error with its line. A value for a period that has one "
        "already is a correction.",
        tags=[MEASUREMENTS_TAG],
        request={"multipart/form-data": s.MeasurementImportSerializer},
        responses={
            200: s.MeasurementImportResultSerializer,
            400: OpenApiResponse(
                s.ImportErrorSerializer,
                description="Not a .csv file of at most 1 MB, or rows with errors (`errors`); nothing saved.",
            ),
            403: ERROR_403,
            404: ERROR_404,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.MeasurementImportSerializer, request.data)
        result = services.measurements_import_csv(actor=self.membership, content=data["file"].read())
        if result.ok:
            return Response(s.MeasurementImportResultSerializer(result).data)
        messages = [message if line == 0 else f"Line {line}: {message}" for line, message in result.errors]
        body = {
            "detail": "Nothing was saved: correct the file and import it again.",
            "code": "invalid",
            "fields": {"file": messages},
            "errors": [{"line": line, "message": message} for line, message in result.errors],
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
