"""The navigation and the links between apps (``bizops.navigation``): each app adds its own entries and
answers the links others ask for, so the core names no planning or metrics page and planning names no
metrics page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from bizops import navigation
from planning import services

ROOT = Path(__file__).resolve().parents[2]
NAMESPACED = re.compile(r"""['"](planning|planning_api|metrics|metrics_api|metrics_public):[a-z_]+['"]""")
METRICS = re.compile(r"""['"](metrics|metrics_api|metrics_public):[a-z_]+['"]""")
CORE_TEMPLATES = [
    "base.html",
    "components",
    "bizops",
    "registration",
    *[f"{n}.html" for n in (400, 403, 404, 409, 500)],
]


def _files(*paths: Path, suffixes=(".py", ".html")) -> list[Path]:
    found = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*") if p.suffix in suffixes and "migrations" not in p.parts)
    return found


def _offenders(names: re.Pattern, imports: re.Pattern, files: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if names.search(line) or imports.match(line)
    ]


def test_the_core_names_no_page_of_planning_or_metrics():
    files = _files(ROOT / "bizops", *(ROOT / "templates" / name for name in CORE_TEMPLATES))
    files = [f for f in files if f.name != "urls.py"]  # the project's URLconf includes every app by name
    assert len(files) > 40
    assert _offenders(NAMESPACED, re.compile(r"\s*(from|import) (planning|metrics)\b"), files) == []


def test_planning_names_no_page_of_metrics():
    files = _files(ROOT / "planning", ROOT / "templates" / "planning")
    assert len(files) > 40
    assert _offenders(METRICS, re.compile(r"\s*(from|import) metrics\b"), files) == []


@pytest.mark.django_db
def test_each_role_sees_the_entries_its_role_allows_and_the_current_one(acme, clients, plan):
    url = reverse("planning:plan_list", args=[acme.org.slug])
    viewer = clients["viewer"].get(url).content.decode()
    admin = clients["admin"].get(url).content.decode()
    plans = f'<a href="{url}" aria-current="page">Plans</a>'
    assert plans in viewer and plans in admin
    for label in ("Overview", "Dashboard", "My work", "KPIs", "Members", "Teams"):
        assert f">{label}</a>" in viewer, label
    # A viewer checks nothing in, approves nothing, and sees no audit log or settings.
    for label in ("Check in", "Waiting for me", "Audit log", "Settings", "Workload"):
        assert f">{label}" not in viewer, label
        assert f">{label}" in admin, label


@pytest.mark.django_db
def test_waiting_for_me_counts_the_plans_waiting_for_this_approver(acme, clients, plan):
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    page = clients["admin"].get(reverse("planning:plan_list", args=[acme.org.slug])).content.decode()
    assert 'aria-label="1 plan waiting">1</span>' in page
    page = clients["owner"].get(reverse("planning:plan_list", args=[acme.org.slug])).content.decode()
    assert "plan waiting" not in page  # not named an approver


@pytest.mark.django_db
def test_a_link_no_app_answers_shows_nothing_and_breaks_nothing(acme, clients, plan, tree, monkeypatch):
    _, objective, _ = tree
    url = reverse("planning:node_detail", args=[acme.org.slug, plan.pk, "objective", objective.pk])
    measures = reverse("metrics:objective_measures", args=[acme.org.slug, objective.pk])
    assert measures in clients["manager"].get(url).content.decode()
    monkeypatch.setattr(
        navigation, "_links", {k: v for k, v in navigation._links.items() if k != "objective_measures"}
    )
    response = clients["manager"].get(url)
    assert response.status_code == 200
    assert measures not in response.content.decode()
    editor = clients["manager"].get(reverse("planning:plan_editor", args=[acme.org.slug, plan.pk]))
    assert editor.status_code == 200 and "Add a key result" not in editor.content.decode()


@pytest.mark.django_db
def test_an_organization_opens_on_its_overview_after_log_in(acme, clients):
    response = clients["member"].get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("planning:org_home", args=[acme.org.slug])
    assert navigation.org_home(acme.org.slug) == response.url
