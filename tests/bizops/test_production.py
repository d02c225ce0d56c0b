"""Production readiness of the web layer: health probes, request ids and logs, error pages, security."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from bizops import health
from bizops import urls as bizops_urls
from bizops.logging import JsonFormatter, RequestIdFilter, logging_config, request_id_var

BASE_DIR = Path(__file__).resolve().parents[2]


# --- A URL configuration with views that fail on purpose (used with @pytest.mark.urls(__name__)) -----
def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database password is hunter2")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Your role does not allow this.")


def _logs_a_line(request: HttpRequest) -> HttpResponse:
    logging.getLogger("tests.production").warning("written inside the view")
    return HttpResponse("ok")


urlpatterns = [
    path("test/boom/", _boom),
    path("test/forbidden/", _forbidden),
    path("test/logs/", _logs_a_line),
    # The Swagger UI view that keeps its script in a separate file (see test_swagger_split_view_...).
    path("test/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema")),
    *bizops_urls.urlpatterns,
]
this_urlconf = pytest.mark.urls(__name__)

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


@pytest.fixture
def capture():
    """The lines ``bizops.logging`` writes, as JSON, for the loggers a test names."""

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    attached: list[tuple[logging.Logger, int, bool]] = []

    def attach(*names: str) -> io.StringIO:
        for name in names:
            logger = logging.getLogger(name)
            # Other tests (a Celery worker starting in-process) may have raised levels or disabled
            # loggers; this test is about our handler and filter, so it pins both while it runs.
            attached.append((logger, logger.level, logger.disabled))
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
            logger.addHandler(handler)
        return stream

    yield attach
    for logger, level, disabled in attached:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


# --- /healthz and /readyz -----------------------------------------------------------------------------
def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: pytest-django fails the test if the view opens a database connection.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_probes_pass_host_validation_and_https_redirect_that_pages_do_not(client, settings):
    settings.ALLOWED_HOSTS = ["planner.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    # An orchestrator calls the container by its address, over plain HTTP.
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/healthz/", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST="planner.example.com").status_code == 301


def test_probes_are_named_routes_and_refuse_writes(client):
    from django.urls import reverse

    assert reverse("healthz") == "/healthz"
    assert reverse("readyz") == "/readyz"
    assert client.post("/healthz").status_code == 405


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_checks_database_redis_and_broker(client):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the test command sets it)")
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_failed_check_and_hides_its_details(client, monkeypatch):
    def database_down() -> None:
        raise OperationalError("connection to server at 10.0.0.5 failed: password authentication failed")

    monkeypatch.setattr(health, "check_database", database_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert b"password" not in response.content


@pytest.mark.django_db
def test_readyz_in_the_embedded_default_checks_the_broker_folders_instead_of_redis(
    client, settings, tmp_path
):
    queue, control = tmp_path / "queue", tmp_path / "control"
    queue.mkdir()
    control.mkdir()
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(control),
    }
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert set(response.json()["checks"]) == {"database", "broker"}

    control.rmdir()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert str(tmp_path) not in response.content.decode()


def test_readyz_never_answers_500_even_when_the_checks_cannot_run(client, monkeypatch):
    def broken() -> dict:
        raise KeyError("CELERY_BROKER_URL")

    monkeypatch.setattr(health, "readiness_checks", broken)
    assert client.get("/readyz").status_code == 503


# --- Request ids and logs -----------------------------------------------------------------------------
def test_a_sane_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-4f2a_9")
    assert response["X-Request-ID"] == "lb-4f2a_9"


@pytest.mark.parametrize("given", [None, "", "a" * 65, "has space", "x\r\nInjected: yes", "ünïcode", "a;b"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    first = client.get("/healthz", **headers)["X-Request-ID"]
    second = client.get("/healthz", **headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@this_urlconf
def test_every_log_line_of_a_request_carries_its_id_and_one_access_line_sums_it_up(client, capture):
    stream = capture("tests.production", "bizops.request")
    response = client.get("/test/logs/?q=1", HTTP_X_REQUEST_ID="req-42")
    inside, access = lines(stream)
    assert inside["message"] == "written inside the view"
    assert inside["request_id"] == "req-42"
    assert access["logger"] == "bizops.request"
    assert access["request_id"] == "req-42"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/test/logs/", 200)
    assert isinstance(access["duration_ms"], float)
    assert response["X-Request-ID"] == "req-42"
    assert request_id_var.get() == "-"  # reset once the request is over


def test_djangos_not_found_line_written_after_the_middleware_still_has_the_request_id(client, capture):
    stream = capture("django.request")
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    (record,) = lines(stream)
    assert record["message"] == "Not Found: /no-such-page/"
    assert record["request_id"] == "req-404"
    assert record["status_code"] == 404


def test_json_formatter_writes_one_object_a_line_with_extras_and_traceback():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("once",), sys.exc_info(), extra={"plan_id": 7}
        )
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed once"
    assert entry["level"] == "ERROR"
    assert entry["plan_id"] == 7
    assert entry["request_id"] == "-"
    assert "ValueError: bad value" in entry["exc_info"]
    assert entry["time"].endswith("+00:00")


def test_log_format_is_plain_or_json():
    assert logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


# --- Error pages --------------------------------------------------------------------------------------
def test_an_unknown_address_gives_the_styled_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "We could not find that page" in html
    assert 'class="topbar"' in html  # the site's layout
    assert 'href="/"' in html
    assert not INLINE_SCRIPT.search(html)


@this_urlconf
def test_an_exception_gives_the_styled_500_page_without_its_details():
    client = Client(raise_request_exception=False)
    response = client.get("/test/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "/static/css/app.css" in html
    assert 'href="/"' in html
    assert "hunter2" not in html
    assert response["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@this_urlconf
def test_a_refusal_gives_the_styled_403_page_with_its_reason(client):
    response = client.get("/test/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot do this" in html
    assert "Your role does not allow this." in html
    assert 'class="topbar"' in html


def test_a_bad_request_gives_the_styled_400_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="attacker.example")  # DisallowedHost
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


# --- Security -----------------------------------------------------------------------------------------
def test_pages_send_a_content_security_policy_without_inline_script(client):
    response = client.get("/accounts/login/")
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'self'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert "htmx" in html  # htmx comes as a static file, allowed by script-src 'self'


@this_urlconf
def test_swagger_split_view_keeps_its_script_out_of_the_page(client):
    """The Swagger UI view that works under script-src 'self' (SpectacularSwaggerView inlines its script)."""
    response = client.get("/test/docs/")
    assert response.status_code == 200
    assert csp_directives(response)["script-src"] == ["'self'"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    script = client.get("/test/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def production_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bizops.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="planner.example.com",
        **extra,
    )
    return env


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_log_json_and_keep_the_security_settings():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.LOGGING['handlers']['console']['formatter'], s.DEBUG, s.SESSION_COOKIE_SECURE,"
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.X_FRAME_OPTIONS,"
        "s.SECURE_HSTS_SECONDS > 0, s.DATA_UPLOAD_MAX_MEMORY_SIZE, s.FILE_UPLOAD_MAX_MEMORY_SIZE]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "json",
        False,
        True,
        True,
        True,
        "Lax",
        "DENY",
        True,
        2_621_440,
        5_242_880,
    ]


def test_env_example_documents_every_variable_the_settings_read():
    source = "".join(p.read_text() for p in (BASE_DIR / "bizops" / "settings").glob("*.py"))
    read = set(re.findall(r"""(?:env|Env\(\))\.\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "LOG_FORMAT"} <= read
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert read - documented == set()
