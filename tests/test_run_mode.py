"""The app as people see it: `make run` with debug off, safe settings by default, links on the port the
app listens on, and form errors from htmx drawn where the form is, with DEBUG off and on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from bizops.settings import site_url

BASE_DIR = Path(__file__).resolve().parents[1]
HX = {"HX-Request": "true"}


def settings_in_subprocess(module: str, *names: str, **env: str) -> dict:
    """The named settings as a fresh process of ``module`` reads them from ``env`` (nothing inherited
    that a developer's shell could set: no DJANGO_*, PORT, BIZOPS_* or service URLs)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "BIZOPS_", "PORT", "DATABASE_", "REDIS_", "EMAIL_URL"))
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Settings: safe by default -------------------------------------------------------------------------


def test_base_settings_have_debug_off_and_no_usable_secret_key(tmp_path):
    seen = settings_in_subprocess("bizops.settings", "DEBUG", "ALLOWED_HOSTS", BIZOPS_VAR_DIR=str(tmp_path))
    assert seen["DEBUG"] is False
    assert "testserver" not in seen["ALLOWED_HOSTS"]
    with pytest.raises(AssertionError, match="SECRET_KEY setting must not be empty"):
        settings_in_subprocess("bizops.settings", "SECRET_KEY", BIZOPS_VAR_DIR=str(tmp_path))


def test_wsgi_and_asgi_default_to_the_production_settings(tmp_path):
    for module in ("bizops.wsgi", "bizops.asgi"):
        result = subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            cwd=BASE_DIR,
            env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
            | {"BIZOPS_VAR_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Production reads its key from the environment and has no default to fall back on.
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stderr


def test_local_settings_keep_a_private_key_of_the_checkout_and_debug_off(tmp_path):
    first = settings_in_subprocess(
        "bizops.settings.local", "SECRET_KEY", "DEBUG", BIZOPS_VAR_DIR=str(tmp_path)
    )
    again = settings_in_subprocess("bizops.settings.local", "SECRET_KEY", BIZOPS_VAR_DIR=str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert first["DEBUG"] is False
    assert len(first["SECRET_KEY"]) >= 50 and first["SECRET_KEY"] == again["SECRET_KEY"]
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    other = settings_in_subprocess("bizops.settings.local", "SECRET_KEY", BIZOPS_VAR_DIR=str(tmp_path / "b"))
    assert other["SECRET_KEY"] != first["SECRET_KEY"]
    dev = settings_in_subprocess(
        "bizops.settings.local", "DEBUG", DJANGO_DEBUG="true", BIZOPS_VAR_DIR=str(tmp_path)
    )
    assert dev["DEBUG"] is True


# --- Settings: emailed links on the app's own address -------------------------------------------------


def test_links_follow_the_port_unless_a_site_url_is_set(tmp_path):
    var = str(tmp_path)
    assert settings_in_subprocess("bizops.settings.local", "SITE_URL", PORT="8301", BIZOPS_VAR_DIR=var) == {
        "SITE_URL": "http://127.0.0.1:8301"
    }
    # make run: honcho gives the worker PORT=8401, but its emails link to the web server's port.
    seen = settings_in_subprocess(
        "bizops.settings.local", "SITE_URL", PORT="8401", BIZOPS_PORT="8301", BIZOPS_VAR_DIR=var
    )
    assert seen["SITE_URL"] == "http://127.0.0.1:8301"
    seen = settings_in_subprocess(
        "bizops.settings.local",
        "SITE_URL",
        PORT="8301",
        BIZOPS_SITE_URL="https://planner.example.com/",
        BIZOPS_VAR_DIR=var,
    )
    assert seen["SITE_URL"] == "https://planner.example.com"


def test_a_server_on_every_interface_is_linked_by_the_machine_name(tmp_path):
    assert site_url(host="0.0.0.0", port=8301) == f"http://{socket.gethostname()}:8301"
    assert site_url(host="::1", port=8000) == "http://[::1]:8000"
    seen = settings_in_subprocess(
        "bizops.settings.local",
        "SITE_URL",
        "ALLOWED_HOSTS",
        BIZOPS_HOST="0.0.0.0",
        PORT="8301",
        BIZOPS_VAR_DIR=str(tmp_path),
    )
    assert seen["SITE_URL"] == f"http://{socket.gethostname()}:8301"
    assert socket.gethostname() in seen["ALLOWED_HOSTS"]  # the app answers at the address it links to


@pytest.mark.django_db
def test_an_invitation_email_links_to_the_configured_site(
    acme, clients, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    settings.SITE_URL = "http://127.0.0.1:8301"
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["owner"].post(
            reverse("member_invite", args=[acme.org.slug]),
            {"email": "newcomer@example.com", "role": "member"},
        )
    assert response.status_code == 302
    (message,) = [m for m in mail.outbox if "newcomer@example.com" in m.to]
    assert "http://127.0.0.1:8301/invite/" in message.body


# --- Error pages and htmx errors in both modes ---------------------------------------------------------


@pytest.mark.django_db
def test_unknown_page_is_the_styled_404_with_debug_off(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in html and 'class="topbar"' in html
    assert "Using the URLconf" not in html  # not Django's debug page


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_invalid_inline_edit_answers_the_form_fragment_with_its_error(
    acme, clients, plan, tree, settings, debug
):
    settings.DEBUG = debug
    _, objective, _ = tree
    edit = reverse("planning:node_edit", args=[acme.org.slug, plan.pk, "objective", objective.pk])
    data = {
        "title": "",
        "start_date": "2027-01-01",
        "due_date": "2027-03-01",
        "owner": "",
        "team": "",
        "weight": 1,
        "version": objective.version,
    }
    response = clients["manager"].post(edit, data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 400
    assert "<form" in html and "<html" not in html  # the fragment htmx swaps where the form was
    assert "This field is required" in html
    objective.refresh_from_db()
    assert objective.title == "Close five clients a month"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_pages_configure_htmx_to_swap_form_errors_in_both_modes(acme, clients, settings, debug):
    settings.DEBUG = debug
    html = clients["manager"].get(reverse("planning:org_home", args=[acme.org.slug])).content.decode()
    config = html.split('<meta name="htmx-config" content=\'', 1)[1].split("'>", 1)[0]
    rules = json.loads(config)["responseHandling"]
    swapped = [r for r in rules if r.get("swap") and not r.get("error")]
    assert any(r["code"] == "(400|409|422)" for r in swapped)
    # Under DEBUG django-htmx adds its debug script, which app.js (after it) keeps off those statuses.
    assert ("django-htmx.js" in html) is debug
    assert html.index("js/app.js") > html.index("htmx-2")


# --- make run, as a fresh clone starts it (gunicorn, debug off, SQLite, whitenoise) ---------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_run_settings_serve_styled_errors_and_static_files_under_gunicorn(tmp_path):
    """What `make run` starts, on SQLite in a temporary folder: no debug page, static files served."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "BIZOPS_", "PORT", "DATABASE_", "REDIS_", "EMAIL_URL"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "bizops.settings.local",
        "BIZOPS_VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *command], cwd=BASE_DIR, env=env, check=True, timeout=180)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "bizops.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                status, html = _get(f"{base}/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer")
        assert status == 200 and "Log in" in html
        status, html = _get(f"{base}/no-such-page/")
        assert status == 404 and "We could not find that page" in html
        assert "Using the URLconf" not in html
        status, css = _get(f"{base}/static/css/app.css")
        assert status == 200 and "--" in css
        status, _ = _get(f"{base}/static/django_htmx/htmx-2.min.js")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
