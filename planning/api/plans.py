"""Plans: list, create, read, change, delete, and the whole tree."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import serializers as s
from .. import services
from ..access import plan_for
from ..selectors import display_tree, plan_list
from .common import (
    READ_ERRORS,
    PlanningApi,
    create_schema,
    detail_schemas,
    list_schema,
    pinned_version,
    precondition,
)


class PlanListApi(PlanningApi):
    @list_schema("plan", s.PlanListItemSerializer, s.PlanFilterSerializer, "plans")
    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(s.PlanFilterSerializer, request.query_params)
        return self.paginated(plan_list(organization=self.organization, **filters), s.PlanListItemSerializer)

    @create_schema(
        "plan",
        s.PlanCreateSerializer,
        s.PlanSerializer,
        "plans",
        "A draft plan. Owners, admins and managers.",
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(s.PlanCreateSerializer, request.data)
        plan = services.plan_create(actor=self.membership, **data)
        return self.detail(plan_for(self.membership, plan.pk), s.PlanSerializer, created=True)


@extend_schema_view(
    **detail_schemas(
        "plan",
        s.PlanUpdateSerializer,
        s.PlanSerializer,
        "plans",
        "Only while the plan is a draft or has changes requested; its status moves through the review.",
    )
)
class PlanDetailApi(PlanningApi):
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.detail(plan_for(self.membership, pk), s.PlanSerializer)

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        pinned = pinned_version(request, plan.version)  # preconditions before the content (RFC 9110 13.2.1)
        data = self.validated(s.PlanUpdateSerializer, request.data, partial=True)
        version = data.pop("version", None)
        with precondition(version is None and pinned is not None):
            services.plan_update(
                actor=self.membership, plan=plan, version=pinned if version is None else version, **data
            )
        return self.detail(plan_for(self.membership, pk), s.PlanSerializer)

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        pinned = pinned_version(request, plan.version)
        with precondition(pinned is not None):
            services.plan_delete(actor=self.membership, plan=plan, version=pinned)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlanTreeApi(PlanningApi):
    @extend_schema(
        operation_id="plan_tree",
        summary="Read a plan's whole tree",
        description=(
            "The plan, its milestones, their objectives and their steps, in order, each with its progress "
            "rolled up from below. Costs the same few queries whatever the plan's size."
        ),
        tags=["plans"],
        responses={200: s.PlanTreeSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        return Response(s.tree_representation(plan, display_tree(plan=plan)))
