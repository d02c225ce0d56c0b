"""The planning pages: who may open what, what they show, and that they stay flat in queries."""

import pytest
from django.urls import reverse

from planning.models import Plan
from tests.factories import make_plan
from tests.names import qualified

READ_ALL = {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200}
EDITORS = {"owner": 200, "admin": 200, "manager": 200, "member": 403, "viewer": 403}


def pages(acme, plan, tree):
    milestone, objective, step = tree
    slug, pk = acme.org.slug, plan.pk
    return {
        reverse("planning:org_home", args=[slug]): READ_ALL,
        reverse("planning:plan_list", args=[slug]): READ_ALL,
        reverse("planning:plan_create", args=[slug]): EDITORS,
        reverse("planning:plan_map", args=[slug, pk]): READ_ALL,
        reverse("planning:plan_visual", args=[slug, pk]): READ_ALL,
        reverse("planning:plan_editor", args=[slug, pk]): EDITORS,
        reverse("planning:plan_settings", args=[slug, pk]): READ_ALL,
        reverse("planning:plan_clone", args=[slug, pk]): EDITORS,
        reverse("planning:plan_activity", args=[slug, pk]): READ_ALL,
        reverse("planning:suggestions", args=[slug, pk]): READ_ALL,
        reverse("planning:my_work", args=[slug]): READ_ALL,
        reverse("planning:node_detail", args=[slug, pk, "milestone", milestone.pk]): READ_ALL,
        reverse("planning:node_detail", args=[slug, pk, "objective", objective.pk]): READ_ALL,
        reverse("planning:node_detail", args=[slug, pk, "step", step.pk]): READ_ALL,
        reverse("planning:node_detail", args=[slug, pk, "plan", pk]): READ_ALL,
        reverse("planning:progress_breakdown", args=[slug, pk, "objective", objective.pk]): READ_ALL,
        reverse("planning:node_edit", args=[slug, pk, "objective", objective.pk]): EDITORS,
        # The step's assignee (the member) may open its edit form, for status and notes.
        reverse("planning:node_edit", args=[slug, pk, "step", step.pk]): {**EDITORS, "member": 200},
    }


@pytest.mark.django_db
def test_permission_matrix_of_the_planning_pages(acme, clients, plan, tree):
    for url, expected in pages(acme, plan, tree).items():
        anonymous = clients["anonymous"].get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url, url
        assert clients["outsider"].get(url).status_code == 404, url
        for role, status in expected.items():
            assert clients[role].get(url).status_code == status, (url, role)


@pytest.mark.django_db
def test_another_organizations_plan_and_nodes_answer_404(acme, other, clients):
    foreign = make_plan(other.org, other.manager, milestones=1, objectives=1, steps=1)
    m = foreign.milestones.get()
    o = m.objectives.get()
    s = o.steps.get()
    slug = acme.org.slug
    owner = clients["owner"]
    for url in [
        reverse("planning:plan_map", args=[slug, foreign.pk]),
        reverse("planning:plan_visual", args=[slug, foreign.pk]),
        reverse("planning:plan_editor", args=[slug, foreign.pk]),
        reverse("planning:plan_settings", args=[slug, foreign.pk]),
        reverse("planning:node_detail", args=[slug, foreign.pk, "milestone", m.pk]),
        reverse("planning:node_edit", args=[slug, foreign.pk, "step", s.pk]),
        reverse("planning:objective_steps", args=[slug, foreign.pk, o.pk]),
    ]:
        assert owner.get(url).status_code == 404, url
    for url, data in [
        (reverse("planning:node_delete", args=[slug, foreign.pk, "milestone", m.pk]), {"confirm": "yes"}),
        (reverse("planning:node_add", args=[slug, foreign.pk, "milestone", m.pk]), {"title": "Sneaky"}),
        (reverse("planning:step_status", args=[slug, s.pk]), {"status": "done"}),
        (reverse("planning:plan_delete", args=[slug, foreign.pk]), {}),
    ]:
        assert owner.post(url, data).status_code == 404, url
    assert foreign.milestones.count() == 1
    s.refresh_from_db()
    assert s.status == "todo"


@pytest.mark.django_db
def test_nodes_of_another_plan_in_the_same_org_answer_404_under_this_plan(acme, clients, plan):
    sibling = make_plan(acme.org, acme.manager, milestones=1)
    m = sibling.milestones.get()
    url = reverse("planning:node_detail", args=[acme.org.slug, plan.pk, "milestone", m.pk])
    assert clients["owner"].get(url).status_code == 404
    url = reverse("planning:node_detail", args=[acme.org.slug, plan.pk, "nonsense", m.pk])
    assert clients["owner"].get(url).status_code == 404


