"""What the metrics endpoints share beyond planning's base view: responses with an ETag, stale edits as
failed preconditions, and the schema pieces whose wording is particular to metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from bizops.errors import Conflict
from planning.api.common import ERROR_400, ERROR_403, ERROR_404, ERROR_412, OrgApi, PreconditionFailed, etag
from planning.serializers import ConflictErrorSerializer, ErrorSerializer

__all__ = [
    "ERROR_400",
    "ERROR_403",
    "ERROR_404",
    "ERROR_412",
    "READ_ERRORS",
    "MetricsApi",
    "conflict",
    "stale_is_precondition_failed",
]

READ_ERRORS = {403: ERROR_403, 404: ERROR_404}


def conflict(description: str, *, stale: bool = False) -> OpenApiResponse:
    """A 409 described for this endpoint: a stale ``version`` answers with ``current_version``."""
    return OpenApiResponse(ConflictErrorSerializer if stale else ErrorSerializer, description=description)


@contextmanager
def stale_is_precondition_failed(pinned_by_header: bool) -> Iterator[None]:
    """A stale edit whose version came from If-Match (someone saved between the view's check and the
    service's row lock) is still a failed precondition, not a 409.

    Planning's ``precondition`` does this for its ``StaleEdit``; the metrics services raise a plain
    ``Conflict`` that carries ``current_version`` when, and only when, the version is stale.
    """
    try:
        yield
    except Conflict as exc:
        if pinned_by_header and exc.current_version is not None:
            raise PreconditionFailed() from None
        raise


# A metrics endpoint under ``/api/v1/orgs/<org_slug>/``. (Planning's ``OrgApi.detail`` names the
# Location after planning's kinds; a key result's ``kind`` is its measure, so metrics has its own.)
class MetricsApi(OrgApi):
    def versioned(
        self,
        obj: Model,
        data: dict[str, Any],
        *,
        created: bool = False,
        location: str | None = None,
    ) -> Response:
        response = Response(data, status=201 if created else 200)
        response["ETag"] = etag(obj.version)
        if location:
            response["Location"] = location
        return response

    def paginate(self, queryset: QuerySet) -> tuple[list, BasePagination]:
        """One page of ``queryset`` and its paginator, for views that decorate the rows before
        serializing them (``paginator.get_paginated_response(data)``)."""
        paginator = self.pagination_class()
        return paginator.paginate_queryset(queryset, self.request, view=self), paginator
