"""Check-ins over the API: on key results, objectives and steps; refusals, closed plans and filters.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics import services
from metrics.models import CheckIn, KeyResult
from planning.models import ActionStep, Objective, Plan
from tests.metrics.api.common import url
from tests.planning.factories import PlanFactory, api_client, build_tree

pytestmark = pytest.mark.django_db


def test_check_in_on_a_key_result_sets_its_value(acme, key_result, manager):
    response = manager.post(
        url("api_check_in_list"),
        {
            "target": "key_result",
            "key_result": key_result.pk,
            "value": "3",
            "confidence": "at_risk",
            "note": " Two in the pipe ",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["target"], body["key_result"], body["objective"], body["step"]) == (
        "key_result",
        key_result.pk,
        None,
        None,
    )
    assert (body["value"], body["previous_value"], body["confidence"], body["note"]) == (
        "3.0000",
        "0.0000",
        "at_risk",
        "Two in the pipe",
    )
    assert (body["title"], body["plan"], body["step_status"]) == ("Clients signed", key_result.plan_id, None)
    assert body["author"] == {"id": acme.manager.user.pk, "name": acme.manager.user.display_name}
    kr = manager.get(url("api_key_result_detail", key_result.pk)).json()
    assert (kr["current"], kr["progress"], kr["version"]) == ("3.0000", 60, 2)


def test_check_in_on_an_objective_and_on_a_step(acme, tree, manager):
    _, objective, step = tree

    response = manager.post(
        url("api_check_in_list"),
        {"target": "objective", "objective": objective.pk, "confidence": "off_track"},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["title"], response.json()["value"]) == (objective.title, None)

    response = api_client(acme.member).post(
        url("api_check_in_list"),
        {"target": "step", "step": step.pk, "status": "blocked", "confidence": "at_risk", "note": "Waiting"},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["step_status"], response.json()["step"]) == ("blocked", step.pk)
    assert ActionStep.objects.get(pk=step.pk).status == "blocked"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target": "key_result", "key_result": "kr", "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": None, "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": "abc", "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": "1e30", "confidence": "on_track"}, "value"),
        (
            {
                "target": "key_result",
                "key_result": "kr",
                "value": 3,
                "status": "done",
                "confidence": "on_track",
            },
            "status",
        ),
        ({"target": "key_result", "value": 3, "confidence": "on_track"}, "key_result"),
        (
            {
                "target": "key_result",
                "key_result": "kr",
                "objective": "o",
                "value": 3,
                "confidence": "on_track",
            },
            "objective",
        ),
        ({"target": "key_result", "key_result": "kr", "value": 3}, "confidence"),
        ({"target": "key_result", "key_result": "kr", "value": 3, "confidence": "meh"}, "confidence"),
        ({"target": "objective", "objective": "o", "value": 3, "confidence": "on_track"}, "value"),
        ({"target": "objective", "objective": "o", "confidence": "on_track", "note": "x" * 5001}, "note"),
        ({"target": "step", "step": "s", "confidence": "on_track"}, "status"),
        ({"target": "step", "step": "s", "status": "finished", "confidence": "on_track"}, "status"),
        ({"target": "step", "key_result": "kr", "status": "done", "confidence": "on_track"}, "step"),
        ({"target": "planet", "confidence": "on_track"}, "target"),
        ({"key_result": "kr", "value": 3, "confidence": "on_track"}, "target"),
        ({"target": "objective", "objective": "o", "confidence": "on_track", "author": 1}, "author"),
    ],
)
def test_bad_check_ins_are_400_and_change_nothing(acme, tree, key_result, manager, payload, field):
    _, objective, step = tree
    ids = {"kr": key_result.pk, "o": objective.pk, "s": step.pk}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}

    response = manager.post(url("api_check_in_list"), data)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field], response.json()
    assert not CheckIn.objects.exists()
    assert KeyResult.objects.get(pk=key_result.pk).current == 0
    assert ActionStep.objects.get(pk=step.pk).status == "todo"


def test_no_check_ins_on_a_closed_plan(acme, plan, tree, key_result, manager):
    _, objective, step = tree
    Plan.objects.filter(pk=plan.pk).update(status="closed")

    responses = [
        manager.post(
            url("api_check_in_list"),
            {"target": "key_result", "key_result": key_result.pk, "value": 1, "confidence": "on_track"},
        ),
        manager.post(
            url("api_check_in_list"),
            {"target": "objective", "objective": objective.pk, "confidence": "on_track"},
        ),
        manager.post(
            url("api_check_in_list"),
            {"target": "step", "step": step.pk, "status": "done", "confidence": "on_track"},
        ),
    ]

    assert [r.status_code for r in responses] == [409] * 3
    assert not CheckIn.objects.exists()
    assert ActionStep.objects.get(pk=step.pk).status == "todo"


def test_check_ins_filter(acme, plan, tree, key_result, manager):
    _, objective, step = tree
    on_kr = services.check_in_key_result(
        actor=acme.manager, key_result=key_result, value=1, confidence="on_track"
    )
    on_objective = services.check_in_objective(actor=acme.owner, objective=objective, confidence="at_risk")
    on_step = services.check_in_step(actor=acme.member, step=step, status="doing", confidence="on_track")
    CheckIn.objects.filter(pk=on_kr.pk).update(created_at=timezone.now() - timedelta(days=10))
    other_plan = PlanFactory(organization=acme.org, owner=acme.manager)
    build_tree(other_plan, milestones=1, objectives=1, steps=0)
    elsewhere = services.check_in_objective(
        actor=acme.owner, objective=Objective.objects.get(plan=other_plan), confidence="on_track"
    )

    def ids(**query):
        response = manager.get(url("api_check_in_list"), query)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids() == [elsewhere.pk, on_step.pk, on_objective.pk, on_kr.pk]  # newest first
    assert ids(plan=plan.pk) == [on_step.pk, on_objective.pk, on_kr.pk]
    assert ids(objective=objective.pk) == [on_objective.pk, on_kr.pk]  # its key results' too
    assert ids(key_result=key_result.pk) == [on_kr.pk]
    assert ids(step=step.pk) == [on_step.pk]
    assert ids(author=acme.owner.user.pk) == [elsewhere.pk, on_objective.pk]
    assert ids(since=(timezone.localdate() - timedelta(days=2)).isoformat(), plan=plan.pk) == [
        on_step.pk,
        on_objective.pk,
    ]
    # A parameter sent empty is a value like any other, not "no filter".
    response = manager.get(url("api_check_in_list"), {"since": "", "author": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"since", "author"}
    response = manager.get(url("api_check_in_list"), {"since": "last week", "step": "one"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"since", "step"}
    # An id past 64 bits is a field error on every database (SQLite's driver would overflow).
    response = manager.get(url("api_check_in_list"), {"key_result": 2**63, "objective": 2**64})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"key_result", "objective"}
    assert ids(key_result=2**63 - 1) == []
