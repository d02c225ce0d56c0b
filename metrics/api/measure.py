"""Measuring the plan: key results on objectives, check-ins, and the progress roll-up that explains itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.access import org_object_or_404
from bizops.models import Organization
from bizops.rest import ETAG, IF_MATCH, LOCATION, pinned_version
from bizops.search import Terms, matching
from planning.access import plan_for
from planning.selectors import display_tree
from planning.services.running import organization_date

from .. import selectors, services
from .. import serializers as s
from ..models import CheckIn, KeyResult
from ..search import KEY_RESULT_SEARCHED
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

KEY_RESULTS_TAG = "key results"
CHECK_INS_TAG = "check-ins"

PLAN_LOCKED = (
    "The plan is not a draft (in review, approved, running or closed): its key results change through an "
    "amendment."
)

# --- Key results ------------------------------------------------------------------------------------


def key_result_for(organization: Organization, pk: int) -> KeyResult:
    return org_object_or_404(KeyResult.objects.select_related("owner__user"), organization, pk=pk)


def key_results_of(
    organization: Organization,
    *,
    plan: int | None = None,
    objective: int | None = None,
    owner: int | None = None,
    q: str = "",
) -> QuerySet[KeyResult]:
    """The organization's key results in tree order: by plan, milestone, objective, then their own order;
    with ``q``, those holding its words, best match first."""
    order = ("plan_id", "objective__milestone__position", "objective__position", "position", "pk")
    queryset: QuerySet[KeyResult] = (
        KeyResult.objects.filter(organization=organization).select_related("owner__user").order_by(*order)
    )
    if q:
        queryset = matching(queryset, KEY_RESULT_SEARCHED, Terms.parse(q)).order_by("-search_rank", *order)
    if plan is not None:
        queryset = queryset.filter(plan_id=plan)
    if objective is not None:
        queryset = queryset.filter(objective_id=objective)
    if owner is not None:
        queryset = queryset.filter(Q(owner_id=owner) | Q(owner__isnull=True, objective__owner_id=owner))
    return queryset


class KeyResultApi(OrgApi):
    def key_result_response(self, pk: int, *, created: bool = False) -> Response:
        kr = key_result_for(self.organization, pk)
        location = (
            reverse("metrics_api:api_key_result_detail", args=[self.organization.slug, pk])
            if created
            else None
        )
        return self.versioned(kr, s.KeyResultSerializer(kr).data, created=created, location=location)


class KeyResultListApi(KeyResultApi):
    @extend_schema(
        operation_id="key_result_list",
        summary="List key results",
        description="In the order of the plan's tree, each with its progress from start to target.",
        tags=[KEY_RESULTS_TAG],
        parameters=[s.KeyResultFilterSerializer],
        responses={200: s.KeyResultSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(s.KeyResultFilterSerializer, request.query_params)
        return self.paginated(key_results_of(self.organization, **filters), s.KeyResultSerializer)

    @extend_schema(
        operation_id="key_result_create",
        summary="Add a key result to an objective",
        description="Added last among the objective's key results. While the plan is a draft or has "
        "changes requested; the plan's owner, managers, admins and owners.",
        tags=[KEY_RESULTS_TAG],
        request=s.KeyResultCreateSerializer,
        parameters=[ETAG, LOCATION],
        responses={
            201: s.KeyResultSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: conflict(PLAN_LOCKED),
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.KeyResultCreateSerializer, request.data)
        kr = services.key_result_create(actor=self.membership, **data)
        return self.key_result_response(kr.pk, created=True)


class KeyResultDetailApi(KeyResultApi):
    @extend_schema(
        operation_id="key_result_retrieve",
        summary="Read a key result",
        tags=[KEY_RESULTS_TAG],
        parameters=[ETAG],
        responses={200: s.KeyResultSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.key_result_response(pk)

    @extend_schema(
        operation_id="key_result_update",
        summary="Change a key result",
        description="Send only what changes. While the plan is a draft or has changes requested; the plan's "
        "owner, managers, admins and owners. Its value moves with check-ins.",
        tags=[KEY_RESULTS_TAG],
        request=s.KeyResultUpdateSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={
            200: s.KeyResultSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: conflict(
                f"{PLAN_LOCKED} Or `version` is stale (`current_version` says which is).", stale=True
            ),
            412: ERROR_412,
        },
    )
    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kr = key_result_for(self.organization, pk)
        pinned = pinned_version(request, kr.version)  # preconditions before the content (RFC 9110 13.2.1)
        data = self.validated(s.KeyResultUpdateSerializer, request.data, partial=True)
        version = data.pop("version", None)
        with stale_is_precondition_failed(version is None and pinned is not None):
            services.key_result_update(
                actor=self.membership, key_result=kr, version=pinned if version is None else version, **data
            )
        return self.key_result_response(pk)

    @extend_schema(
        operation_id="key_result_destroy",
        summary="Delete a key result",
        description="With its check-ins. While the plan is a draft or has changes requested; the plan's "
        "owner, managers, admins and owners.",
        tags=[KEY_RESULTS_TAG],
        parameters=[IF_MATCH],
        responses={204: None, 403: ERROR_403, 404: ERROR_404, 409: conflict(PLAN_LOCKED), 412: ERROR_412},
    )
    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        kr = key_result_for(self.organization, pk)
        pinned = pinned_version(request, kr.version)
        with stale_is_precondition_failed(pinned is not None):
            services.key_result_delete(actor=self.membership, key_result=kr, version=pinned)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Check-ins --------------------------------------------------------------------------------------


def check_ins_of(
    organization: Organization,
    *,
    plan: int | None = None,
    objective: int | None = None,
    key_result: int | None = None,
    step: int | None = None,
    author: int | None = None,
    since: datetime | None = None,
) -> QuerySet[CheckIn]:
    """The organization's check-ins, newest first; an objective's include its key results' ones."""
    queryset = (
        CheckIn.objects.filter(organization=organization)
        .select_related("author", "key_result", "objective", "step")
        .order_by("-created_at", "-pk")
    )
    if plan is not None:
        queryset = queryset.filter(plan_id=plan)
    if objective is not None:
        queryset = queryset.filter(selectors.objective_check_ins(objective))
    if key_result is not None:
        queryset = queryset.filter(key_result_id=key_result)
    if step is not None:
        queryset = queryset.filter(step_id=step)
    if author is not None:
        queryset = queryset.filter(author_id=author)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset


