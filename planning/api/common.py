"""What every planning endpoint shares: the base view, ETag and If-Match, and the schema pieces."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from bizops.access import membership_for
from bizops.authentication import require_token_organization
from bizops.models import Membership, Organization

from .. import serializers as s
from .. import services
from ..models import ActionStep, Milestone, Objective, Plan

Node = Milestone | Objective | ActionStep

# --- Concurrency: ETag and If-Match ---------------------------------------------------------------


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "It changed since you loaded it: If-Match does not match its current ETag. Reload it and retry."
    )
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        'Send If-Match with the ETag you loaded (e.g. "v3"), so that a change made since is not lost.'
    )
    default_code = "precondition_required"


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


def required_version(request: Request, current_version: int) -> int | None:
    """``pinned_version`` for the tree's structural edits (deleting or moving a node), which refuse to
    run blind: no If-Match is 428. ``If-Match: *`` is an explicit "whatever is current"."""
    if "If-Match" not in request.headers:
        raise PreconditionRequired()
    return pinned_version(request, current_version)


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
ERROR_428 = OpenApiResponse(s.ErrorSerializer, description="If-Match is missing: this edit needs it.")
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
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag you loaded, e.g. `"v3"`: refuse (412) if it changed since; `*` for whatever is '
    "current. Without it: 428.",
)


def strict_request_bodies(result: dict[str, Any], generator, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: a request body says what its ``StrictSerializer`` enforces.

    It refuses fields it does not know (``additionalProperties: false``), and its ``body_schema`` adds
    what ``validate`` requires of the fields together. Each component is matched to the serializer it
    was built from through the generator's registry, so a new strict serializer needs nothing more.
    """
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        try:
            source = generator.registry[(name, ResolvedComponent.SCHEMA)].object
        except KeyError:  # appended by the settings, not built from a serializer
            continue
        serializer = source if isinstance(source, type) else type(source)
        if issubclass(serializer, s.StrictSerializer):
            schema["additionalProperties"] = False
            schema.update(serializer.body_schema)
    return result


def list_schema(kind: str, output, filters, tag: str):
    return extend_schema(
        operation_id=f"{kind}_list",
        summary=f"List {tag}",
        tags=[tag],
        parameters=[filters],
        responses={200: output(many=True), 400: ERROR_400, **READ_ERRORS},
    )


def create_schema(kind: str, request, output, tag: str, description: str):
    return extend_schema(
        operation_id=f"{kind}_create",
        summary=f"Create a {kind}",
        description=description,
        tags=[tag],
        request=request,
        parameters=[ETAG, LOCATION],
        responses={201: output, **WRITE_ERRORS},
    )


def detail_schemas(
    kind: str, update, output, tag: str, update_description: str, *, delete_needs_if_match: bool = False
) -> dict[str, Any]:
    """``delete_needs_if_match``: the delete is a structural edit of the tree (see ``required_version``)."""
    delete_errors = {403: ERROR_403, 404: ERROR_404, 409: ERROR_409, 412: ERROR_412}
    if delete_needs_if_match:
        delete_errors[428] = ERROR_428
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
            parameters=[IF_MATCH_REQUIRED if delete_needs_if_match else IF_MATCH],
            responses={204: None, **delete_errors},
        ),
    }


# --- Base view --------------------------------------------------------------------------------------


# An endpoint under ``/api/v1/orgs/<org_slug>/``: sets ``membership`` and ``organization``. (A comment:
# drf-spectacular would show a docstring as the description of every operation that has none.)
class OrgApi(APIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    membership: Membership
    organization: Organization

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: anonymous never gets here
        # A personal API token works in its own organization only (404 elsewhere, like a non-member).
        require_token_organization(request, kwargs["org_slug"])
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
