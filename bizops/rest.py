"""What every REST endpoint under ``/api/v1/orgs/<org_slug>/`` shares, whichever app it belongs to:
the base view, ETag and If-Match, the error bodies and the schema pieces that describe them.

The apps build on this (``planning.api.common``, ``metrics.api.common``, the core's own endpoints);
it imports no app. How errors are written is ``bizops.api.exception_handler``'s job; the serializers
here only document that body in the schema.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .access import membership_for
from .authentication import require_token_organization
from .models import Membership, Organization

# --- Errors (documentation of the body ``bizops.api.exception_handler`` writes) ----------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(
        help_text="A stable code: invalid, not_found, permission_denied, conflict, request_too_large…"
    )
    # The body's key: DRF's metaclass takes declared fields off the class, so ``Serializer.fields`` stays.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (400 only; empty otherwise).",
    )


class ConflictErrorSerializer(ErrorSerializer):
    current_version = serializers.IntegerField(
        required=False, help_text="The object's version now, when the conflict is a stale edit."
    )


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
    """``pinned_version`` for edits that refuse to run blind (deleting or moving a tree node): no
    If-Match is 428. ``If-Match: *`` is an explicit "whatever is current"."""
    if "If-Match" not in request.headers:
        raise PreconditionRequired()
    return pinned_version(request, current_version)


# --- Schema pieces ----------------------------------------------------------------------------------

ERROR_400 = OpenApiResponse(ErrorSerializer, description="Invalid input; `fields` has a message per field.")
ERROR_403 = OpenApiResponse(ErrorSerializer, description="Not logged in, or not allowed to do this.")
ERROR_404 = OpenApiResponse(
    ErrorSerializer, description="No such object in this organization, or not a member."
)
ERROR_409 = OpenApiResponse(
    ConflictErrorSerializer,
    description="Not possible in the plan's current state, or `version` is stale (`current_version` says which is).",
)
ERROR_412 = OpenApiResponse(ErrorSerializer, description="If-Match does not match the current ETag.")
ERROR_428 = OpenApiResponse(ErrorSerializer, description="If-Match is missing: this edit needs it.")
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


# --- Base view --------------------------------------------------------------------------------------


def _forget_renderer_context(response: Response) -> None:
    """After rendering: the renderers are done with the context's view and response (see
    ``OrgApi.dispatch``); the rest of it (request, args) stays for whoever reads it."""
    context = getattr(response, "renderer_context", None)  # as DRF reads it (the stubs lack it)
    if context is not None:
        context.pop("response", None)
        context.pop("view", None)


# An endpoint under ``/api/v1/orgs/<org_slug>/``: sets ``membership`` and ``organization``. (A comment:
# drf-spectacular would show a docstring as the description of every operation that has none.)
class OrgApi(APIView):
    # A class by now: api_settings imports the dotted path (the stubs type the setting as it is written).
    pagination_class = cast(type[BasePagination], api_settings.DEFAULT_PAGINATION_CLASS)
    membership: Membership
    organization: Organization

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        # DRF keeps the response on the view (``self.response``), and a rendered response keeps itself
        # and the view in its ``renderer_context``: two reference cycles, so each response's data (a
        # 22,000-node plan's tree: 24,000 dicts) outlived its request until the collector's next full
        # pass, and made that pass longer. Without them the response and its data are freed as soon
        # as the handler lets go of it (tests/bizops/test_reference_cycles.py; DRF issue 5826).
        del self.response
        if isinstance(response, Response):
            response.add_post_render_callback(_forget_renderer_context)
        return response

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

    def paginate(self, queryset: QuerySet) -> tuple[list, BasePagination]:
        """One page of ``queryset`` and its paginator, for views that decorate the rows before
        serializing them (``paginator.get_paginated_response(data)``)."""
        paginator = self.pagination_class()
        # Never None: ApiPagination has a limit always (PAGE_SIZE is set), so it always pages.
        return cast(list, paginator.paginate_queryset(queryset, self.request, view=self)), paginator

    def paginated(self, queryset: QuerySet, serializer_class: type[serializers.Serializer]) -> Response:
        page, paginator = self.paginate(queryset)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)

    def versioned(
        self, obj: Model, data: dict[str, Any], *, created: bool = False, location: str | None = None
    ) -> Response:
        """A response carrying ``obj``'s ETag (and, for a new object, its Location)."""
        response = Response(data, status=201 if created else 200)
        response["ETag"] = etag(obj.version)  # type: ignore[attr-defined]
        if location:
            response["Location"] = location
        return response