@pytest.mark.django_db
def test_strategy_map_shows_the_tree_with_progress_and_people(acme, clients, plan, tree):
    html = clients["viewer"].get(reverse("planning:plan_map", args=[acme.org.slug, plan.pk])).content.decode()
    assert "Be the agency software companies trust first." in html
    for text in [
        "Build a pipeline",
        "Close five clients a month",
        "Reach out to leads",
        "Sales",
        acme.member.user.display_name,
    ]:
        assert text in html
    assert "Why 0%?" in html
    assert "Edit map" not in html  # viewers cannot edit


@pytest.mark.django_db
def test_hostile_text_is_shown_as_text(acme, clients, plan, tree):
    """Every text the map draws by tag (objective and step rows) or template comes out escaped."""
    _, objective, step = tree
    hostile = '<script>alert("x")</script>'
    objective.title = hostile
    objective.save()
    objective.team.name = "<i>Team</i>"
    objective.team.save()
    step.title = "<b>Step</b>"
    step.assignee = acme.member
    step.save()
    acme.member.user.display_name = "<img src=x onerror=alert(1)>"
    acme.member.user.save()
    html = clients["owner"].get(reverse("planning:plan_map", args=[acme.org.slug, plan.pk])).content.decode()
    assert hostile not in html and "<b>Step</b>" not in html and "<i>Team</i>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Step&lt;/b&gt;" in html and "&lt;i&gt;Team&lt;/i&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.django_db
@pytest.mark.parametrize("viewname", ["plan_map", "plan_editor"])
def test_map_and_editor_queries_do_not_grow_with_the_plan(
    acme, clients, viewname, django_assert_max_num_queries
):
    small = make_plan(acme.org, acme.member, milestones=2, objectives=2, steps=2)  # 14 nodes
    large = make_plan(acme.org, acme.member, milestones=10, objectives=10, steps=9)  # 1,110 nodes
    client = clients["owner"]
    with django_assert_max_num_queries(20) as captured:
        assert client.get(reverse(qualified(viewname), args=[acme.org.slug, small.pk])).status_code == 200
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(reverse(qualified(viewname), args=[acme.org.slug, large.pk]))
    assert response.status_code == 200
    assert "Objective 9.9" in response.content.decode()


@pytest.mark.django_db
def test_big_plans_load_steps_on_demand(acme, clients, django_assert_max_num_queries):
    large = make_plan(acme.org, acme.member, milestones=5, objectives=10, steps=10)  # 500 steps
    html = clients["owner"].get(reverse("planning:plan_map", args=[acme.org.slug, large.pk])).content.decode()
    assert "Loading steps" in html and 'hx-trigger="toggle once"' in html
    # Counted, not loaded: each of the 50 objectives still says how many steps it opens to.
    assert html.count(">10 steps<span") == 50 and '<li class="tree__step' not in html
    objective = large.objectives.first()
    url = reverse("planning:objective_steps", args=[acme.org.slug, large.pk, objective.pk])
    with django_assert_max_num_queries(12):
        fragment = clients["owner"].get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.count("tree__step") == 10
    assert "<html" not in fragment


@pytest.mark.django_db
def test_plan_list_filters_and_stays_flat(acme, clients, django_assert_max_num_queries):
    from datetime import date

    make_plan(acme.org, title="Past plan", start=date(2020, 1, 1), end=date(2020, 12, 31))
    make_plan(
        acme.org, title="Future plan", start=date(2099, 1, 1), end=date(2099, 12, 31), status="approved"
    )
    url = reverse("planning:plan_list", args=[acme.org.slug])
    html = clients["member"].get(url, {"period": "past"}).content.decode()
    assert "Past plan" in html and "Future plan" not in html
    html = clients["member"].get(url, {"status": "approved"}).content.decode()
    assert "Future plan" in html and "Past plan" not in html
    html = clients["member"].get(url, {"status": "closed"}).content.decode()
    assert "No plan matches these filters" in html
    with django_assert_max_num_queries(12) as captured:
        clients["member"].get(url)
    for i in range(30):
        make_plan(acme.org, acme.manager, title=f"Plan {i}", milestones=1, objectives=1)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        clients["member"].get(url)
    assert Plan.objects.filter(organization=acme.org).count() == 32
