"""What the metrics endpoints share beyond the core's ``bizops.rest``: stale edits as failed
preconditions, and the schema pieces whose wording is particular to metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiResponse

from bizops.errors import Conflict
from bizops.rest import (
    ERROR_400,
    ERROR_403,
    ERROR_404,
    ERROR_412,
    ConflictErrorSerializer,
    ErrorSerializer,
    OrgApi,
    PreconditionFailed,
)

__all__ = [
    "ERROR_400",
    "ERROR_403",
    "ERROR_404",
    "ERROR_412",
    "READ_ERRORS",
    "OrgApi",
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
