"""API plumbing shared by every app: one error body for every status, domain errors mapped to statuses,
pagination and the rate limit."""

from __future__ import annotations

import math
import re
import time
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from .errors import Conflict

REQUEST_TOO_LARGE = {
    "detail": "The request body is too large.",
    "code": "request_too_large",
    "fields": {},
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into ``{"detail": ..., "code": ..., "fields": {...}}``.

    Services raise Django's ValidationError (400, with field messages) and ``Conflict`` (409); views
    never translate them one by one.
    """
    if isinstance(exc, DjangoValidationError):
        fields = dict(exc.message_dict) if hasattr(exc, "error_dict") else {}
        general = fields.pop("__all__", None)
        if general:
            fields["non_field_errors"] = general
        if fields.keys() == {"non_field_errors"}:
            # general is None only if a service itself named a field "non_field_errors".
            detail = " ".join(cast(list[str], general))
        else:
            detail = "Some fields are not valid." if fields else " ".join(exc.messages)
        body: dict[str, Any] = {"detail": detail, "code": "invalid", "fields": fields}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    # A body past the limit that ``ApiBodyLimitMiddleware`` could not see before it was read.
    if isinstance(exc, RequestDataTooBig):
        return Response(REQUEST_TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Conflict):
        body = {"detail": exc.message, "code": "conflict", "fields": {}}
        if exc.current_version is not None:
            body["current_version"] = exc.current_version
        return Response(body, status=status.HTTP_409_CONFLICT)
    # Imported here: rest_framework.views reads DEFAULT_THROTTLE_CLASSES and DEFAULT_PAGINATION_CLASS,
    # which live in this module, when it is first imported.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "Some fields are not valid.", "code": "invalid", "fields": fields}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else str(data)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code, "fields": {}}
    return response


# --- Pagination -------------------------------------------------------------------------------------


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,1000}")


class ApiPagination(LimitOffsetPagination):
    """``?limit=&offset=`` with a ceiling: a larger ``limit`` is cut to ``max_limit``. Without one, a huge
    limit reached PostgreSQL as an out-of-range LIMIT, a 500 (found by the schemathesis run).

    A value that is not a whole number in range (or a parameter sent twice) is a 400 with a message
    per parameter, like any filter; DRF's own pagination would silently use its default instead.
    """

    max_limit = 500
    limit_query_description = (
        "Number of results to return per page, from 1; a larger number is read as 500 (the ceiling)."
    )
    minimums = {"limit": 1, "offset": 0}

    def paginate_queryset(self, queryset, request: Request, view: Any = None) -> list | None:
        self.paging = self.paging_values(request)  # all errors at once, before any query
        return super().paginate_queryset(queryset, request, view)

    def paging_values(self, request: Request) -> dict[str, int]:
        values: dict[str, int] = {}
        errors: dict[str, list[str]] = {}
        for name, minimum in self.minimums.items():
            sent = request.query_params.getlist(name)
            if not sent:
                continue
            if len(sent) > 1:
                errors[name] = ["Send this parameter once."]
            elif not _WHOLE_NUMBER.fullmatch(sent[0]):
                errors[name] = ["A valid integer is required."]
            elif int(sent[0]) < minimum:
                errors[name] = [f"Ensure this value is greater than or equal to {minimum}."]
            else:
                values[name] = int(sent[0])
        if errors:
            raise exceptions.ValidationError(errors)
        return values

    def get_limit(self, request: Request) -> int | None:
        limit = self.paging.get("limit")
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self.paging.get("offset", 0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = self.minimums[parameter["name"]]
        return parameters


# --- Rate limit -------------------------------------------------------------------------------------

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60). The period's first letter counts: s, m(in), h(our), d(ay)."""
    try:
        number, period = rate.split("/")
        return int(number), PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"API_RATE must look like “600/min”, not “{rate}”.") from None


def rate_key(ident: str, period: int, window: int) -> str:
    """The cache key counting ``ident``'s requests in one window of ``period`` seconds."""
    return f"api-rate:{ident}:{period}:{window}"


def _count(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (created with a time to live of ``timeout`` seconds); the new count.

    Django's cache API only: ``incr`` is atomic on Redis (``INCRBY``) and in the memory cache of
    ``make run``; the first request of a window, which finds no counter, ``add``s it. A key names its
    window and lives ``timeout`` seconds, longer than the window, so it cannot expire while its window
    is counted (and lose its time to live to an ``INCRBY`` that re-creates it).
    """
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet in this window
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)  # another process added it first


class ApiRateThrottle(BaseThrottle):
    """``settings.API_RATE`` requests per token (token callers), per user (session callers) or per
    address (anonymous), counted in fixed windows in the cache.

    One atomic ``incr`` a request (Redis in production, so every worker shares the count), unlike DRF's
    ``SimpleRateThrottle``, whose read-modify-write of a list of timestamps loses counts under concurrent
    requests. A fixed window lets a client burst up to twice the rate across a window's edge, which is
    fine for a limit meant to stop runaway scripts. The rate is read per request, so tests can lower it.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = getattr(settings, "API_RATE", None)
        if not rate:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = rate_key(self.ident_for(request), period, window)
        self.retry_after = (window + 1) * period - now
        return _count(key, period + 5) <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self.retry_after))

    def ident_for(self, request: Request) -> str:
        from .models import ApiToken

        if isinstance(request.auth, ApiToken):
            return f"token:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"ip:{self.get_ident(request)}"
