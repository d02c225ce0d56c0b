"""Aligned plans: a team plan names the company plan it serves, and each of its objectives the node of
that plan it serves. Refused links, the roll-up switch, the maps, the review, the alignment view, the
picker and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bizops.errors import Conflict, ValidationError
from bizops.models import AuditEvent, Team
from metrics import services as metrics_services
from metrics.models import Contribution
from metrics.services.alignment import objective_align, objective_unalign
from planning import services
from planning.models import ActionStep, Milestone, Objective, Plan
from planning.selectors import dashboard_trees
from tests.conftest import client_for, make_org
from tests.planning.factories import api_client

HX = {"HX-Request": "true"}


@dataclass
class Aligned:
    company: Plan
    growth: Milestone  # the company's milestone
    win: Objective  # the company objective the team serves
    other_objective: Objective  # a company objective nobody serves
    team: Plan
    close: Objective  # the team objective that serves ``win``
    spare: Objective  # a team objective that serves nothing


def _plan(acme, title: str, **fields) -> Plan:
    return services.plan_create(
        actor=acme.manager,
        title=title,
        ultimate_goal=f"The goal of {title}.",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
        **fields,
    )


def _objective(acme, milestone: Milestone, title: str, **fields) -> Objective:
    return services.objective_create(
        actor=acme.manager,
        milestone=milestone,
        title=title,
        owner=acme.manager,
        start_date=date(2027, 1, 1),
        due_date=date(2027, 6, 30),
        **fields,
    )


def _approve(acme, plan: Plan) -> Plan:
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    services.plan_approve(actor=acme.admin, plan=Plan.objects.get(pk=plan.pk), comment="Go")
    return Plan.objects.get(pk=plan.pk)


def _build(acme) -> Aligned:
    company = _plan(acme, "Company 2027")
    growth = services.milestone_create(actor=acme.manager, plan=company, title="Grow revenue")
    win = _objective(acme, growth, "Win 20 clients")
    other_objective = _objective(acme, growth, "Open a second office")
    for objective in (win, other_objective):
        services.step_create(
            actor=acme.manager, objective=objective, title=f"Start {objective.title}", assignee=acme.member
        )
    team = _plan(acme, "Copywriting team 2027", parent=company)
    sales, _ = Team.objects.get_or_create(organization=acme.org, name="Copywriters")
    pipeline = services.milestone_create(actor=acme.manager, plan=team, title="Fill the pipeline")
    close = _objective(acme, pipeline, "Close five copywriting clients a month", team=sales)
    spare = _objective(acme, pipeline, "Write the style guide", team=sales)
    for objective in (close, spare):
        done = services.step_create(
            actor=acme.manager, objective=objective, title=f"Do {objective.title}", assignee=acme.member
        )
        services.step_create(
            actor=acme.manager, objective=objective, title=f"Then {objective.title}", assignee=acme.member
        )
        ActionStep.objects.filter(pk=done.pk).update(status="done")
    objective_align(actor=acme.manager, objective=close, target_kind="objective", target_id=win.pk)
    return Aligned(company, growth, win, other_objective, team, close, spare)


@pytest.fixture
def aligned(acme) -> Aligned:
    return _build(acme)


@pytest.fixture
def running(acme, aligned) -> Aligned:
    """Both plans approved: the team's work runs, so its objectives count in the company's figures."""
    aligned.company = _approve(acme, aligned.company)
    aligned.team = _approve(acme, aligned.team)
    return aligned


def _figures(plan: Plan):
    tree = dashboard_trees(plans=[plan])[0]
    assert tree.progress is not None
    return tree.progress


# --- Refused links --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_link_to_another_organizations_node_is_not_found(acme, other, aligned):
    theirs = _plan(other, "Globex plan")
    milestone = services.milestone_create(actor=other.manager, plan=theirs, title="Theirs")
    objective = _objective(other, milestone, "Their objective")
    with pytest.raises(ValidationError) as refused:
        objective_align(
            actor=acme.manager, objective=aligned.spare, target_kind="objective", target_id=objective.pk
        )
    assert refused.value.message_dict == {"target_id": ["No such objective in this organization."]}
    assert not Contribution.objects.filter(objective=aligned.spare).exists()


@pytest.mark.django_db
def test_a_link_to_a_node_of_a_plan_that_is_not_the_parent_is_refused_by_name(acme, aligned):
    elsewhere = _plan(acme, "Hiring 2027")
    milestone = services.milestone_create(actor=acme.manager, plan=elsewhere, title="Hire")
    with pytest.raises(ValidationError) as refused:
        objective_align(
            actor=acme.manager, objective=aligned.spare, target_kind="milestone", target_id=milestone.pk
        )
    assert refused.value.message_dict["target_id"] == [
        "“Hire” is in “Hiring 2027”, not in “Company 2027”, the plan this one serves."
    ]
    with pytest.raises(ValidationError, match="is in this plan"):
        objective_align(
            actor=acme.manager, objective=aligned.spare, target_kind="objective", target_id=aligned.close.pk
        )
    with pytest.raises(ValidationError, match="serves no other plan yet"):
        objective_align(
            actor=acme.manager, objective=aligned.win, target_kind="milestone", target_id=aligned.growth.pk
        )
    with pytest.raises(ValidationError, match="Choose a milestone, an objective or a key result"):
        objective_align(actor=acme.manager, objective=aligned.spare, target_kind="step", target_id=1)
    assert not Contribution.objects.filter(objective=aligned.spare).exists()


@pytest.mark.django_db
def test_a_parent_that_would_make_a_cycle_is_refused(acme, aligned):
    with pytest.raises(ValidationError) as refused:
        services.plan_update(actor=acme.manager, plan=aligned.company, version=None, parent=aligned.team)
    assert refused.value.message_dict["parent"] == [
        "“Copywriting team 2027” already serves this plan: linking them both ways would make a cycle."
    ]
    with pytest.raises(ValidationError, match="cannot serve itself"):
        services.plan_update(actor=acme.manager, plan=aligned.team, version=None, parent=aligned.team)
    # Three levels: company <- team <- squad; the company may not serve the squad either.
    squad = _plan(acme, "Squad 2027", parent=aligned.team)
    with pytest.raises(ValidationError, match="would make a cycle"):
        services.plan_update(actor=acme.manager, plan=aligned.company, version=None, parent=squad)
    assert Plan.objects.get(pk=aligned.company.pk).parent_id is None


@pytest.mark.django_db
def test_a_plan_of_another_organization_cannot_be_the_parent(acme, other, aligned):
    theirs = _plan(other, "Globex plan")
    with pytest.raises(ValidationError) as refused:
        services.plan_update(actor=acme.manager, plan=aligned.team, version=None, parent=theirs)
    assert refused.value.message_dict == {"parent": ["Choose a plan of this organization."]}


@pytest.mark.django_db
def test_a_link_that_closes_a_loop_written_behind_the_services_back_is_refused(acme, aligned):
    """Only a race could link two plans both ways; the link service checks the chain again, and the
    roll-up stops at ``MAX_PLAN_DEPTH`` instead of looping."""
    Plan.objects.filter(pk=aligned.company.pk).update(parent=aligned.team)
    with pytest.raises(ValidationError, match="would make a cycle"):
        objective_align(
            actor=acme.manager, objective=aligned.spare, target_kind="objective", target_id=aligned.win.pk
        )
    Plan.objects.filter(pk__in=[aligned.company.pk, aligned.team.pk]).update(status="active")
    Contribution.objects.create(organization=acme.org, objective=aligned.win, to_objective=aligned.close)
    assert _figures(Plan.objects.get(pk=aligned.company.pk)).objectives[aligned.win.pk].value > 0


@pytest.mark.django_db
def test_only_editors_of_a_plan_being_written_change_its_links(acme, running):
    with pytest.raises(Conflict, match="through an amendment"):
        objective_align(
            actor=acme.manager, objective=running.spare, target_kind="objective", target_id=running.win.pk
        )
    draft = _build(acme)
    with pytest.raises(PermissionDenied):
        objective_align(
            actor=acme.member, objective=draft.spare, target_kind="objective", target_id=draft.win.pk
        )
    with pytest.raises(PermissionDenied):
        objective_unalign(actor=acme.member, objective=draft.close)
    assert Contribution.objects.filter(objective=draft.close).exists()


@pytest.mark.django_db
def test_a_new_parent_drops_the_links_to_the_old_one_on_the_audit_trail(acme, aligned):
    services.plan_update(actor=acme.manager, plan=aligned.team, version=None, parent=None)
    assert not Contribution.objects.filter(objective__plan=aligned.team).exists()
    event = AuditEvent.objects.filter(object_id=aligned.close.pk, kind="objective").latest("pk")
    assert event.changes["serves"] == ["Objective “Win 20 clients” of “Company 2027”", None]


@pytest.mark.django_db
def test_a_link_is_audited_and_re_pointing_it_is_one_change(acme, aligned):
    objective_align(
        actor=acme.manager,
        objective=aligned.close,
        target_kind="milestone",
        target_id=aligned.growth.pk,
        counts=False,
    )
    link = Contribution.objects.get(objective=aligned.close)
    assert (link.to_milestone_id, link.to_objective_id, link.counts) == (aligned.growth.pk, None, False)
    event = AuditEvent.objects.filter(object_id=aligned.close.pk, kind="objective").latest("pk")
    assert event.changes == {
        "serves": [
            "Objective “Win 20 clients” of “Company 2027”",
            "Milestone “Grow revenue” of “Company 2027”",
        ],
        "counts": [True, False],
    }


# --- The roll-up switch -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_running_team_objective_counts_in_the_company_objective_it_serves(acme, running):
    figures = _figures(running.company)
    win = figures.objectives[running.win.pk]
    # Its own step (not done) and the team objective (one of its two steps done): (0 + 0.5) / 2.
    assert win.value == pytest.approx(0.25)
    part = next(p for p in win.parts if p.kind == "contribution")
    assert (part.label, part.node_id, part.value, part.weight) == (
        "Close five copywriting clients a month",
        running.close.pk,
        0.5,
        1.0,
    )
    assert "Copywriters" in part.detail and "“Copywriting team 2027”" in part.detail
    # The team objective says what it serves, never counted in its own figure.
    team = _figures(running.team).objectives[running.close.pk]
    assert team.value == pytest.approx(0.5)
    assert [(p.kind, p.label) for p in team.aside] == [("serves", "Win 20 clients")]


@pytest.mark.django_db
def test_switched_off_a_contribution_is_shown_beside_the_figure_not_in_it(acme, running):
    Contribution.objects.filter(objective=running.close).update(counts=False)
    win = _figures(running.company).objectives[running.win.pk]
    assert win.value == 0.0
    assert [p.node_id for p in win.team_objectives_aside] == [running.close.pk]
    assert not win.counts_team_objectives


@pytest.mark.django_db
def test_a_draft_team_plan_neither_counts_nor_shows(acme, aligned):
    company = _approve(acme, aligned.company)
    win = _figures(company).objectives[aligned.win.pk]
    assert win.value == 0.0
    assert not win.parts[1:] and not win.aside


@pytest.mark.django_db
def test_serving_a_key_result_counts_in_its_objective_and_serving_a_milestone_in_the_milestone(acme, aligned):
    kr = metrics_services.key_result_create(
        actor=acme.manager, objective=aligned.win, title="Clients signed", start=0, target=20
    )
    objective_align(actor=acme.manager, objective=aligned.close, target_kind="key_result", target_id=kr.pk)
    objective_align(
        actor=acme.manager, objective=aligned.spare, target_kind="milestone", target_id=aligned.growth.pk
    )
    company, _ = _approve(acme, aligned.company), _approve(acme, aligned.team)
    figures = _figures(company)
    via = next(p for p in figures.objectives[aligned.win.pk].parts if p.kind == "contribution")
    assert via.node_id == aligned.close.pk and "via key result “Clients signed”" in via.detail
    milestone = figures.milestones[aligned.growth.pk]
    assert [p.kind for p in milestone.parts] == ["objective", "objective", "contribution"]
    assert milestone.parts[-1].node_id == aligned.spare.pk


@pytest.mark.django_db
def test_reading_a_plan_served_by_more_team_plans_costs_no_more_queries(
    acme, running, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _figures(running.company)
    for n in range(4):
        more = _plan(acme, f"Team {n}", parent=running.company)
        milestone = services.milestone_create(actor=acme.manager, plan=more, title="M")
        for k in range(3):
            objective = _objective(acme, milestone, f"O{n}.{k}")
            services.step_create(actor=acme.manager, objective=objective, title="S", assignee=acme.member)
            objective_align(
                actor=acme.manager, objective=objective, target_kind="objective", target_id=running.win.pk
            )
        _approve(acme, more)
    with django_assert_max_num_queries(len(few)):
        figures = _figures(running.company)
    assert len([p for p in figures.objectives[running.win.pk].parts if p.kind == "contribution"]) == 13


# --- Pages ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_company_map_shows_the_team_objectives_under_the_node_they_serve(acme, running):
    client = client_for(acme.viewer)
    page = client.get(reverse("planning:plan_map", args=[acme.org.slug, running.company.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Served by 1 team objective" in html
    assert "Close five copywriting clients a month" in html and "counts in this figure" in html
    close_url = reverse(
        "planning:node_detail", args=[acme.org.slug, running.team.pk, "objective", running.close.pk]
    )
    assert close_url in html
    team_page = client.get(
        reverse("planning:plan_map", args=[acme.org.slug, running.team.pk])
    ).content.decode()
    assert "Serves <a" in team_page and "Win 20 clients" in team_page and "Serves <a href" in team_page
    why = client.get(
        reverse(
            "planning:progress_breakdown",
            args=[acme.org.slug, running.company.pk, "objective", running.win.pk],
        )
    ).content.decode()
    assert "Team objective" in why and "counts as one part of weight 1" in why


@pytest.mark.django_db
def test_the_review_of_a_team_plan_shows_what_it_serves_and_a_change_of_it_is_in_the_diff(acme, aligned):
    client = client_for(acme.admin)
    url = reverse("planning:plan_review", args=[acme.org.slug, aligned.team.pk])
    html = client.get(url).content.decode()
    assert "What this plan serves" in html
    assert "Objective “Win 20 clients” of “Company 2027”" in html
    assert "Serving nothing: Write the style guide." in html
    team = _approve(acme, aligned.team)
    services.plan_start_amendment(actor=acme.manager, plan=team)
    objective_align(
        actor=acme.manager,
        objective=aligned.spare,
        target_kind="objective",
        target_id=aligned.other_objective.pk,
    )
    changes = client.get(url).content.decode().split('id="changes-h"')[1]
    assert "Alignment <strong>Write the style guide</strong>" in changes
    assert "serves Objective “Open a second office” of “Company 2027”" in changes


@pytest.mark.django_db
def test_the_picker_narrows_as_one_types_and_saves_the_link(acme, aligned):
    client = client_for(acme.manager)
    url = reverse("metrics:objective_alignment", args=[acme.org.slug, aligned.spare.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Win 20 clients" in html and "Open a second office" in html and "Grow revenue" in html
    fragment = client.get(url, {"q": "office"}, headers=HX).content.decode()
    assert "Open a second office" in fragment and "Win 20 clients" not in fragment
    assert "<html" not in fragment
    saved = client.post(url, {"target": f"objective:{aligned.other_objective.pk}", "counts": "on"})
    assert saved.status_code == 302
    assert Contribution.objects.get(objective=aligned.spare).to_objective_id == aligned.other_objective.pk
    cleared = client.post(url, {"action": "clear"})
    assert cleared.status_code == 302
    assert not Contribution.objects.filter(objective=aligned.spare).exists()


@pytest.mark.django_db
def test_the_picker_shows_a_refused_link_again_with_the_reason(acme, other, aligned):
    theirs = _plan(other, "Globex plan")
    milestone = services.milestone_create(actor=other.manager, plan=theirs, title="Theirs")
    client = client_for(acme.manager)
    url = reverse("metrics:objective_alignment", args=[acme.org.slug, aligned.spare.pk])
    for target, message in (
        (f"milestone:{milestone.pk}", "No such milestone in this organization."),
        ("objective:abc", "Choose a node of the plan this one serves."),
        ("", "Choose the node of the plan above that it serves."),
    ):
        page = client.post(url, {"target": target})
        assert page.status_code == 400
        assert message in page.content.decode()
    assert not Contribution.objects.filter(objective=aligned.spare).exists()
    assert client.post(url, {"target": f"objective:{aligned.win.pk}"}, secure=False).status_code == 302
    assert client_for(acme.member).post(url, {"action": "clear"}).status_code == 403
    assert client_for(other.owner).get(url).status_code == 404


@pytest.mark.django_db
def test_a_plan_without_a_parent_says_how_to_get_one(acme, aligned):
    page = client_for(acme.manager).get(
        reverse("metrics:objective_alignment", args=[acme.org.slug, aligned.win.pk])
    )
    assert "This plan serves no other plan." in page.content.decode()


@pytest.mark.django_db
def test_the_settings_page_refuses_a_cycle_with_the_form_shown_again(acme, aligned):
    client = client_for(acme.manager)
    url = reverse("planning:plan_settings", args=[acme.org.slug, aligned.company.pk])
    company = aligned.company
    page = client.post(
        url,
        {
            "title": company.title,
            "ultimate_goal": company.ultimate_goal,
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "owner": acme.manager.pk,
            "parent": aligned.team.pk,
            "version": Plan.objects.get(pk=company.pk).version,
        },
    )
    assert page.status_code == 400
    assert "would make a cycle" in page.content.decode()
    assert Plan.objects.get(pk=company.pk).parent_id is None


# --- The alignment view ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_alignment_view_is_one_tree_with_what_serves_nothing_and_what_nobody_works_on(acme, running):
    page = client_for(acme.viewer).get(reverse("metrics:alignment", args=[acme.org.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    tree, side = html.split('id="nothing-h"')
    assert "Company 2027" in tree and "Win 20 clients" in tree
    assert "Close five copywriting clients a month" in tree  # under the objective it serves
    assert "Served by <a" in tree and "Copywriting team 2027" in tree
    nothing, unserved = side.split('id="unserved-h"')
    assert "Write the style guide" in nothing and "Close five" not in nothing
    assert "Open a second office" in unserved and "Win 20 clients" not in unserved


@pytest.mark.django_db
def test_the_alignment_view_filters_have_their_own_url(acme, running):
    client = client_for(acme.viewer)
    url = reverse("metrics:alignment", args=[acme.org.slug])
    copywriters = running.close.team
    html = client.get(url, {"team": copywriters.pk}).content.decode()
    tree = html.split('id="nothing-h"')[0]
    assert "Close five copywriting clients a month" in tree
    assert "Open a second office" not in tree  # neither it nor anything under it is the team's
    assert f'<option value="{copywriters.pk}" selected>' in html
    html = client.get(url, {"period": "2026-01-01..2026-12-31"}).content.decode()
    assert "No plan runs in this period." in html
    # Malformed values are no filter, never an error.
    for query in ({"team": "x"}, {"owner": "99999999"}, {"status": "<script>"}, {"period": "2027..x"}):
        assert client.get(url, query).status_code == 200


@pytest.mark.django_db
def test_the_alignment_view_reads_in_the_same_queries_as_plans_grow(
    acme, running, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(acme.viewer)
    url = reverse("metrics:alignment", args=[acme.org.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(3):
        more = _plan(acme, f"Team {n}", parent=running.company)
        milestone = services.milestone_create(actor=acme.manager, plan=more, title="M")
        for k in range(4):
            objective = _objective(acme, milestone, f"O{n}.{k}", team=running.close.team)
            services.step_create(actor=acme.manager, objective=objective, title="S", assignee=acme.member)
            if k % 2:
                objective_align(
                    actor=acme.manager, objective=objective, target_kind="objective", target_id=running.win.pk
                )
        _approve(acme, more)
    with django_assert_max_num_queries(len(few)):
        html = client.get(url).content.decode()
    assert all(f"O2.{k}" in html for k in range(4))


@pytest.mark.django_db
def test_another_organization_sees_none_of_it(acme, other, running):
    client = client_for(other.owner)
    html = client.get(reverse("metrics:alignment", args=[other.org.slug])).content.decode()
    assert "Win 20 clients" not in html and "Nothing runs yet." in html
    assert client.get(reverse("metrics:alignment", args=[acme.org.slug])).status_code == 404


# --- The API ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_sets_reads_and_clears_a_link(acme, aligned):
    client = api_client(acme.manager)
    url = reverse("metrics_api:api_objective_alignment", args=[acme.org.slug, aligned.spare.pk])
    assert client.get(url).json() == {"objective": aligned.spare.pk, "serves": None, "counts": None}
    put = client.put(
        url, {"target_kind": "milestone", "target_id": aligned.growth.pk, "counts": False}, format="json"
    )
    assert put.status_code == 200
    assert put.json()["serves"] == {
        "kind": "milestone",
        "id": aligned.growth.pk,
        "title": "Grow revenue",
        "plan_id": aligned.company.pk,
        "plan_title": "Company 2027",
        "label": "Milestone “Grow revenue” of “Company 2027”",
    }
    assert put.json()["counts"] is False
    assert client.delete(url).status_code == 204
    assert not Contribution.objects.filter(objective=aligned.spare).exists()


@pytest.mark.django_db
def test_the_api_refuses_bad_links_with_a_400_and_changes_nothing(acme, other, aligned):
    theirs = _plan(other, "Globex plan")
    their_milestone = services.milestone_create(actor=other.manager, plan=theirs, title="Theirs")
    client = api_client(acme.manager)
    url = reverse("metrics_api:api_objective_alignment", args=[acme.org.slug, aligned.spare.pk])
    for body, field in (
        ({"target_kind": "milestone", "target_id": their_milestone.pk}, "target_id"),
        ({"target_kind": "objective", "target_id": aligned.close.pk}, "target_id"),
        ({"target_kind": "plan", "target_id": aligned.company.pk}, "target_kind"),
        ({"target_kind": "objective", "target_id": "1"}, "target_id"),
        ({"target_kind": "objective"}, "target_id"),
        ({"target_kind": "objective", "target_id": aligned.win.pk, "extra": 1}, "extra"),
    ):
        answer = client.put(url, body, format="json")
        assert answer.status_code == 400, body
        assert field in answer.json()["fields"], answer.json()
    assert not Contribution.objects.filter(objective=aligned.spare).exists()
    assert (
        api_client(acme.member)
        .put(url, {"target_kind": "objective", "target_id": aligned.win.pk}, format="json")
        .status_code
        == 403
    )
    theirs_url = reverse("metrics_api:api_objective_alignment", args=[other.org.slug, aligned.spare.pk])
    assert api_client(other.owner).get(theirs_url).status_code == 404


@pytest.mark.django_db
def test_the_api_picker_lists_the_parents_nodes_matching_q(acme, aligned):
    client = api_client(acme.member)
    url = reverse("metrics_api:api_alignment_options", args=[acme.org.slug, aligned.team.pk])
    everything = client.get(url).json()
    assert [(o["kind"], o["title"]) for o in everything] == [
        ("milestone", "Grow revenue"),
        ("objective", "Win 20 clients"),
        ("objective", "Open a second office"),
    ]
    assert [o["title"] for o in client.get(url, {"q": "CLIENTS"}).json()] == ["Win 20 clients"]
    assert (
        client.get(
            reverse("metrics_api:api_alignment_options", args=[acme.org.slug, aligned.company.pk])
        ).json()
        == []
    )


@pytest.mark.django_db
def test_the_plan_api_sets_the_parent_and_refuses_a_cycle(acme, other, aligned):
    client = api_client(acme.manager)
    url = reverse("planning_api:api_plan_detail", args=[acme.org.slug, aligned.company.pk])
    refused = client.patch(url, {"parent": aligned.team.pk}, format="json")
    assert refused.status_code == 400
    assert "cycle" in str(refused.json())
    theirs = _plan(other, "Globex plan")
    assert client.patch(url, {"parent": theirs.pk}, format="json").status_code == 400
    assert Plan.objects.get(pk=aligned.company.pk).parent_id is None
    team_url = reverse("planning_api:api_plan_detail", args=[acme.org.slug, aligned.team.pk])
    assert client.get(team_url).json()["parent"] == aligned.company.pk


@pytest.mark.django_db
def test_an_organization_of_one_plan_has_an_empty_alignment_view(db):
    solo = make_org(name="Solo", slug="solo")
    html = client_for(solo.owner).get(reverse("metrics:alignment", args=["solo"])).content.decode()
    assert "Nothing runs yet." in html


# --- The plan file ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_file_carries_the_links_and_an_import_here_keeps_them(acme, aligned):
    from metrics.exchange import plan_export, plan_import

    document = plan_export(plan=aligned.team)
    assert document["plan"]["parent"] == {"id": aligned.company.pk, "title": "Company 2027"}
    objectives = document["milestones"][0]["objectives"]
    assert objectives[0]["serves"] == {
        "kind": "objective",
        "id": aligned.win.pk,
        "title": "Win 20 clients",
        "counts": True,
    }
    assert objectives[1]["serves"] is None
    copy, warnings = plan_import(actor=acme.manager, document=document)
    assert warnings == []
    assert copy.parent_id == aligned.company.pk
    link = Contribution.objects.get(objective__plan=copy)
    assert (link.objective.title, link.to_objective_id, link.counts) == (
        aligned.close.title,
        aligned.win.pk,
        True,
    )


@pytest.mark.django_db
def test_an_import_reports_each_link_it_cannot_resolve_and_leaves_it_out(acme, other, aligned):
    from metrics.exchange import plan_export, plan_import

    document = plan_export(plan=aligned.team)
    elsewhere, warnings = plan_import(actor=other.owner, document=document)
    assert elsewhere.parent_id is None
    assert (
        warnings[0]
        == f"plan.parent: no plan #{aligned.company.pk} (“Company 2027”) here; the plan serves no plan."
    )
    assert (
        f"milestones[0].objectives[0].serves: objective #{aligned.win.pk} (“Win 20 clients”) left out: "
        "the plan serves no plan here."
    ) in warnings
    # The parent resolves but the node is not in it (a node of the team plan itself).
    document["milestones"][0]["objectives"][1]["serves"] = {
        "kind": "objective",
        "id": aligned.close.pk,
        "title": "x",
    }
    copy, warnings = plan_import(actor=acme.manager, document=document)
    assert any(
        w.startswith("milestones[0].objectives[1].serves: objective #")
        and "is in this plan" not in w
        and "left out" in w
        for w in warnings
    )
    assert Contribution.objects.filter(objective__plan=copy).count() == 1


@pytest.mark.django_db
def test_a_link_of_the_wrong_shape_is_an_error_and_nothing_is_imported(acme, aligned):
    from metrics.exchange import plan_export, plan_import

    document = plan_export(plan=aligned.team)
    before = Plan.objects.count()
    for bad, path in (
        ({"kind": "objective", "id": "12"}, "milestones[0].objectives[0].serves"),
        ({"kind": "plan", "id": 12}, "milestones[0].objectives[0].serves.kind"),
        ({"kind": "objective", "id": 12, "counts": "yes"}, "milestones[0].objectives[0].serves.counts"),
    ):
        document["milestones"][0]["objectives"][0]["serves"] = bad
        with pytest.raises(ValidationError) as refused:
            plan_import(actor=acme.manager, document=document)
        assert path in refused.value.message_dict
    document["milestones"][0]["objectives"][0]["serves"] = None
    document["plan"]["parent"] = "Company 2027"
    with pytest.raises(ValidationError) as refused:
        plan_import(actor=acme.manager, document=document)
    assert "plan.parent" in refused.value.message_dict
    assert Plan.objects.count() == before


@pytest.mark.django_db
def test_progress_rolls_up_through_three_levels_of_plans(acme, running):
    """A squad's objective serves the team's, which serves the company's: the company sees the
    team objective's figure with the squad's part in it."""
    team = Plan.objects.get(pk=running.team.pk)
    squad = _plan(acme, "Squad 2027", parent=team)
    milestone = services.milestone_create(actor=acme.manager, plan=squad, title="Squad work")
    objective = _objective(acme, milestone, "Squad objective")
    step = services.step_create(
        actor=acme.manager, objective=objective, title="All done", assignee=acme.member
    )
    ActionStep.objects.filter(pk=step.pk).update(status="done")
    objective_align(
        actor=acme.manager, objective=objective, target_kind="objective", target_id=running.close.pk
    )
    _approve(acme, squad)
    # The team objective: its two steps (one done) and the squad objective (done): (1 + 0 + 1) / 3.
    close = _figures(team).objectives[running.close.pk]
    assert close.value == pytest.approx(2 / 3)
    win = _figures(running.company).objectives[running.win.pk]
    part = next(p for p in win.parts if p.kind == "contribution")
    assert part.value == pytest.approx(2 / 3)
    assert win.value == pytest.approx((0 + 2 / 3) / 2)


@pytest.mark.django_db
def test_a_closed_team_plan_still_counts_in_the_plan_it_served(acme, running):
    from django.utils import timezone

    Plan.objects.filter(pk=running.team.pk).update(status="closed", closed_at=timezone.now())
    win = _figures(running.company).objectives[running.win.pk]
    assert [p.node_id for p in win.parts if p.kind == "contribution"] == [running.close.pk]


@pytest.mark.django_db
def test_the_picker_ignores_control_characters_in_the_query(acme, aligned):
    url = reverse("metrics:objective_alignment", args=[acme.org.slug, aligned.spare.pk])
    page = client_for(acme.manager).get(url, {"q": "clie\x00nts"})
    assert page.status_code == 200
    assert "Win 20 clients" in page.content.decode()
    assert 'aria-current="page">Strategy map' not in page.content.decode()
    assert "Edit map</a>" in page.content.decode()  # the plan's rights reach its head on this page


@pytest.mark.django_db
def test_plans_nest_at_most_ten_levels_deep(acme):
    parent = _plan(acme, "Level 0")
    for level in range(1, 11):
        parent = _plan(acme, f"Level {level}", parent=parent)
    with pytest.raises(ValidationError, match="at most 10 levels"):
        _plan(acme, "Level 11", parent=parent)


@pytest.mark.django_db
def test_the_progress_api_names_a_serving_objective_and_its_plan(acme, running):
    answer = api_client(acme.viewer).get(
        reverse("metrics_api:api_plan_progress", args=[acme.org.slug, running.company.pk])
    )
    assert answer.status_code == 200
    parts = [p for o in answer.json()["objectives"] for p in o["parts"]]
    served = [p for p in parts if p["kind"] == "contribution"]
    assert [(p["node_id"], p["plan_id"]) for p in served] == [(running.close.pk, running.team.pk)]
