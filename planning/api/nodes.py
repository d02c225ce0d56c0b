"""Milestones, objectives and steps: one set of views, configured per kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.access import org_object_or_404
from bizops.models import Organization

from .. import serializers as s
from .. import services
from ..models import ActionStep, Milestone, Objective
from ..selectors import milestone_list, objective_list, step_list
from .common import (
    ERROR_412,
    ERROR_428,
    ETAG,
    IF_MATCH_REQUIRED,
    WRITE_ERRORS,
    Node,
    PlanningApi,
    create_schema,
    detail_schemas,
    fields_renamed,
    list_schema,
    pinned_version,
    precondition,
    required_version,
)

NODE_RELATED: dict[type[Model], tuple[str, ...]] = {
    Milestone: ("plan", "owner__user"),
    Objective: ("plan", "owner__user", "team"),
    ActionStep: ("plan", "assignee__user"),
}


N = TypeVar("N", bound=Node)  # one kind of node, or any of them


def node_for(organization: Organization, model: type[N], pk: int) -> N:
    return org_object_or_404(model.objects.select_related(*NODE_RELATED[model]), organization, pk=pk)


class NodeListApi(PlanningApi):
    model: ClassVar[type[Node]]
    output: ClassVar[type[serializers.Serializer]]
    create_input: ClassVar[type[serializers.Serializer]]
    filters: ClassVar[type[serializers.Serializer]]
    # list_query(organization=, **filters) -> queryset; create_service(actor=, <parent>=, **fields).
    list_query: Callable[..., QuerySet]
    create_service: Callable[..., Node]

    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(self.filters, request.query_params)
        return self.paginated(self.list_query(organization=self.organization, **filters), self.output)

    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(self.create_input, request.data)
        node = self.create_service(actor=self.membership, **data)
        return self.detail(node_for(self.organization, self.model, node.pk), self.output, created=True)


class NodeDetailApi(PlanningApi):
    model: ClassVar[type[Node]]
    output: ClassVar[type[serializers.Serializer]]
    update_input: ClassVar[type[serializers.Serializer]]

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.detail(node_for(self.organization, self.model, pk), self.output)

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        node = node_for(self.organization, self.model, pk)
        pinned = pinned_version(request, node.version)  # preconditions before the content (RFC 9110 13.2.1)
        data = self.validated(self.update_input, request.data, partial=True)
        version = data.pop("version", None)
        with precondition(version is None and pinned is not None):
            services.node_update(
                actor=self.membership, node=node, version=pinned if version is None else version, **data
            )
        return self.detail(node_for(self.organization, self.model, pk), self.output)

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        node = node_for(self.organization, self.model, pk)
        pinned = required_version(request, node.version)
        with precondition(pinned is not None):
            services.node_delete(actor=self.membership, node=node, version=pinned)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeMoveApi(PlanningApi):
    model: ClassVar[type[Node]]
    output: ClassVar[type[serializers.Serializer]]
    move_input: ClassVar[type[serializers.Serializer]]
    parent_field: ClassVar[str] = ""

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        node = node_for(self.organization, self.model, pk)
        pinned = required_version(request, node.version)
        data = self.validated(self.move_input, request.data)
        parent = data.pop(self.parent_field, None) if self.parent_field else None
        # The service compares the pinned version again under the plan's lock: of concurrent moves
        # sent with one ETag, exactly one succeeds.
        with fields_renamed(parent=self.parent_field or "parent"), precondition(pinned is not None):
            services.node_move(actor=self.membership, node=node, parent=parent, version=pinned, **data)
        return self.detail(node_for(self.organization, self.model, pk), self.output)


def move_schema(kind: str, request, output, tag: str, description: str):
    return extend_schema(
        operation_id=f"{kind}_move",
        summary=f"Move a {kind}",
        description=description,
        tags=[tag],
        request=request,
        parameters=[IF_MATCH_REQUIRED, ETAG],
        responses={200: output, **WRITE_ERRORS, 412: ERROR_412, 428: ERROR_428},
    )


NODE_UPDATE_HELP = (
    "Send only what changes. Only while the plan is a draft or has changes requested; owners, admins, "
    "managers and the plan's owner."
)

# Milestones


@extend_schema_view(
    get=list_schema("milestone", s.MilestoneSerializer, s.MilestoneFilterSerializer, "milestones"),
    post=create_schema(
        "milestone",
        s.MilestoneCreateSerializer,
        s.MilestoneSerializer,
        "milestones",
        "Added last under the plan's goal.",
    ),
)
class MilestoneListApi(NodeListApi):
    model = Milestone
    output = s.MilestoneSerializer
    create_input = s.MilestoneCreateSerializer
    filters = s.MilestoneFilterSerializer
    list_query = staticmethod(milestone_list)
    create_service = staticmethod(services.milestone_create)


@extend_schema_view(
    **detail_schemas(
        "milestone",
        s.MilestoneUpdateSerializer,
        s.MilestoneSerializer,
        "milestones",
        NODE_UPDATE_HELP,
        delete_needs_if_match=True,
    )
)
class MilestoneDetailApi(NodeDetailApi):
    model = Milestone
    output = s.MilestoneSerializer
    update_input = s.MilestoneUpdateSerializer


@extend_schema_view(
    post=move_schema(
        "milestone",
        s.MilestoneMoveSerializer,
        s.MilestoneSerializer,
        "milestones",
        "Reorder among the plan's milestones: `direction` up/down or a `position`.",
    )
)
class MilestoneMoveApi(NodeMoveApi):
    model = Milestone
    output = s.MilestoneSerializer
    move_input = s.MilestoneMoveSerializer


# Objectives


@extend_schema_view(
    get=list_schema("objective", s.ObjectiveSerializer, s.ObjectiveFilterSerializer, "objectives"),
    post=create_schema(
        "objective",
        s.ObjectiveCreateSerializer,
        s.ObjectiveSerializer,
        "objectives",
        "Added last under the milestone.",
    ),
)
class ObjectiveListApi(NodeListApi):
    model = Objective
    output = s.ObjectiveSerializer
    create_input = s.ObjectiveCreateSerializer
    filters = s.ObjectiveFilterSerializer
    list_query = staticmethod(objective_list)
    create_service = staticmethod(services.objective_create)


@extend_schema_view(
    **detail_schemas(
        "objective",
        s.ObjectiveUpdateSerializer,
        s.ObjectiveSerializer,
        "objectives",
        NODE_UPDATE_HELP,
        delete_needs_if_match=True,
    )
)
class ObjectiveDetailApi(NodeDetailApi):
    model = Objective
    output = s.ObjectiveSerializer
    update_input = s.ObjectiveUpdateSerializer


@extend_schema_view(
    post=move_schema(
        "objective",
        s.ObjectiveMoveSerializer,
        s.ObjectiveSerializer,
        "objectives",
        "Reorder under its milestone (`direction` or `position`), and/or move it under another `milestone` "
        "of the same plan.",
    )
)
class ObjectiveMoveApi(NodeMoveApi):
    model = Objective
    output = s.ObjectiveSerializer
    move_input = s.ObjectiveMoveSerializer
    parent_field = "milestone"


# Steps


@extend_schema_view(
    get=list_schema("step", s.StepSerializer, s.StepFilterSerializer, "steps"),
    post=create_schema(
        "step", s.StepCreateSerializer, s.StepSerializer, "steps", "Added last under the objective."
    ),
)
class StepListApi(NodeListApi):
    model = ActionStep
    output = s.StepSerializer
    create_input = s.StepCreateSerializer
    filters = s.StepFilterSerializer
    list_query = staticmethod(step_list)
    create_service = staticmethod(services.step_create)


@extend_schema_view(
    **detail_schemas(
        "step",
        s.StepUpdateSerializer,
        s.StepSerializer,
        "steps",
        NODE_UPDATE_HELP + " A step's assignee may change its `status` and `notes` while the plan runs.",
        delete_needs_if_match=True,
    )
)
class StepDetailApi(NodeDetailApi):
    model = ActionStep
    output = s.StepSerializer
    update_input = s.StepUpdateSerializer


@extend_schema_view(
    post=move_schema(
        "step",
        s.StepMoveSerializer,
        s.StepSerializer,
        "steps",
        "Reorder under its objective (`direction` or `position`), and/or move it under another `objective` "
        "of the same plan.",
    )
)
class StepMoveApi(NodeMoveApi):
    model = ActionStep
    output = s.StepSerializer
    move_input = s.StepMoveSerializer
    parent_field = "objective"


class StepStatusApi(PlanningApi):
    @extend_schema(
        operation_id="step_set_status",
        summary="Set a step's status",
        description=(
            "The one-click status change. Editors of the plan, and the step's assignee, while the plan is not "
            "closed. For a recurring step, `done` checks off the current day, week or month."
        ),
        tags=["steps"],
        request=s.StepStatusChangeSerializer,
        parameters=[ETAG],
        responses={200: s.StepSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        step = node_for(self.organization, ActionStep, pk)
        data = self.validated(s.StepStatusChangeSerializer, request.data)
        services.step_set_status(actor=self.membership, step=step, status=data["status"])
        return self.detail(node_for(self.organization, ActionStep, pk), s.StepSerializer)
