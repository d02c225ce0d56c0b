"""The plan editor through HTTP: HTMX fragments, plain-form fallbacks, conflicts, deletes that ask first."""

import pytest
from django.urls import reverse

from planning.models import Milestone, Objective, Plan
from tests.names import qualified

HX = {"HX-Request": "true"}


def url(name, acme, plan, kind=None, node=None):
    if kind is None:
        return reverse(qualified(name), args=[acme.org.slug, plan.pk])
    return reverse(qualified(name), args=[acme.org.slug, plan.pk, kind, node.pk])


@pytest.mark.django_db
def test_inline_add_returns_the_tree_fragment(acme, clients, plan, tree):
    milestone, _, _ = tree
    response = clients["manager"].post(
        url("node_add", acme, plan, "milestone", milestone), {"title": "Grow referrals"}, headers=HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="editor-tree"' in html and "<html" not in html
    assert "Grow referrals" in html
    assert Objective.objects.filter(milestone=milestone, title="Grow referrals").exists()


@pytest.mark.django_db
def test_add_without_javascript_redirects_back_to_the_editor(acme, clients, plan):
    response = clients["manager"].post(url("milestone_add", acme, plan), {"title": "Second milestone"})
    assert response.status_code == 302 and response.url == url("plan_editor", acme, plan)
    assert plan.milestones.filter(title="Second milestone").exists()


@pytest.mark.django_db
def test_empty_title_is_refused_with_a_message(acme, clients, plan):
    before = Milestone.objects.count()
    response = clients["manager"].post(url("milestone_add", acme, plan), {"title": "   "}, headers=HX)
    assert response.status_code == 400
    assert "Give it a title" in response.content.decode()
    assert Milestone.objects.count() == before


@pytest.mark.django_db
def test_inline_edit_saves_and_returns_the_row(acme, clients, plan, tree):
    _, objective, _ = tree
    edit = url("node_edit", acme, plan, "objective", objective)
    form = clients["manager"].get(edit, headers=HX)
    assert form.status_code == 200 and 'name="version"' in form.content.decode()
    data = {
        "title": "Close six clients a month",
        "why": "",
        "description": "",
        "start_date": "2027-01-01",
        "due_date": "2027-04-30",
        "team": "",
        "owner": acme.manager.pk,
        "weight": 2,
        "version": objective.version,
    }
    response = clients["manager"].post(edit, data, headers=HX)
    assert response.status_code == 200
    assert 'id="row-objective-' in response.content.decode()
    objective.refresh_from_db()
    assert (objective.title, objective.weight, objective.team_id) == ("Close six clients a month", 2, None)


@pytest.mark.django_db
def test_edit_with_dates_outside_the_period_shows_the_form_again(acme, clients, plan, tree):
    _, objective, _ = tree
    data = {
        "title": "Later",
        "start_date": "2027-01-01",
        "due_date": "2029-01-01",
        "owner": "",
        "team": "",
        "weight": 1,
        "version": objective.version,
    }
    response = clients["manager"].post(url("node_edit", acme, plan, "objective", objective), data, headers=HX)
    assert response.status_code == 400
    assert "inside the plan" in response.content.decode()
    objective.refresh_from_db()
    assert objective.title == "Close five clients a month"


@pytest.mark.django_db
def test_stale_edit_shows_a_conflict_and_keeps_the_other_change(acme, clients, plan, tree):
    milestone, _, _ = tree
    edit = url("node_edit", acme, plan, "milestone", milestone)
    seen = milestone.version
    base = {"description": "", "target_date": "", "owner": "", "weight": 1}
    assert (
        clients["manager"].post(edit, {**base, "title": "Manager's title", "version": seen}).status_code
        == 302
    )
    response = clients["admin"].post(edit, {**base, "title": "Admin's title", "version": seen}, headers=HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this milestone" in html
    assert "Manager&#x27;s title" in html and "Admin&#x27;s title" in html
    milestone.refresh_from_db()
    assert milestone.title == "Manager's title"
    # The form now carries the current version: saving again replaces it knowingly.
    assert f'value="{seen + 1}"' in html
    assert (
        clients["admin"].post(edit, {**base, "title": "Admin's title", "version": seen + 1}).status_code
        == 302
    )
    milestone.refresh_from_db()
    assert milestone.title == "Admin's title"


@pytest.mark.django_db
def test_deleting_a_node_with_children_asks_first(acme, clients, plan, tree):
    milestone, _, _ = tree
    delete = url("node_delete", acme, plan, "milestone", milestone)
    page = clients["manager"].post(delete)
    assert page.status_code == 200
    assert "2 items under it will be deleted too" in page.content.decode()
    assert Milestone.objects.filter(pk=milestone.pk).exists()
    editor = clients["manager"].get(url("plan_editor", acme, plan)).content.decode()
    assert "hx-confirm" in editor
    response = clients["manager"].post(delete, {"confirm": "yes"})
    assert response.status_code == 302
    assert not Milestone.objects.filter(pk=milestone.pk).exists()


@pytest.mark.django_db
def test_reorder_from_the_editor(acme, clients, plan, tree):
    second = clients["manager"].post(url("milestone_add", acme, plan), {"title": "Second"})
    assert second.status_code == 302
    new = plan.milestones.get(title="Second")
    clients["manager"].post(url("node_move", acme, plan, "milestone", new), {"direction": "up"}, headers=HX)
    assert list(plan.milestones.order_by("position").values_list("title", flat=True)) == [
        "Second",
        "Build a pipeline",
    ]


@pytest.mark.django_db
def test_members_cannot_change_the_tree_over_http(acme, clients, plan, tree):
    milestone, _, _ = tree
    assert clients["member"].post(url("milestone_add", acme, plan), {"title": "Mine"}).status_code == 403
    assert (
        clients["viewer"]
        .post(url("node_delete", acme, plan, "milestone", milestone), {"confirm": "yes"})
        .status_code
        == 403
    )
    assert (
        clients["member"]
        .post(url("node_move", acme, plan, "milestone", milestone), {"direction": "down"})
        .status_code
        == 403
    )
    assert plan.milestones.count() == 1


@pytest.mark.django_db
def test_plan_settings_conflict_and_save(acme, clients, plan):
    settings_url = url("plan_settings", acme, plan)
    data = {
        "title": "Growth 2027 (v2)",
        "ultimate_goal": "Bigger",
        "description": "",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        "owner": acme.manager.pk,
        "version": plan.version,
    }
    assert clients["manager"].post(settings_url, data).status_code == 302
    response = clients["admin"].post(settings_url, {**data, "title": "Admin's"})
    assert response.status_code == 409
    plan.refresh_from_db()
    assert plan.title == "Growth 2027 (v2)"
    bad = clients["manager"].post(settings_url, {**data, "period_end": "2026-01-01", "version": plan.version})
    assert bad.status_code == 400
    assert "end after it starts" in bad.content.decode()


@pytest.mark.django_db
def test_create_plan_three_ways(acme, clients, plan):
    create = reverse("planning:plan_create", args=[acme.org.slug])
    common = {"title": "New", "period_start": "2028-01-01", "period_end": "2028-12-31"}
    response = clients["manager"].post(create, {**common, "start_from": "blank", "ultimate_goal": "A vision"})
    assert response.status_code == 302
    response = clients["manager"].post(create, {**common, "title": "From template", "start_from": "template"})
    assert Plan.objects.get(title="From template").milestones.count() == 3
    response = clients["manager"].post(
        create, {**common, "title": "Copy", "start_from": "clone", "source": plan.pk}
    )
    assert Plan.objects.get(title="Copy").objectives.count() == 1
    missing = clients["manager"].post(create, {**common, "title": "No goal", "start_from": "blank"})
    assert missing.status_code == 400 and "ultimate goal" in missing.content.decode()
    assert not Plan.objects.filter(title="No goal").exists()
    assert (
        clients["member"].post(create, {**common, "start_from": "blank", "ultimate_goal": "x"}).status_code
        == 403
    )


@pytest.mark.django_db
def test_cloning_another_organizations_plan_is_refused(acme, other, clients):
    from tests.factories import make_plan

    foreign = make_plan(other.org)
    create = reverse("planning:plan_create", args=[acme.org.slug])
    response = clients["manager"].post(
        create,
        {
            "title": "Stolen",
            "period_start": "2028-01-01",
            "period_end": "2028-12-31",
            "start_from": "clone",
            "source": foreign.pk,
        },
    )
    assert response.status_code == 400
    assert not Plan.objects.filter(title="Stolen").exists()
