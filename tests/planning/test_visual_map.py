"""The visual strategy map: its tidy layout, levels opened by address (and by HTMX), big plans opened
at their milestones, and the filters it shares with the outline, each view with its own URL."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.urls import reverse
from django.utils import timezone

from bizops.models import Team
from planning import services
from planning.models import ActionStep, Objective
from planning.visual import CARD_W, H_GAP, Card, _lines, layout
from tests.conftest import client_for
from tests.factories import make_plan

HX = {"HX-Request": "true"}


def _card(key: str, children: list[Card] | None = None) -> Card:
    return Card(
        key,
        "Node",
        key,
        "#",
        0,
        "neutral",
        "",
        children=children or [],
        count=len(children or []),
        is_open=True,
    )


def _shown(card: Card) -> list[Card]:
    return [card] + [c for child in (card.children if card.is_open else []) for c in _shown(child)]


def test_the_layout_puts_each_level_on_a_row_without_overlaps_and_parents_over_their_children():
    root = _card(
        "root", [_card("a", [_card("a1"), _card("a2"), _card("a3")]), _card("b"), _card("c", [_card("c1")])]
    )
    width, _ = layout(root)
    cards = _shown(root)
    rows: dict[float, list[Card]] = {}
    for card in cards:
        rows.setdefault(card.y, []).append(card)
    assert len(rows) == 3
    for row in rows.values():
        row.sort(key=lambda c: c.x)
        for left, right in pairwise(row):
            assert right.x - left.x >= CARD_W + H_GAP, (left.key, right.key)
    a = root.children[0]
    assert a.x == pytest.approx((a.children[0].x + a.children[-1].x) / 2)
    assert root.x == pytest.approx((root.children[0].x + root.children[-1].x) / 2)
    assert all(c.x >= 0 and c.x + CARD_W <= width for c in cards)
    # A closed card takes one card's width, whatever it holds.
    root.children[0].is_open = False
    narrower, _ = layout(root)
    assert narrower < width


def test_long_titles_take_two_lines_cut_at_a_word_with_an_ellipsis():
    assert _lines("Win 60 new clients this year") == ["Win 60 new clients this year"]
    lines = _lines("Close five new copywriting clients a month and then keep every one of them for years")
    assert len(lines) == 2 and lines[1].endswith("…") and all(len(line) <= 30 for line in lines)
    assert _lines("x" * 80) == ["x" * 29 + "…"]


@pytest.fixture
def small(acme):
    plan = make_plan(acme.org, acme.manager, milestones=2, objectives=2, steps=3)
    return plan


@pytest.mark.django_db
def test_a_small_plan_opens_at_its_objectives_and_an_objective_opens_by_its_address(acme, small):
    client = client_for(acme.viewer)
    url = reverse("planning:plan_visual", args=[acme.org.slug, small.pk])
    html = client.get(url).content.decode()
    assert html.count('class="vm-card vm-card--o"') == 4
    assert 'class="vm-card vm-card--s"' not in html
    assert "+ 3 steps" in html
    objective = Objective.objects.filter(plan=small).order_by("pk").first()
    opened = client.get(url, {"open": f"m{objective.milestone_id},o{objective.pk}"}).content.decode()
    assert opened.count('class="vm-card vm-card--s"') == 3
    assert "− 3 steps" in opened
    # HTMX asks for the canvas alone, and the toggles say where the opened map lives.
    fragment = client.get(url, {"open": ""}, headers=HX).content.decode()
    assert fragment.lstrip().startswith('<section class="card visual-map" id="visual-map"')
    assert 'hx-push-url="true"' in fragment and "?open=m" in fragment


@pytest.mark.django_db
def test_a_big_plan_opens_at_its_milestones_with_counts_in_the_same_queries(
    acme, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(acme.viewer)
    few = make_plan(acme.org, acme.manager, milestones=3, objectives=15, steps=2, title="Few")
    many = make_plan(acme.org, acme.manager, milestones=6, objectives=20, steps=5, title="Many")
    client.get(reverse("planning:plan_visual", args=[acme.org.slug, few.pk]))
    with CaptureQueriesContext(connection) as small_read:
        html = client.get(reverse("planning:plan_visual", args=[acme.org.slug, few.pk])).content.decode()
    assert "vm-card--o" not in html and "+ 15 objectives" in html
    with django_assert_max_num_queries(len(small_read)):
        html = client.get(reverse("planning:plan_visual", args=[acme.org.slug, many.pk])).content.decode()
    assert html.count("vm-card--m") == 6 and "+ 20 objectives" in html


@pytest.fixture
def mixed(acme, plan, tree):
    """The plan fixture plus an objective of another team with an overdue step and a blocked one."""
    milestone, objective, step = tree
    design = Team.objects.create(organization=acme.org, name="Design")
    other = services.objective_create(
        actor=acme.manager,
        milestone=milestone,
        title="Refresh the brand",
        team=design,
        owner=acme.admin,
        start_date=date(2027, 1, 1),
        due_date=date(2027, 3, 31),
    )
    late = services.step_create(
        actor=acme.manager, objective=other, title="Pick a typeface", assignee=acme.admin
    )
    blocked = services.step_create(
        actor=acme.manager, objective=other, title="Shoot new photos", assignee=acme.admin
    )
    ActionStep.objects.filter(pk=blocked.pk).update(status="blocked")
    ActionStep.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    return {
        "design": design,
        "other": other,
        "late": late,
        "blocked": blocked,
        "objective": objective,
        "step": step,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["planning:plan_map", "planning:plan_visual"])
def test_the_filters_narrow_both_maps_and_each_view_has_its_own_url(acme, plan, mixed, view):
    from planning.models import Plan

    Plan.objects.filter(pk=plan.pk).update(status="active", first_approved_at=timezone.now())
    client = client_for(acme.member)
    url = reverse(view, args=[acme.org.slug, plan.pk])

    def shows(query: dict) -> tuple[bool, bool, bool, bool]:
        page = client.get(url, query)
        assert page.status_code == 200
        html = page.content.decode()
        return tuple(
            t in html
            for t in (
                "Close five clients a month",
                "Refresh the brand",
                "Pick a typeface",
                "Shoot new photos",
            )
        )

    assert shows({"team": mixed["design"].pk}) == (False, True, True, True)
    assert shows({"q": "typeface"}) == (False, True, True, False)
    assert shows({"status": "blocked"}) == (False, True, False, True)
    assert shows({"overdue": "on"}) == (False, True, True, False)
    assert shows({"owner": acme.member.pk}) == (True, False, False, False)  # the member's step
    html = client.get(url, {"q": "zzz-nothing"}).content.decode()
    assert "Nothing in this plan matches these filters." in html
    # Values that are not choices filter nothing and break nothing.
    for query in ({"team": "x"}, {"owner": "99999999"}, {"status": "<script>"}, {"q": "x" * 500}):
        assert client.get(url, query).status_code == 200


@pytest.mark.django_db
def test_another_organizations_plan_answers_404_and_titles_are_escaped(acme, other):
    theirs = make_plan(other.org, other.manager, milestones=1, objectives=1, steps=1)
    assert (
        client_for(acme.owner)
        .get(reverse("planning:plan_visual", args=[acme.org.slug, theirs.pk]))
        .status_code
        == 404
    )
    plan = make_plan(acme.org, acme.manager, milestones=1, objectives=1, steps=1, title="<b>x</b>")
    Objective.objects.filter(plan=plan).update(title='<script>alert("x")</script>')
    html = (
        client_for(acme.owner)
        .get(reverse("planning:plan_visual", args=[acme.org.slug, plan.pk]))
        .content.decode()
    )
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


@pytest.mark.django_db
def test_the_filter_form_loads_when_its_box_opens_and_targets_the_page_it_was_opened_on(acme, other, small):
    client = client_for(acme.viewer)
    map_url = reverse("planning:plan_map", args=[acme.org.slug, small.pk])
    assert "Filter the map</summary>" in client.get(map_url).content.decode()
    assert 'name="owner"' not in client.get(map_url).content.decode()  # no member list until asked
    assert 'name="owner"' in client.get(map_url, {"filter": "1"}).content.decode()  # without script
    url = reverse("planning:map_filters", args=[acme.org.slug, small.pk])
    form = client.get(url, {"on": "plan_visual"}, headers=HX).content.decode()
    visual = reverse("planning:plan_visual", args=[acme.org.slug, small.pk])
    assert f'action="{visual}"' in form and acme.member.user.email in form
    assert f'action="{map_url}"' in client.get(url, {"on": "<script>"}, headers=HX).content.decode()
    theirs = make_plan(other.org, other.manager, milestones=1, objectives=1, steps=1)
    assert client.get(reverse("planning:map_filters", args=[acme.org.slug, theirs.pk])).status_code == 404


@pytest.mark.django_db
def test_a_team_filter_on_a_big_plan_keeps_the_step_counts_and_opens_few(acme, django_assert_max_num_queries):
    from planning.models import Objective

    team = Team.objects.create(organization=acme.org, name="Big team")
    big = make_plan(acme.org, acme.manager, milestones=3, objectives=20, steps=8, title="Big")  # 480 steps
    Objective.objects.filter(plan=big).update(team=team)
    client = client_for(acme.viewer)
    outline = client.get(reverse("planning:plan_map", args=[acme.org.slug, big.pk]), {"team": team.pk})
    assert "8 steps" in outline.content.decode() and "0 steps" not in outline.content.decode()
    visual = client.get(reverse("planning:plan_visual", args=[acme.org.slug, big.pk]), {"team": team.pk})
    html = visual.content.decode()
    assert "+ 8 steps" in html
    # A made-up "open" list is cut to this plan's cards: the page does not grow with it.
    junk = ",".join(f"o{n}" for n in range(5000))
    again = client.get(reverse("planning:plan_visual", args=[acme.org.slug, big.pk]), {"open": junk})
    assert again.status_code == 200 and len(again.content) < 200_000


@pytest.mark.django_db
def test_htmx_restoring_history_gets_the_whole_page(acme, small):
    client = client_for(acme.viewer)
    url = reverse("planning:plan_visual", args=[acme.org.slug, small.pk])
    restored = client.get(url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.content.decode()
    assert "HX-Request" in restored["Vary"]
