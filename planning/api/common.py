"""What every planning endpoint shares beyond the core's ``bizops.rest``: its base view, stale edits
as failed preconditions, and the schema helpers for its resources."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from bizops.rest import (
    ERROR_400,
    ERROR_403,
    ERROR_404,
    ERROR_409,
    ERROR_412,
    ERROR_428,
    ETAG,
    IF_MATCH,
    IF_MATCH_REQUIRED,
    LOCATION,
    READ_ERRORS,
    WRITE_ERRORS,
    OrgApi,
    PreconditionFailed,
    PreconditionRequired,
    etag,
    pinned_version,
    required_version,
)

from .. import serializers as s
from .. import services
from ..models import ActionStep, Milestone, Objective, Plan

Node = Milestone | Objective | ActionStep


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


# A planning endpoint: the core's base view, with responses that name planning's kinds in Location.
class PlanningApi(OrgApi):
    def detail(self, obj: Plan | Node, serializer_class, *, created: bool = False) -> Response:
        location = None
        if created:
            name = (
                "planning_api:api_plan_detail"
                if isinstance(obj, Plan)
                else f"planning_api:api_{obj.kind}_detail"
            )
            location = reverse(name, args=[self.organization.slug, obj.pk])
        return self.versioned(obj, serializer_class(obj).data, created=created, location=location)


__all__ = [
    "ERROR_400",
    "ERROR_403",
    "ERROR_404",
    "ERROR_409",
    "ERROR_412",
    "ERROR_428",
    "ETAG",
    "IF_MATCH",
    "IF_MATCH_REQUIRED",
    "LOCATION",
    "READ_ERRORS",
    "WRITE_ERRORS",
    "Node",
    "OrgApi",
    "PlanningApi",
    "PreconditionFailed",
    "PreconditionRequired",
    "create_schema",
    "detail_schemas",
    "etag",
    "fields_renamed",
    "list_schema",
    "pinned_version",
    "precondition",
    "required_version",
    "strict_request_bodies",
]
