"""Middleware for running in production: a request id on every log line, an access log, health probes."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from . import health
from .logging import request_id_var

if TYPE_CHECKING:
    from .requests import TracedRequest

REQUEST_ID_HEADER = "X-Request-ID"
# An id from a proxy or a client is kept only if it cannot forge a log line or bloat one.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

HEALTH_VIEWS = {
    "/healthz": health.healthz,
    "/healthz/": health.healthz,
    "/readyz": health.readyz,
    "/readyz/": health.readyz,
}

access_logger = logging.getLogger("bizops.request")


def request_id_for(request: HttpRequest) -> str:
    """The caller's ``X-Request-ID`` if it is sane, otherwise a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the stack: names the request, answers with its id, and writes one access-log line.

    The id is in ``request.request_id``, in the ``X-Request-ID`` response header and, through
    ``bizops.logging.RequestIdFilter``, on every log record written while the request runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_for(request)
        cast("TracedRequest", request).request_id = request_id  # what makes it a TracedRequest
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # Probes come every few seconds from every orchestrator: only worth a line when debugging.
            level = logging.DEBUG if request.path_info in HEALTH_VIEWS else logging.INFO
            access_logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class HealthCheckMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before anything that could refuse or redirect a probe.

    A probe calls the container by its address (``Host: 10.0.0.7:8000``) over plain HTTP; placed before
    ``SecurityMiddleware`` and ``CommonMiddleware``, this answers it without host validation, the HTTPS
    redirect, a session or a login. The same views are also routed in ``bizops.urls`` by name.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        view = HEALTH_VIEWS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)


class ApiBodyLimitMiddleware:
    """An API request whose body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` answers 413 with the API's
    JSON error body, before anything reads the body.

    Django itself refuses such a body only once something reads it, with an HTML 400 page. Pages keep
    that behaviour; under ``/api/`` a script gets a status and a body it can act on. The size comes
    from Content-Length, or, for a chunked body the server marks as complete (``wsgi.input_terminated``,
    as gunicorn does), from reading at most one byte past the limit: Django reads no body without a
    Content-Length, so a chunked body that fits is dropped as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path_info.startswith("/api/") and too_large(request, limit):
            from .api import REQUEST_TOO_LARGE

            return JsonResponse(REQUEST_TOO_LARGE, status=413)
        return self.get_response(request)


def too_large(request: HttpRequest, limit: int) -> bool:
    length = request.META.get("CONTENT_LENGTH")
    if length:
        try:
            return int(length) > limit
        except ValueError:
            return False  # Django reads a malformed length as no body
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (chunked and request.META.get("wsgi.input_terminated")):
        return False
    stream, read = request.META["wsgi.input"], 0
    while read <= limit:
        chunk = stream.read(min(65_536, limit + 1 - read))
        if not chunk:
            break
        read += len(chunk)
    return read > limit


class SessionRefreshMiddleware:
    """Keeps a signed-in session alive while it is used, without writing it on every request.

    ``SESSION_SAVE_EVERY_REQUEST`` would write the session row (BEGIN, UPDATE, COMMIT) on every page
    and API call. This marks the session modified only when its last refresh is older than
    ``SESSION_REFRESH_SECONDS``, so the idle expiry (``SESSION_COOKIE_AGE``) counts from the last
    activity to within that many seconds. Goes right after ``SessionMiddleware``.
    """

    KEY = "_refreshed"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.conf import settings

        session = getattr(request, "session", None)
        if session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES:
            now = int(time.time())
            last = session.get(self.KEY, 0)
            # Only signed-in sessions: an anonymous visitor's stale cookie must not create a row.
            if "_auth_user_id" in session and not 0 <= now - last < settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now
        return self.get_response(request)


def stamp_session(sender, request: HttpRequest, user, **kwargs) -> None:
    """``user_logged_in`` receiver: the login saves the session anyway, so it counts as a refresh."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SessionRefreshMiddleware.KEY] = int(time.time())


class DomainConflictMiddleware:
    """A ``Conflict`` that a page did not catch (the plan was submitted or closed while the request
    waited for its lock) answers 409 with the reason, never a 500. Pages that can say more (a form
    shown again with the message) catch it themselves; the API maps it in ``bizops.api``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        from django.shortcuts import render

        from .errors import Conflict

        if not isinstance(exception, Conflict):
            return None
        return render(request, "409.html", {"message": exception.message}, status=409)
