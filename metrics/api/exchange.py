"""Plan files through the API: a plan's JSON document out, an uploaded plan file in as a new draft
plan (the format of the pages' download and upload, docs/plan-format.md)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.rest import LOCATION
from planning.access import plan_for

from .. import serializers as s
from ..exchange import plan_export, plan_file_document, plan_import
from .common import ERROR_400, ERROR_403, ERROR_404, READ_ERRORS, OrgApi

PLANS_TAG = "plan files"  # metrics documents its exact statuses (no 409: an import only creates)


class PlanExportApi(OrgApi):
    @extend_schema(
        operation_id="plan_export",
        summary="A plan as a plan file",
        description="The whole plan as the JSON document its Settings page downloads (format "
        "“bizops-plan”): its goal, milestones, objectives with key results and linked KPIs, and steps; "
        "people by email, teams and KPIs by name. Save it as a .json file and send it to plan_import.",
        tags=[PLANS_TAG],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The plan file."), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return Response(plan_export(plan=plan_for(self.membership, pk)))


class PlanImportApi(OrgApi):
    # A file upload, as the measurements' CSV import; every other body of the API is JSON.
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="plan_import",
        summary="Create a draft plan from a plan file",
        description="Upload a plan file (as plan_export gives it). People are matched by email, teams and "
        "KPIs by name; what does not exist here is left out and listed in `warnings`. Any error in the file "
        "answers 400 with each field's path (e.g. `milestones[0].objectives[1].title`) and saves nothing. "
        "Owners, admins and managers.",
        tags=[PLANS_TAG],
        request={"multipart/form-data": s.PlanFileUploadSerializer},
        parameters=[LOCATION],
        responses={201: s.PlanImportResultSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.PlanFileUploadSerializer, request.data)
        plan, warnings = plan_import(actor=self.membership, document=plan_file_document(data["file"]))
        body = {"id": plan.pk, "title": plan.title, "status": plan.status, "warnings": warnings}
        location = reverse("planning_api:api_plan_detail", args=[self.organization.slug, plan.pk])
        return Response(
            s.PlanImportResultSerializer(body).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )
