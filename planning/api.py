"""The planning REST API: plans and their goal tree, scoped to the organization in the URL.

Every view resolves the caller's membership of ``org_slug`` (a non-member gets 404) and looks objects
up inside that organization only, so another organization's ids answer 404 like missing ones. A view
checks the request's shape with a serializer and calls one service; the services decide who may do
what and raise ``PermissionDenied`` (403), ``ValidationError`` (400) or ``Conflict`` (409), which
``bizops.api.exception_handler`` turns into the one error body ``{"detail", "code", "fields"}``.

Concurrency: a detail response carries ``ETag: "v<version>"``. PATCH and DELETE honour ``If-Match``
(stale → 412 Precondition Failed); PATCH also takes a ``version`` field (stale → 409 with
``current_version``). Without either, the edit applies to whatever is current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from bizops.access import membership_for, org_object_or_404
from bizops.models import Membership, Organization

from . import serializers as s
from . import services
from .access import plan_for
from .models import ActionStep, Milestone, Objective, Plan
from .selectors import plan_list, plan_tree

Node = Milestone | Objective | ActionStep

# --- Concurrency: ETag and If-Match ---------------------------------------------------------------


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "It changed since you loaded it: If-Match does not match its current ETag. Reload it and retry."
    )
    default_code = "precondition_failed"


def etag(version: int) -> str:
    return f'"v{version}"'


def pinned_version(request: Request, current_version: int) -> int | None:
    """The version an ``If-Match`` header pins (412 unless it is the current one); None without one.

    ``*`` matches any current version. Weak tags are compared by value as well: a proxy that
    compresses responses weakens our ETag, and clients echo what they got.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = {tag.removeprefix("W/") for tag in parse_etags(header)}
    if "*" in tags:
        return None
    if etag(current_version) not in tags:
        raise PreconditionFailed()
    return current_version


@contextmanager
def precondition(pinned_by_header: bool) -> Iterator[None]:
    """A stale edit whose version came from If-Match (someone saved between our check and the
    service's row lock) is still a failed precondition, not a 409."""
    try:
        yield
    except services.StaleEdit:
        if pinned_by_header:
            raise PreconditionFailed() from None
        raise


@contextmanager
def fields_renamed(**names: str) -> Iterator[None]:
    """Report a service's field errors under the names the client sent (``parent`` → ``milestone``)."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({names.get(k, k): v for k, v in exc.error_dict.items()}) from None


# --- Lookups inside the caller's organization -----------------------------------------------------

NODE_RELATED: dict[type[Model], tuple[str, ...]] = {
    Milestone: ("plan", "owner__user"),
    Objective: ("plan", "owner__user", "team"),
    ActionStep: ("plan", "assignee__user"),
}


def node_for(organization: Organization, model: type[Node], pk: int) -> Node:
    return org_object_or_404(model.objects.select_related(*NODE_RELATED[model]), organization, pk=pk)


# The node lists (reads of more than one line belong in selectors.py; they live here until it takes them).


def milestone_list(organization: Organization, **filters: int) -> QuerySet[Milestone]:
    """Filters: plan (id). In order within each plan."""
    qs = Milestone.objects.filter(organization=organization).select_related("owner__user")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    return qs.order_by("plan_id", "position", "pk")


def objective_list(organization: Organization, **filters: int) -> QuerySet[Objective]:
    """Filters: plan, milestone, team, owner (ids). In tree order within each plan."""
    qs = Objective.objects.filter(organization=organization).select_related("owner__user", "team")
    qs = qs.filter(**{f"{name}_id": value for name, value in filters.items()})
    return qs.order_by("plan_id", "milestone__position", "milestone_id", "position", "pk")


def step_list(organization: Organization, **filters: Any) -> QuerySet[ActionStep]:
    """Filters: plan, objective, assignee (ids), status, due_before/due_after (inclusive). Tree order."""
    lookups = {"due_before": "due_date__lte", "due_after": "due_date__gte", "status": "status"}
    qs = ActionStep.objects.filter(organization=organization).select_related("assignee__user")
    qs = qs.filter(**{lookups.get(name, f"{name}_id"): value for name, value in filters.items()})
    return qs.order_by(
        "plan_id",
        "objective__milestone__position",
        "objective__milestone_id",
        "objective__position",
        "objective_id",
        "position",
        "pk",
    )


# --- Schema pieces ----------------------------------------------------------------------------------

ERROR_400 = OpenApiResponse(s.ErrorSerializer, description="Invalid input; `fields` has a message per field.")
ERROR_403 = OpenApiResponse(s.ErrorSerializer, description="Not logged in, or not allowed to do this.")
ERROR_404 = OpenApiResponse(
    s.ErrorSerializer, description="No such object in this organization, or not a member."
)
ERROR_409 = OpenApiResponse(
    s.ConflictErrorSerializer,
    description="Not possible in the plan's current state, or `version` is stale (`current_version` says which is).",
)
ERROR_412 = OpenApiResponse(s.ErrorSerializer, description="If-Match does not match the current ETag.")
READ_ERRORS = {403: ERROR_403, 404: ERROR_404}
WRITE_ERRORS = {400: ERROR_400, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409}

ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The version of what was returned, e.g. `"v3"`; send it back in If-Match.',
)
LOCATION = OpenApiParameter("Location", str, OpenApiParameter.HEADER, response=[201], description="Its URL.")
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag you loaded, e.g. `"v3"`: refuse (412) if it changed since.',
)


def _list_schema(kind: str, output, filters, tag: str):
    return extend_schema(
        operation_id=f"{kind}_list",
        summary=f"List {tag}",
        tags=[tag],
        parameters=[filters],
        responses={200: output(many=True), 400: ERROR_400, **READ_ERRORS},
    )


def _create_schema(kind: str, request, output, tag: str, description: str):
    return extend_schema(
        operation_id=f"{kind}_create",
        summary=f"Create a {kind}",
        description=description,
        tags=[tag],
        request=request,
        parameters=[ETAG, LOCATION],
        responses={201: output, **WRITE_ERRORS},
    )


def _detail_schemas(kind: str, update, output, tag: str, update_description: str) -> dict[str, Any]:
    return {
        "get": extend_schema(
            operation_id=f"{kind}_retrieve",
            summary=f"Read a {kind}",
            tags=[tag],
            parameters=[ETAG],
            responses={200: output, **READ_ERRORS},
        ),
        "patch": extend_schema(
            operation_id=f"{kind}_update",
            summary=f"Change a {kind}",
            description=update_description,
            tags=[tag],
            request=update,
            parameters=[IF_MATCH, ETAG],
            responses={200: output, **WRITE_ERRORS, 412: ERROR_412},
        ),
        "delete": extend_schema(
            operation_id=f"{kind}_destroy",
            summary=f"Delete a {kind}",
            tags=[tag],
            parameters=[IF_MATCH],
            responses={204: None, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409, 412: ERROR_412},
        ),
    }


# --- Base view --------------------------------------------------------------------------------------


class OrgApi(APIView):
    """An endpoint under ``/api/v1/orgs/<org_slug>/``: sets ``membership`` and ``organization``."""

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    membership: Membership
    organization: Organization

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: anonymous never gets here
        self.membership = membership_for(request.user, kwargs["org_slug"])
        self.organization = self.membership.organization

    def validated(
        self, serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any
    ) -> dict[str, Any]:
        serializer = serializer_class(data=data, context={"organization": self.organization}, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginated(self, queryset: QuerySet, serializer_class: type[serializers.Serializer]) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)

    def detail(self, obj: Plan | Node, serializer_class, *, created: bool = False) -> Response:
        response = Response(serializer_class(obj).data, status=201 if created else 200)
        response["ETag"] = etag(obj.version)
        if created:
            name = "api_plan_detail" if isinstance(obj, Plan) else f"api_{obj.kind}_detail"
            response["Location"] = reverse(name, args=[self.organization.slug, obj.pk])
        return response


# --- Plans ------------------------------------------------------------------------------------------


class PlanListApi(OrgApi):
    @_list_schema("plan", s.PlanListItemSerializer, s.PlanFilterSerializer, "plans")
    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(s.PlanFilterSerializer, request.query_params)
        return self.paginated(plan_list(organization=self.organization, **filters), s.PlanListItemSerializer)

    @_create_schema(
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
    **_detail_schemas(
        "plan",
        s.PlanUpdateSerializer,
        s.PlanSerializer,
        "plans",
        "Only while the plan is a draft or has changes requested; its status moves through the review.",
    )
)
class PlanDetailApi(OrgApi):
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


class PlanTreeApi(OrgApi):
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
        return Response(s.PlanTreeSerializer(plan, context={"tree": plan_tree(plan=plan)}).data)


# --- Tree nodes: one set of views, configured per kind ----------------------------------------------


class NodeListApi(OrgApi):
    model: ClassVar[type[Node]]
    output: ClassVar[type[serializers.Serializer]]
    create_input: ClassVar[type[serializers.Serializer]]
    filters: ClassVar[type[serializers.Serializer]]
    # list_query(organization, **filters) -> queryset; create_service(actor=, <parent>=, **fields).
    list_query: Callable[..., QuerySet]
    create_service: Callable[..., Node]

    def get(self, request: Request, **kwargs: Any) -> Response:
        filters = self.validated(self.filters, request.query_params)
        return self.paginated(self.list_query(self.organization, **filters), self.output)

    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(self.create_input, request.data)
        node = self.create_service(actor=self.membership, **data)
        return self.detail(node_for(self.organization, self.model, node.pk), self.output, created=True)


class NodeDetailApi(OrgApi):
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
        pinned = pinned_version(request, node.version)
        with precondition(pinned is not None):
            services.node_delete(actor=self.membership, node=node, version=pinned)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeMoveApi(OrgApi):
    model: ClassVar[type[Node]]
    output: ClassVar[type[serializers.Serializer]]
    move_input: ClassVar[type[serializers.Serializer]]
    parent_field: ClassVar[str] = ""

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        node = node_for(self.organization, self.model, pk)
        data = self.validated(self.move_input, request.data)
        parent = data.pop(self.parent_field, None) if self.parent_field else None
        with fields_renamed(parent=self.parent_field or "parent"):
            services.node_move(actor=self.membership, node=node, parent=parent, **data)
        return self.detail(node_for(self.organization, self.model, pk), self.output)


def _move_schema(kind: str, request, output, tag: str, description: str):
    return extend_schema(
        operation_id=f"{kind}_move",
        summary=f"Move a {kind}",
        description=description,
        tags=[tag],
        request=request,
        parameters=[ETAG],
        responses={200: output, **WRITE_ERRORS},
    )


NODE_UPDATE_HELP = (
    "Send only what changes. Only while the plan is a draft or has changes requested; owners, admins, "
    "managers and the plan's owner."
)

# Milestones


@extend_schema_view(
    get=_list_schema("milestone", s.MilestoneSerializer, s.MilestoneFilterSerializer, "milestones"),
    post=_create_schema(
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
    **_detail_schemas(
        "milestone", s.MilestoneUpdateSerializer, s.MilestoneSerializer, "milestones", NODE_UPDATE_HELP
    )
)
class MilestoneDetailApi(NodeDetailApi):
    model = Milestone
    output = s.MilestoneSerializer
    update_input = s.MilestoneUpdateSerializer


@extend_schema_view(
    post=_move_schema(
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
    get=_list_schema("objective", s.ObjectiveSerializer, s.ObjectiveFilterSerializer, "objectives"),
    post=_create_schema(
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
    **_detail_schemas(
        "objective", s.ObjectiveUpdateSerializer, s.ObjectiveSerializer, "objectives", NODE_UPDATE_HELP
    )
)
class ObjectiveDetailApi(NodeDetailApi):
    model = Objective
    output = s.ObjectiveSerializer
    update_input = s.ObjectiveUpdateSerializer


@extend_schema_view(
    post=_move_schema(
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
    get=_list_schema("step", s.StepSerializer, s.StepFilterSerializer, "steps"),
    post=_create_schema(
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
    **_detail_schemas(
        "step",
        s.StepUpdateSerializer,
        s.StepSerializer,
        "steps",
        NODE_UPDATE_HELP + " A step's assignee may change its `status` and `notes` while the plan runs.",
    )
)
class StepDetailApi(NodeDetailApi):
    model = ActionStep
    output = s.StepSerializer
    update_input = s.StepUpdateSerializer


@extend_schema_view(
    post=_move_schema(
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


class StepStatusApi(OrgApi):
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
