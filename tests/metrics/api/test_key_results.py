"""Key results over the API: adding, filtering, changing and deleting; locked while their plan is in review.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

import pytest

from metrics import services
from metrics.models import KeyResult
from planning import services as planning_services
from planning.models import Objective, Plan
from tests.metrics.api.common import url
from tests.planning.factories import PlanFactory, build_tree

pytestmark = pytest.mark.django_db


def test_add_a_key_result(acme, tree, manager):
    _, objective, _ = tree

    response = manager.post(
        url("api_key_result_list"),
        {
            "objective": objective.pk,
            "title": " Clients signed ",
            "target": 5,
            "weight": 3,
            "owner": acme.member.pk,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"v1"'
    assert response["Location"] == url("api_key_result_detail", body["id"])
    assert (body["title"], body["kind"], body["start"], body["target"], body["current"]) == (
        "Clients signed",
        "number",
        "0.0000",
        "5.0000",
        "0.0000",
    )
    assert (body["plan"], body["objective"], body["weight"], body["position"]) == (
        objective.plan_id,
        objective.pk,
        3,
        0,
    )
    assert body["owner"] == {"id": acme.member.pk, "name": acme.member.user.display_name}
    assert (body["progress"], body["progress_detail"]) == (0, "0 of 5 (from 0)")

    yes_no = manager.post(
        url("api_key_result_list"), {"objective": objective.pk, "title": "Launched", "kind": "yes_no"}
    )
    assert yes_no.status_code == 201
    assert (yes_no.json()["target"], yes_no.json()["position"]) == ("1.0000", 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"target": None}, "target"),  # a number needs a target
        ({"start": 5}, "target"),  # the target must differ from the start
        ({"start": 10}, "direction"),  # going down, but "increase"
        ({"kind": "percent", "target": 120}, "target"),
        ({"kind": "stars"}, "kind"),
        ({"direction": "within"}, "direction"),
        ({"weight": 101}, "weight"),
        ({"weight": "heavy"}, "weight"),
        ({"target": "lots"}, "target"),
        ({"target": "1e30"}, "target"),
        ({"current": "Infinity"}, "current"),
        ({"objective": None}, "objective"),
        ({"version": 1}, "version"),
        ({"progress": 50}, "progress"),
    ],
)
def test_bad_key_result_input_is_400_and_saves_nothing(tree, manager, change, field):
    _, objective, _ = tree
    data = {"objective": objective.pk, "title": "Clients signed", "target": 5, **change}
    data = {k: v for k, v in data.items() if v is not None}

    response = manager.post(url("api_key_result_list"), data)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field], response.json()
    assert not KeyResult.objects.exists()


def test_key_results_filter(acme, plan, tree, key_result, manager):
    milestone, _, _ = tree
    second = planning_services.objective_create(
        actor=acme.manager, milestone=milestone, title="Hire", owner=acme.admin
    )
    hire = services.key_result_create(actor=acme.manager, objective=second, title="Hires", target=2)
    mine = services.key_result_create(
        actor=acme.manager, objective=second, title="Mine", target=2, owner=acme.member
    )
    elsewhere = PlanFactory(organization=acme.org, owner=acme.manager)
    build_tree(elsewhere, milestones=1, objectives=1, steps=0)
    other_objective = Objective.objects.get(plan=elsewhere)
    far = services.key_result_create(actor=acme.manager, objective=other_objective, title="Far", target=1)

    def ids(**query):
        response = manager.get(url("api_key_result_list"), query)
        assert response.status_code == 200, response.json()
        return [kr["id"] for kr in response.json()["results"]]

    assert ids(plan=plan.pk) == [key_result.pk, hire.pk, mine.pk]
    assert ids(objective=second.pk) == [hire.pk, mine.pk]
    assert ids(owner=acme.admin.pk) == [hire.pk]  # no owner of its own: the objective's answers
    assert ids(owner=acme.member.pk) == [mine.pk]
    assert ids(owner=acme.manager.pk) == [key_result.pk]
    assert ids(plan=elsewhere.pk) == [far.pk]
    assert len(ids()) == 4
    for bad in ({"plan": "x", "owner": 0}, {"plan": "", "owner": ""}):  # empty is not "no filter"
        response = manager.get(url("api_key_result_list"), bad)
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"plan", "owner"}


def test_change_and_delete_a_key_result(acme, key_result, manager):
    target = url("api_key_result_detail", key_result.pk)

    response = manager.patch(target, {"target": 10, "title": "Clients", "owner": acme.member.pk})
    assert response.status_code == 200, response.json()
    assert (response.json()["target"], response.json()["title"], response.json()["owner"]["id"]) == (
        "10.0000",
        "Clients",
        acme.member.pk,
    )
    assert response["ETag"] == '"v2"'

    response = manager.patch(target, {"start": 20})  # now going down to 10 while "increase"
    assert response.status_code == 400
    assert "direction" in response.json()["fields"]
    assert KeyResult.objects.get(pk=key_result.pk).version == 2

    assert manager.delete(target).status_code == 204
    assert not KeyResult.objects.exists()


def test_key_results_of_a_plan_in_review_are_locked(acme, plan, tree, key_result, manager):
    _, objective, _ = tree
    Plan.objects.filter(pk=plan.pk).update(status="in_review")
    target = url("api_key_result_detail", key_result.pk)

    responses = [
        manager.post(url("api_key_result_list"), {"objective": objective.pk, "title": "Late", "target": 1}),
        manager.patch(target, {"title": "Sneaky"}),
        manager.delete(target),
    ]

    assert [r.status_code for r in responses] == [409] * 3
    assert all(r.json()["code"] == "conflict" for r in responses)
    assert list(KeyResult.objects.values_list("pk", "title", "version")) == [
        (key_result.pk, "Clients signed", 1)
    ]