# target -> the service; the input serializer leaves exactly that service's keyword arguments.
CHECK_IN_SERVICES: dict[str, Callable[..., CheckIn]] = {
    CheckIn.Target.KEY_RESULT: services.check_in_key_result,
    CheckIn.Target.OBJECTIVE: services.check_in_objective,
    CheckIn.Target.STEP: services.check_in_step,
}


class CheckInListApi(OrgApi):
    @extend_schema(
        operation_id="check_in_list",
        summary="List check-ins",
        description="Newest first.",
        tags=[CHECK_INS_TAG],
        parameters=[s.CheckInFilterSerializer],
        responses={200: s.CheckInSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(s.CheckInFilterSerializer, request.query_params)
        return self.paginated(check_ins_of(self.organization, **filters), s.CheckInSerializer)

    @extend_schema(
        operation_id="check_in_create",
        summary="Check in",
        description="On a key result (its new `value`, which becomes its current value), an objective, or "
        "a step (its new `status`), with your `confidence` and a note. People check in on what they own "
        "(a key result without an owner belongs to its objective's owner) and on the steps assigned to "
        "them; managers on their teams' work; admins and owners on everything.",
        tags=[CHECK_INS_TAG],
        request=s.CheckInCreateSerializer,
        responses={
            201: s.CheckInSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: conflict("The plan is closed: check-ins are over."),
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.CheckInCreateSerializer, request.data)
        check_in = CHECK_IN_SERVICES[data.pop("target")](actor=self.membership, **data)
        return Response(s.CheckInSerializer(check_in).data, status=status.HTTP_201_CREATED)


# --- Progress ---------------------------------------------------------------------------------------


class PlanProgressApi(OrgApi):
    @extend_schema(
        operation_id="plan_progress",
        summary="Explain a plan's progress",
        description="Every figure of the roll-up with the parts it was computed from: the plan from its "
        "milestones, each milestone from its objectives, each objective from its steps and key results, "
        "weighted. Costs the same few queries whatever the plan's size.",
        tags=["plans"],
        responses={200: s.PlanProgressSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        tree = display_tree(plan=plan_for(self.membership, pk))
        return Response(s.PlanProgressSerializer(s.plan_progress(tree)).data)


class PlanHistoryApi(OrgApi):
    @extend_schema(
        operation_id="plan_history",
        summary="A plan's progress over time, and where it will land",
        description="The plan's progress a day at a time against the expected pace, and the forecast of the "
        "plan, each objective and each key result: where it lands by its due date at the pace of the last 4 "
        "weeks (or of its history, once it has a week of it), with the rule in words. Costs the same few "
        "queries whatever the plan's size or age.",
        tags=["plans"],
        responses={200: s.PlanHistorySerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        history = selectors.plan_history(plan=plan, today=organization_date(self.membership.organization))
        return Response(s.PlanHistorySerializer(s.plan_history_data(history)).data)
