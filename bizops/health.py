"""Liveness and readiness probes for load balancers, orchestrators and docker compose.

``/healthz`` says the process answers: it touches nothing else, so a slow database never gets a healthy
web container restarted. ``/readyz`` says the services a request needs are reachable: the database, Redis
(when ``REDIS_URL`` is set) and the Celery broker (Redis, another kombu transport, or, in the embedded
default, the file broker's folders). It answers 200 with each check's result, or 503 naming the ones that
failed. Neither ever answers 500, and neither says more than an exception's class to the anonymous caller:
the details go to the log.

``bizops.middleware.HealthCheckMiddleware`` answers both before host validation, the HTTPS redirect,
sessions and authentication, so a probe that calls the container by its address works in production.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds a network check may take: a probe must answer before the orchestrator's own timeout.
TIMEOUT = 2.0


class CheckFailed(Exception):
    """A check found the service unusable; the message is safe to show to anyone."""


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


@cache
def _redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per URL for the life of the process: a probe reuses a connection.
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def check_redis() -> None:
    _redis_client(settings.REDIS_URL).ping()


def check_broker() -> None:
    url: str = settings.CELERY_BROKER_URL
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders = {
            options[key] for key in ("data_folder_in", "data_folder_out", "control_folder") if key in options
        }
        for folder in sorted(folders):
            if not os.path.isdir(folder):
                logger.warning("Celery broker folder %s does not exist", folder)
                raise CheckFailed("a broker folder does not exist")
            if not os.access(folder, os.W_OK | os.X_OK):
                logger.warning("Celery broker folder %s is not writable", folder)
                raise CheckFailed("a broker folder is not writable")
    elif scheme in ("redis", "rediss"):
        _redis_client(url).ping()
    else:
        from kombu import Connection

        with Connection(url, connect_timeout=TIMEOUT) as connection:
            # kombu-stubs say int; kombu only adds it to time.time(), so a float works.
            connection.ensure_connection(max_retries=0, timeout=TIMEOUT)  # type: ignore[arg-type]


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The checks that apply to this configuration, looked up when called (so tests can replace one)."""
    checks: dict[str, Callable[[], None]] = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    checks["broker"] = check_broker
    return checks


def run_check(name: str, check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    result: dict[str, str | float]
    try:
        check()
    except CheckFailed as exc:
        result = {"status": "fail", "error": str(exc)}
    except Exception as exc:
        logger.warning("Readiness check %s failed", name, exc_info=True)
        result = {"status": "fail", "error": type(exc).__name__}
    else:
        result = {"status": "ok"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


@never_cache
@login_not_required
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@login_not_required
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    try:
        results = {name: run_check(name, check) for name, check in readiness_checks().items()}
    except Exception:  # a broken configuration is "not ready", never a 500
        logger.exception("Readiness checks could not run")
        return JsonResponse({"status": "fail", "failed": ["config"], "checks": {}}, status=503)
    failed = [name for name, result in results.items() if result["status"] != "ok"]
    if failed:
        return JsonResponse({"status": "fail", "failed": failed, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})
