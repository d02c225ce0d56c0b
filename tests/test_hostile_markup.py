"""Every tag that builds markup in Python (the map's rows, the step buttons, check-in items, KPI value
rows, badges, the navigation) and every template, fed hostile text in every field a person can type:
each page that draws them answers 200 with the text escaped, never as markup."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from bizops.models import Team
from metrics import services as metrics_services
from planning import services

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;\'"'


@pytest.fixture
def hostile(acme):
    """A plan whose every typed field is hostile, with a key result checked in, a KPI with a value,
    and people and a team named the same way."""
    for membership in (acme.manager, acme.member):
        membership.user.display_name = f"{HOSTILE} {membership.role}"
        membership.user.save(update_fields=["display_name"])
    team = Team.objects.create(organization=acme.org, name=f"{HOSTILE} team")
    plan = services.plan_create(
        actor=acme.manager,
        title=f"{HOSTILE} plan",
        ultimate_goal=HOSTILE,
        description=HOSTILE,
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
    )
    milestone = services.milestone_create(
        actor=acme.manager, plan=plan, title=f"{HOSTILE} m", description=HOSTILE
    )
    objective = services.objective_create(
        actor=acme.manager,
        milestone=milestone,
        title=f"{HOSTILE} o",
        why=HOSTILE,
        description=HOSTILE,
        team=team,
        owner=acme.manager,
        start_date=date(2027, 1, 1),
        due_date=date(2027, 3, 31),
    )
    step = services.step_create(
        actor=acme.manager, objective=objective, title=f"{HOSTILE} s", notes=HOSTILE, assignee=acme.member
    )
    services.step_create(
        actor=acme.manager,
        objective=objective,
        title=f"{HOSTILE} daily",
        recurrence="daily",
        assignee=acme.member,
    )
    key_result = metrics_services.key_result_create(
        actor=acme.manager, objective=objective, title=f"{HOSTILE} kr", target=10, owner=acme.member
    )
    kpi = metrics_services.kpi_create(
        actor=acme.manager,
        name=f"{HOSTILE} kpi",
        description=HOSTILE,
        unit="number",
        direction="increase",
        target=100,
        frequency="monthly",
        owner=acme.member,
        objectives=[objective],
    )
    metrics_services.measurement_record(
        actor=acme.member, kpi=kpi, period=date(2027, 1, 1), value=40, note=HOSTILE
    )
    services.comment_create(
        actor=acme.manager, plan=plan, node_kind="objective", node=objective, body=HOSTILE
    )
    return {
        "plan": plan,
        "milestone": milestone,
        "objective": objective,
        "step": step,
        "kr": key_result,
        "kpi": kpi,
    }


PAGES = {
    "map": lambda o, s: reverse("planning:plan_map", args=[s, o["plan"].pk]),
    "visual map": lambda o, s: (
        reverse("planning:plan_visual", args=[s, o["plan"].pk])
        + f"?open=m{o['milestone'].pk},o{o['objective'].pk}"
    ),
    "filtered map": lambda o, s: reverse("planning:plan_map", args=[s, o["plan"].pk]) + "?q=%3Cscript%3E",
    "editor": lambda o, s: reverse("planning:plan_editor", args=[s, o["plan"].pk]),
    "objective": lambda o, s: reverse(
        "planning:node_detail", args=[s, o["plan"].pk, "objective", o["objective"].pk]
    ),
    "step": lambda o, s: reverse("planning:node_detail", args=[s, o["plan"].pk, "step", o["step"].pk]),
    "review": lambda o, s: reverse("planning:plan_review", args=[s, o["plan"].pk]),
    "activity": lambda o, s: reverse("planning:plan_activity", args=[s, o["plan"].pk]),
    "plans": lambda o, s: reverse("planning:plan_list", args=[s]),
    "my work": lambda o, s: reverse("planning:my_work", args=[s]),
    "check in": lambda o, s: reverse("metrics:check_in", args=[s]),
    "measures": lambda o, s: reverse("metrics:objective_measures", args=[s, o["objective"].pk]),
    "key result": lambda o, s: reverse("metrics:key_result_detail", args=[s, o["kr"].pk]),
    "kpi": lambda o, s: reverse("metrics:kpi_detail", args=[s, o["kpi"].pk]),
    "kpis": lambda o, s: reverse("metrics:kpi_list", args=[s]),
    "dashboard": lambda o, s: reverse("metrics:my_dashboard", args=[s]),
    "teams": lambda o, s: reverse("team_list", args=[s]),
    "audit": lambda o, s: reverse("audit_log", args=[s]),
    "progress": lambda o, s: reverse("metrics:plan_progress", args=[s, o["plan"].pk]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(PAGES))
def test_hostile_text_in_every_field_is_escaped_on_every_page(acme, clients, hostile, name):
    client = clients[{"audit": "owner", "editor": "manager"}.get(name, "member")]
    response = client.get(PAGES[name](hostile, acme.org.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;" in html, "the hostile text is not on the page: the test shows nothing"
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert(1)>" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")


@pytest.mark.django_db
def test_hostile_titles_are_escaped_in_the_progress_charts(acme, hostile):
    """The SVG charts build their markup in Python: a running plan's title and figures in its chart,
    its trend on the dashboard and its chart loaded into the map."""
    import time_machine

    from metrics.tasks import snapshot_progress
    from planning.models import Plan
    from tests.conftest import client_for

    plan = hostile["plan"]
    Plan.objects.filter(pk=plan.pk).update(
        status="active", first_approved_at=datetime(2027, 1, 1, tzinfo=UTC)
    )
    with time_machine.travel(date(2027, 2, 1), tick=False):
        snapshot_progress.run()
        client = client_for(acme.manager)
        pages = [
            client.get(reverse("metrics:plan_progress", args=[acme.org.slug, plan.pk])),
            client.get(
                reverse("metrics:plan_progress", args=[acme.org.slug, plan.pk]),
                headers={"HX-Request": "true"},
            ),
            client.get(reverse("metrics:dashboard", args=[acme.org.slug])),
        ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert (
            "chart--progress" in html or "spark__pace" in html
        )  # the chart is drawn: the test shows something
        assert "&lt;script&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html


@pytest.fixture
def hostile_aligned(acme, hostile):
    """The hostile plan running as the company plan, a running team plan whose hostile objective serves
    its hostile objective, and a draft team plan (its picker lists the company's hostile nodes)."""
    from django.utils import timezone

    from metrics.services.alignment import objective_align
    from planning.models import Plan

    company = hostile["plan"]
    teams = []
    for name in ("running", "draft"):
        team = services.plan_create(
            actor=acme.manager,
            title=f"{HOSTILE} {name} team plan",
            ultimate_goal=HOSTILE,
            period_start=date(2027, 1, 1),
            period_end=date(2027, 12, 31),
            parent=company,
        )
        milestone = services.milestone_create(actor=acme.manager, plan=team, title=f"{HOSTILE} tm")
        objective = services.objective_create(
            actor=acme.manager, milestone=milestone, title=f"{HOSTILE} to", team=hostile["objective"].team
        )
        objective_align(
            actor=acme.manager,
            objective=objective,
            target_kind="objective",
            target_id=hostile["objective"].pk,
        )
        teams.append((team, objective))
    running = [company.pk, teams[0][0].pk]
    Plan.objects.filter(pk__in=running).update(status="active", first_approved_at=timezone.now())
    return {"company": company, "team": teams[0], "draft": teams[1]}


ALIGNED_PAGES = {
    "company map": lambda a, s: reverse("planning:plan_map", args=[s, a["company"].pk]),
    "team map": lambda a, s: reverse("planning:plan_map", args=[s, a["team"][0].pk]),
    "team objective": lambda a, s: reverse(
        "planning:node_detail", args=[s, a["team"][0].pk, "objective", a["team"][1].pk]
    ),
    "why": lambda a, s: reverse(
        "planning:progress_breakdown", args=[s, a["company"].pk, "plan", a["company"].pk]
    ),
    "alignment": lambda a, s: reverse("metrics:alignment", args=[s]),
    "picker": lambda a, s: reverse("metrics:objective_alignment", args=[s, a["draft"][1].pk]),
    "review": lambda a, s: reverse("planning:plan_review", args=[s, a["draft"][0].pk]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(ALIGNED_PAGES))
def test_hostile_text_is_escaped_where_plans_are_aligned(acme, clients, hostile_aligned, name):
    response = clients["manager"].get(ALIGNED_PAGES[name](hostile_aligned, acme.org.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert(1)>" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
