"""The planning API's behaviour: input and output, moves, status, ETag/If-Match, the tree, query counts
and the OpenAPI schema. Who may call what is in ``test_api_permissions.py``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from planning import services
from planning.models import ActionStep, Milestone, Objective, Plan, StepCompletion
from tests.factories import MembershipFactory, TeamFactory
from tests.names import qualified

from .factories import (
    MilestoneFactory,
    ObjectiveFactory,
    PlanFactory,
    StepFactory,
    api_client,
    build_tree,
    period,
)

pytestmark = pytest.mark.django_db


@dataclass
class Draft:
    slug: str
    plan: Plan
    m1: Milestone
    m2: Milestone
    o1: Objective
    o2: Objective
    s1: ActionStep  # assigned to Acme's member
    s2: ActionStep


@pytest.fixture
def draft(acme) -> Draft:
    """A draft plan of Acme: m1 (o1: s1, s2; o2) and m2."""
    plan = PlanFactory(organization=acme.org, owner=acme.manager, title="Growth")
    m1 = MilestoneFactory(plan=plan, position=0, title="Pipeline")
    m2 = MilestoneFactory(plan=plan, position=1, title="Delivery")
    o1 = ObjectiveFactory(milestone=m1, position=0, title="Close clients")
    o2 = ObjectiveFactory(milestone=m1, position=1, title="Hire sales")
    s1 = StepFactory(objective=o1, position=0, title="Call leads", assignee=acme.member)
    s2 = StepFactory(objective=o1, position=1, title="Send proposals")
    return Draft(acme.org.slug, plan, m1, m2, o1, o2, s1, s2)


@pytest.fixture
def manager(acme):
    return api_client(acme.manager)


def url(name: str, slug: str, pk: int | None = None) -> str:
    return reverse(qualified(name), args=[slug] if pk is None else [slug, pk])


def counts() -> tuple[int, int, int, int]:
    return (
        Plan.objects.count(),
        Milestone.objects.count(),
        Objective.objects.count(),
        ActionStep.objects.count(),
    )


# --- Plans ------------------------------------------------------------------------------------------


def test_create_a_plan(acme, manager):
    start, end = period()
    response = manager.post(
        url("api_plan_list", "acme"),
        {"title": " Growth 2027 ", "ultimate_goal": "Grow", "period_start": start, "period_end": end},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    plan = Plan.objects.get(pk=body["id"])
    assert response["ETag"] == '"v1"'
    assert response["Location"] == url("api_plan_detail", "acme", plan.pk)
    assert body["title"] == "Growth 2027"
    assert body["status"] == "draft"
    assert body["owner"] == {"id": acme.manager.pk, "name": acme.manager.user.display_name}
    assert plan.organization == acme.org


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"ultimate_goal": ""}, "ultimate_goal"),
        ({"period_end": "start"}, "period_end"),  # ends when it starts
        ({"period_start": None}, "period_start"),
        ({"period_start": "not a date"}, "period_start"),
        ({"status": "approved"}, "status"),  # not settable here
    ],
)
def test_bad_plan_input_is_400_with_field_messages_and_saves_nothing(manager, acme, change, field):
    start, end = period()
    data = {"title": "Growth", "ultimate_goal": "Grow", "period_start": start, "period_end": end, **change}
    if data.get("period_end") == "start":
        data["period_end"] = start
    data = {k: v for k, v in data.items() if v is not None}
    before = counts()

    response = manager.post(url("api_plan_list", "acme"), data)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"][field], body
    assert counts() == before


def test_list_plans_with_counts_and_filters(acme, draft, manager):
    today = timezone.localdate()
    PlanFactory(
        organization=acme.org,
        title="Next",
        period_start=today + timedelta(days=10),
        period_end=today + timedelta(days=100),
        status="approved",
    )
    PlanFactory(
        organization=acme.org,
        title="Last",
        period_start=today - timedelta(days=400),
        period_end=today - timedelta(days=40),
        status="closed",
    )

    def titles(**query):
        response = manager.get(url("api_plan_list", "acme"), query)
        assert response.status_code == 200
        return [p["title"] for p in response.json()["results"]]

    assert titles() == ["Next", "Growth", "Last"]  # newest period first
    assert titles(period="current") == ["Growth"]
    assert titles(period="upcoming") == ["Next"]
    assert titles(period="past") == ["Last"]
    assert titles(status="closed") == ["Last"]
    assert titles(status="draft", period="past") == []
    growth = manager.get(url("api_plan_list", "acme"), {"period": "current"}).json()["results"][0]
    assert (growth["milestone_count"], growth["objective_count"], growth["step_count"]) == (2, 2, 2)
    assert growth["owner"]["id"] == acme.manager.pk

    for bad in ({"status": "bogus", "period": "someday"}, {"status": "", "period": ""}):
        response = manager.get(url("api_plan_list", "acme"), bad)
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"status", "period"}


def test_list_is_paginated(acme, manager):
    for _ in range(3):
        PlanFactory(organization=acme.org)
    body = manager.get(url("api_plan_list", "acme"), {"limit": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]


def test_update_a_plan(draft, manager):
    response = manager.patch(url("api_plan_detail", "acme", draft.plan.pk), {"title": "Growth 2"})

    assert response.status_code == 200
    assert response.json()["title"] == "Growth 2"
    assert response.json()["version"] == 2
    assert response["ETag"] == '"v2"'


def test_a_plan_period_that_would_strand_dates_is_refused(draft, manager):
    Milestone.objects.filter(pk=draft.m1.pk).update(target_date=draft.plan.period_end)
    response = manager.patch(
        url("api_plan_detail", "acme", draft.plan.pk),
        {"period_end": draft.plan.period_end - timedelta(days=30)},
    )
    assert response.status_code == 400
    assert "period_end" in response.json()["fields"]
    draft.plan.refresh_from_db()
    assert draft.plan.version == 1


def test_delete_a_draft_plan_but_not_an_approved_one(acme, draft, manager):
    approved = PlanFactory(organization=acme.org, status="approved")

    response = manager.delete(url("api_plan_detail", "acme", approved.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Plan.objects.filter(pk=approved.pk).exists()

    assert manager.delete(url("api_plan_detail", "acme", draft.plan.pk)).status_code == 204
    assert not Plan.objects.filter(pk=draft.plan.pk).exists()
    assert not ActionStep.objects.filter(pk=draft.s1.pk).exists()


def test_a_plan_in_review_is_locked(draft, manager):
    Plan.objects.filter(pk=draft.plan.pk).update(status="in_review")
    before = counts()

    responses = [
        manager.patch(url("api_plan_detail", "acme", draft.plan.pk), {"title": "Sneaky"}),
        manager.post(url("api_milestone_list", "acme"), {"plan": draft.plan.pk, "title": "Late idea"}),
        manager.patch(url("api_objective_detail", "acme", draft.o1.pk), {"title": "Sneaky"}),
        manager.post(url("api_step_move", "acme", draft.s1.pk), {"direction": "down"}, HTTP_IF_MATCH='"v1"'),
        manager.delete(url("api_milestone_detail", "acme", draft.m2.pk), HTTP_IF_MATCH='"v1"'),
    ]

    assert [r.status_code for r in responses] == [409] * 5
    assert counts() == before
    # A step's status keeps moving while the plan is in review or running.
    response = manager.post(url("api_step_status", "acme", draft.s1.pk), {"status": "doing"})
    assert response.status_code == 200


# --- Nodes ------------------------------------------------------------------------------------------


def test_create_a_milestone_an_objective_and_a_step(acme, draft, manager):
    team = TeamFactory(organization=acme.org, name="Sales")
    due = draft.plan.period_start + timedelta(days=30)

    milestone = manager.post(
        url("api_milestone_list", "acme"),
        {
            "plan": draft.plan.pk,
            "title": "Retention",
            "target_date": due,
            "owner": acme.admin.pk,
            "weight": 3,
        },
    )
    assert milestone.status_code == 201, milestone.json()
    assert milestone.json()["position"] == 2
    assert milestone.json()["owner"] == {"id": acme.admin.pk, "name": acme.admin.user.display_name}
    assert milestone["Location"] == url("api_milestone_detail", "acme", milestone.json()["id"])

    objective = manager.post(
        url("api_objective_list", "acme"),
        {
            "milestone": milestone.json()["id"],
            "title": "Renewals",
            "team": team.pk,
            "due_date": due,
            "why": "Cash",
        },
    )
    assert objective.status_code == 201, objective.json()
    assert objective.json()["team"] == {"id": team.pk, "name": "Sales"}
    assert objective.json()["plan"] == draft.plan.pk

    step = manager.post(
        url("api_step_list", "acme"),
        {
            "objective": objective.json()["id"],
            "title": "Call",
            "assignee": acme.member.pk,
            "recurrence": "weekly",
        },
    )
    assert step.status_code == 201, step.json()
    assert step.json()["assignee"]["id"] == acme.member.pk
    assert step.json()["recurrence"] == "weekly"
    assert step["ETag"] == '"v1"'


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("api_milestone_list", lambda d, x: {"plan": d.plan.pk, "title": ""}, "title"),
        ("api_milestone_list", lambda d, x: {"plan": d.plan.pk}, "title"),
        (
            "api_milestone_list",
            lambda d, x: {"plan": d.plan.pk, "title": "M", "target_date": x["after"]},
            "target_date",
        ),
        ("api_milestone_list", lambda d, x: {"plan": d.plan.pk, "title": "M", "weight": 101}, "weight"),
        ("api_milestone_list", lambda d, x: {"title": "M"}, "plan"),
        ("api_objective_list", lambda d, x: {"milestone": d.m1.pk, "title": " "}, "title"),
        (
            "api_objective_list",
            lambda d, x: {"milestone": d.m1.pk, "title": "O", "due_date": x["after"]},
            "due_date",
        ),
        (
            "api_objective_list",
            lambda d, x: {"milestone": d.m1.pk, "title": "O", "start_date": x["before"]},
            "start_date",
        ),
        (
            "api_objective_list",
            lambda d, x: {
                "milestone": d.m1.pk,
                "title": "O",
                "start_date": x["late"],
                "due_date": x["early"],
            },
            "due_date",
        ),
        ("api_step_list", lambda d, x: {"objective": d.o1.pk, "title": ""}, "title"),
        (
            "api_step_list",
            lambda d, x: {"objective": d.o1.pk, "title": "S", "due_date": x["before"]},
            "due_date",
        ),
        (
            "api_step_list",
            lambda d, x: {"objective": d.o1.pk, "title": "S", "assignee": x["outsider"]},
            "assignee",
        ),
        ("api_step_list", lambda d, x: {"objective": d.o1.pk, "title": "S", "status": "finished"}, "status"),
        ("api_step_list", lambda d, x: {"objective": d.o1.pk, "title": "S", "position": 0}, "position"),
    ],
)
def test_bad_node_input_is_400_with_field_messages_and_saves_nothing(
    other, draft, manager, name, payload, field
):
    plan = draft.plan
    dates = {
        "before": plan.period_start - timedelta(days=1),
        "after": plan.period_end + timedelta(days=1),
        "early": plan.period_start + timedelta(days=1),
        "late": plan.period_start + timedelta(days=9),
        "outsider": other.member.pk,
    }
    before = counts()

    response = manager.post(url(name, "acme"), payload(draft, dates))

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field], response.json()
    assert counts() == before


def test_update_a_node_with_people_and_teams(acme, draft, manager):
    team = TeamFactory(organization=acme.org, name="Sales")
    response = manager.patch(
        url("api_objective_detail", "acme", draft.o1.pk),
        {"team": team.pk, "owner": acme.admin.pk, "weight": 5},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["team"] == {"id": team.pk, "name": "Sales"}
    assert response.json()["owner"]["id"] == acme.admin.pk
    assert response["ETag"] == '"v2"'

    response = manager.patch(url("api_objective_detail", "acme", draft.o1.pk), {"team": None, "owner": None})
    assert response.json()["team"] is None
    assert response.json()["owner"] is None


def test_a_bad_edit_saves_nothing(other, draft, manager):
    response = manager.patch(
        url("api_step_detail", "acme", draft.s1.pk),
        {"title": "Fine", "due_date": draft.plan.period_end + timedelta(days=1)},
    )
    assert response.status_code == 400
    assert "due_date" in response.json()["fields"]
    draft.s1.refresh_from_db()
    assert (draft.s1.title, draft.s1.version) == ("Call leads", 1)

    response = manager.patch(url("api_step_detail", "acme", draft.s1.pk), {"objective": draft.o2.pk})
    assert response.status_code == 400  # moving is its own endpoint
    assert "objective" in response.json()["fields"]


def test_delete_a_milestone_takes_its_subtree_and_closes_the_gap(draft, manager):
    response = manager.delete(url("api_milestone_detail", "acme", draft.m1.pk), HTTP_IF_MATCH='"v1"')

    assert response.status_code == 204
    assert not Objective.objects.filter(pk__in=[draft.o1.pk, draft.o2.pk]).exists()
    assert not ActionStep.objects.filter(pk__in=[draft.s1.pk, draft.s2.pk]).exists()
    draft.m2.refresh_from_db()
    assert draft.m2.position == 0


def test_node_lists_filter(acme, draft, manager):
    due = draft.plan.period_start + timedelta(days=20)
    ActionStep.objects.filter(pk=draft.s2.pk).update(due_date=due, status="blocked")
    ObjectiveFactory(milestone=MilestoneFactory(plan=PlanFactory(organization=acme.org)))

    def ids(name, **query):
        response = manager.get(url(name, "acme"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("api_milestone_list", plan=draft.plan.pk) == [draft.m1.pk, draft.m2.pk]
    assert ids("api_objective_list", plan=draft.plan.pk) == [draft.o1.pk, draft.o2.pk]
    assert ids("api_objective_list", milestone=draft.m2.pk) == []
    assert ids("api_step_list", objective=draft.o1.pk) == [draft.s1.pk, draft.s2.pk]
    assert ids("api_step_list", assignee=acme.member.pk) == [draft.s1.pk]
    assert ids("api_step_list", status="blocked") == [draft.s2.pk]
    assert ids("api_step_list", due_before=due, due_after=due) == [draft.s2.pk]
    assert ids("api_step_list", due_before=due - timedelta(days=1)) == []
    assert len(ids("api_objective_list")) == 3
    # A filter sent empty is a value like any other (not "any"): refused, like a wrong one.
    response = manager.get(url("api_step_list", "acme"), {"status": "", "plan": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "plan"}

    team = TeamFactory(organization=acme.org)
    Objective.objects.filter(pk=draft.o2.pk).update(team=team, owner=acme.admin)
    assert ids("api_objective_list", team=team.pk) == [draft.o2.pk]
    assert ids("api_objective_list", owner=acme.admin.pk) == [draft.o2.pk]

    response = manager.get(
        url("api_step_list", "acme"), {"status": "nope", "due_before": "soon", "plan": "x"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "due_before", "plan"}


# --- Moves ------------------------------------------------------------------------------------------


def test_reorder_milestones(draft, manager):
    response = manager.post(
        url("api_milestone_move", "acme", draft.m1.pk), {"direction": "down"}, HTTP_IF_MATCH='"v1"'
    )
    assert response.status_code == 200
    assert response.json()["position"] == 1
    assert response["ETag"]

    etag = response["ETag"]
    ids = [
        m["id"]
        for m in manager.get(url("api_milestone_list", "acme"), {"plan": draft.plan.pk}).json()["results"]
    ]
    assert ids == [draft.m2.pk, draft.m1.pk]

    response = manager.post(
        url("api_milestone_move", "acme", draft.m1.pk), {"position": 0}, HTTP_IF_MATCH=etag
    )
    assert response.json()["position"] == 0


def test_move_an_objective_under_another_milestone_of_the_plan(draft, manager):
    response = manager.post(
        url("api_objective_move", "acme", draft.o1.pk), {"milestone": draft.m2.pk}, HTTP_IF_MATCH='"v1"'
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["milestone"], response.json()["position"]) == (draft.m2.pk, 0)
    draft.o2.refresh_from_db()
    assert draft.o2.position == 0  # its old siblings close the gap
    assert ActionStep.objects.get(pk=draft.s1.pk).objective_id == draft.o1.pk  # steps come along


def test_move_an_objective_into_another_plans_milestone_is_refused(acme, draft, manager):
    elsewhere = MilestoneFactory(plan=PlanFactory(organization=acme.org))

    response = manager.post(
        url("api_objective_move", "acme", draft.o1.pk),
        {"milestone": elsewhere.pk, "position": 0},
        HTTP_IF_MATCH='"v1"',
    )

    assert response.status_code == 400
    assert response.json()["fields"]["milestone"]  # the service's message, under the field the client sent
    draft.o1.refresh_from_db()
    assert (draft.o1.milestone_id, draft.o1.position, draft.o1.version) == (draft.m1.pk, 0, 1)


def test_move_a_step(acme, draft, manager):
    response = manager.post(
        url("api_step_move", "acme", draft.s2.pk), {"objective": draft.o2.pk}, HTTP_IF_MATCH='"v1"'
    )
    assert response.status_code == 200
    assert response.json()["objective"] == draft.o2.pk

    elsewhere = ObjectiveFactory(milestone=MilestoneFactory(plan=PlanFactory(organization=acme.org)))
    response = manager.post(
        url("api_step_move", "acme", draft.s1.pk), {"objective": elsewhere.pk}, HTTP_IF_MATCH='"v1"'
    )
    assert response.status_code == 400
    assert "objective" in response.json()["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "non_field_errors"),
        ({"direction": "up", "position": 1}, "position"),
        ({"direction": "sideways"}, "direction"),
        ({"position": -1}, "position"),
        ({"milestone": 1}, "milestone"),  # a milestone only reorders
    ],
)
def test_bad_moves(draft, manager, payload, field):
    response = manager.post(url("api_milestone_move", "acme", draft.m1.pk), payload, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 400
    assert field in response.json()["fields"]


# --- Step status ------------------------------------------------------------------------------------


def test_the_assignee_sets_the_status_of_their_step(acme, draft):
    client = api_client(acme.member)

    response = client.post(url("api_step_status", "acme", draft.s1.pk), {"status": "done"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "done"
    assert response.json()["completed_at"]
    assert response["ETag"] == '"v2"'
    response = client.post(url("api_step_status", "acme", draft.s1.pk), {"status": "someday"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_done_on_a_recurring_step_checks_off_this_period(acme, draft):
    ActionStep.objects.filter(pk=draft.s1.pk).update(recurrence="weekly")
    client = api_client(acme.member)

    for _ in range(2):
        response = client.post(url("api_step_status", "acme", draft.s1.pk), {"status": "done"})
        assert response.status_code == 200

    assert response.json()["status"] == "todo"  # a recurring step keeps its status: it comes back next week
    assert StepCompletion.objects.filter(step_id=draft.s1.pk).count() == 1


# --- ETag and If-Match ------------------------------------------------------------------------------

DETAIL = {
    "plan": ("api_plan_detail", lambda d: d.plan, {"title": "Renamed"}),
    "milestone": ("api_milestone_detail", lambda d: d.m1, {"title": "Renamed"}),
    "objective": ("api_objective_detail", lambda d: d.o1, {"title": "Renamed"}),
    "step": ("api_step_detail", lambda d: d.s1, {"title": "Renamed"}),
}


@pytest.mark.parametrize("kind", list(DETAIL))
def test_detail_responses_carry_the_version_as_etag(draft, manager, kind):
    name, obj, _ = DETAIL[kind]
    response = manager.get(url(name, "acme", obj(draft).pk))
    assert response.status_code == 200
    assert response["ETag"] == '"v1"'
    assert response.json()["version"] == 1


@pytest.mark.parametrize("kind", list(DETAIL))
def test_two_clients_with_one_etag_the_first_patch_wins(acme, draft, kind):
    name, obj, _ = DETAIL[kind]
    target = url(name, "acme", obj(draft).pk)
    first, second = api_client(acme.manager), api_client(acme.admin)
    etag = first.get(target)["ETag"]
    assert second.get(target)["ETag"] == etag

    won = first.patch(target, {"title": "First"}, HTTP_IF_MATCH=etag)
    lost = second.patch(target, {"title": "Second"}, HTTP_IF_MATCH=etag)

    assert won.status_code == 200
    assert won["ETag"] == '"v2"'
    assert lost.status_code == 412
    assert set(lost.json()) == {"detail", "code", "fields"}
    assert lost.json()["code"] == "precondition_failed"
    assert first.get(target).json()["title"] == "First"
    # With the new ETag the second client's retry goes through.
    assert second.patch(target, {"title": "Second"}, HTTP_IF_MATCH=won["ETag"]).status_code == 200


@pytest.mark.parametrize("kind", list(DETAIL))
def test_delete_with_a_stale_etag_is_412(draft, manager, kind):
    name, obj, change = DETAIL[kind]
    target = url(name, "acme", obj(draft).pk)
    manager.patch(target, change)  # now at v2

    response = manager.delete(target, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412
    assert manager.get(target).status_code == 200

    assert manager.delete(target, HTTP_IF_MATCH='"v2"').status_code == 204
    assert manager.get(target).status_code == 404


@pytest.mark.parametrize(
    ("if_match", "expected"),
    [
        ('"v1"', 200),
        ('W/"v1"', 200),
        ('"v0", "v1"', 200),
        ("*", 200),
        ('"v2"', 412),
        ("v1", 412),
        ('"1"', 412),
    ],
)
def test_if_match_forms(draft, manager, if_match, expected):
    response = manager.patch(
        url("api_step_detail", "acme", draft.s2.pk), {"notes": "x"}, HTTP_IF_MATCH=if_match
    )
    assert response.status_code == expected


def test_a_stale_if_match_wins_over_bad_content(draft, manager):
    manager.patch(url("api_step_detail", "acme", draft.s1.pk), {"title": "v2"})
    response = manager.patch(url("api_step_detail", "acme", draft.s1.pk), {"title": ""}, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412


@pytest.mark.parametrize("kind", list(DETAIL))
def test_a_stale_version_in_the_body_is_409_with_the_current_version(draft, manager, kind):
    name, obj, change = DETAIL[kind]
    target = url(name, "acme", obj(draft).pk)
    assert manager.patch(target, {**change, "version": 1}).status_code == 200

    response = manager.patch(target, {"title": "Mine", "version": 1})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert response.json()["code"] == "conflict"
    assert manager.get(target).json()["title"] == change["title"]


def test_a_save_between_the_if_match_check_and_the_service_lock_is_still_412(draft, manager, monkeypatch):
    """The view compares If-Match, then someone saves before the service locks the row: the service's
    version check catches it, and the answer is still the failed precondition."""
    original = services.node_update

    def someone_saves_first(**kwargs):
        ActionStep.objects.filter(pk=kwargs["node"].pk).update(version=F("version") + 1, title="Theirs")
        return original(**kwargs)

    monkeypatch.setattr(services, "node_update", someone_saves_first)

    response = manager.patch(
        url("api_step_detail", "acme", draft.s1.pk), {"title": "Mine"}, HTTP_IF_MATCH='"v1"'
    )

    assert response.status_code == 412
    assert ActionStep.objects.get(pk=draft.s1.pk).title == "Theirs"


def test_without_a_precondition_the_last_write_applies(draft, manager):
    target = url("api_milestone_detail", "acme", draft.m1.pk)
    manager.patch(target, {"title": "One"})
    response = manager.patch(target, {"title": "Two"})
    assert (response.status_code, response.json()["title"], response["ETag"]) == (200, "Two", '"v3"')


# --- The tree ---------------------------------------------------------------------------------------


def test_the_tree_nests_everything_with_progress(acme, draft):
    ActionStep.objects.filter(pk=draft.s1.pk).update(status="done")

    response = api_client(acme.viewer).get(url("api_plan_tree", "acme", draft.plan.pk))

    assert response.status_code == 200
    tree = response.json()
    assert (tree["id"], tree["title"], tree["status"], tree["owner"]["id"]) == (
        draft.plan.pk,
        "Growth",
        "draft",
        acme.manager.pk,
    )
    assert [m["title"] for m in tree["milestones"]] == ["Pipeline", "Delivery"]
    pipeline = tree["milestones"][0]
    assert [o["title"] for o in pipeline["objectives"]] == ["Close clients", "Hire sales"]
    steps = pipeline["objectives"][0]["steps"]
    assert [(s["title"], s["progress"]) for s in steps] == [("Call leads", 100), ("Send proposals", 0)]
    assert steps[0]["assignee"] == {"id": acme.member.pk, "name": acme.member.user.display_name}
    # 1 of 2 steps → 50%; the empty objective counts 0 → milestone 25%; the empty milestone 0 → plan 12.5%.
    assert pipeline["objectives"][0]["progress"] == 50
    assert pipeline["objectives"][1]["progress"] == 0
    assert pipeline["progress"] == 25
    assert tree["progress"] == round(12.5)


def test_the_tree_carries_exactly_the_fields_its_schema_declares(acme, draft):
    """One rendering (``tree_representation``); ``PlanTreeSerializer`` and its nested serializers are
    its schema: every level of the response holds exactly their fields, with the values of the plan."""
    from planning.serializers import (
        PersonSerializer,
        PlanTreeSerializer,
        TeamRefSerializer,
        TreeMilestoneSerializer,
        TreeObjectiveSerializer,
        TreeStepSerializer,
    )

    today = timezone.localdate()
    ActionStep.objects.filter(pk=draft.s1.pk).update(
        status="done", completed_at=timezone.now(), due_date=today, notes="<b>bold</b>"
    )
    ActionStep.objects.filter(pk=draft.s2.pk).update(recurrence="weekly")
    StepCompletion.objects.create(
        organization=acme.org, step=draft.s2, period_start=today - timedelta(today.weekday())
    )
    team = TeamFactory(organization=acme.org, name="Sales")
    Objective.objects.filter(pk=draft.o1.pk).update(
        team=team, owner=acme.member, start_date=today, due_date=today
    )

    body = api_client(acme.viewer).get(url("api_plan_tree", "acme", draft.plan.pk)).json()

    def fields(serializer) -> set[str]:
        return set(serializer().fields)

    assert set(body) == fields(PlanTreeSerializer)
    milestone = body["milestones"][0]
    assert set(milestone) == fields(TreeMilestoneSerializer)
    objective = milestone["objectives"][0]
    assert set(objective) == fields(TreeObjectiveSerializer)
    assert set(objective["owner"]) == fields(PersonSerializer) and set(objective["team"]) == fields(
        TeamRefSerializer
    )
    done, weekly = objective["steps"]
    assert set(done) == set(weekly) == fields(TreeStepSerializer)
    assert (objective["team"]["name"], objective["owner"]["name"]) == ("Sales", acme.member.display_name)
    assert (objective["start_date"], done["due_date"]) == (today.isoformat(), today.isoformat())
    assert (done["status"], done["notes"], done["progress"]) == ("done", "<b>bold</b>", 100)
    assert done["completed_at"].startswith(str(today.year))
    assert (weekly["recurrence"], weekly["done_this_period"]) == ("weekly", True)
    # The schema the API publishes says the same.
    schema = api_client(acme.viewer).get("/api/schema/", {"format": "json"}).json()
    assert set(schema["components"]["schemas"]["PlanTree"]["properties"]) == set(body)


def test_the_tree_costs_the_same_queries_for_10_and_1000_nodes(acme, django_assert_num_queries):
    team_people = [acme.owner, acme.member, acme.admin]
    small = PlanFactory(organization=acme.org, owner=acme.manager)
    big = PlanFactory(organization=acme.org, owner=acme.manager)
    assert build_tree(small, milestones=1, objectives=3, steps=2, people=team_people) == 10
    assert build_tree(big, milestones=10, objectives=10, steps=9, people=team_people) == 1010
    Objective.objects.filter(plan__in=[small, big]).update(team=TeamFactory(organization=acme.org))
    client = api_client(acme.viewer)

    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(url("api_plan_tree", "acme", small.pk)).status_code == 200

    with django_assert_num_queries(len(small_queries)):
        response = client.get(url("api_plan_tree", "acme", big.pk))
    assert response.status_code == 200
    objectives = [o for m in response.json()["milestones"] for o in m["objectives"]]
    assert len(objectives) == 100
    assert sum(len(o["steps"]) for o in objectives) == 900
    assert all(o["team"] and o["owner"] for o in objectives)


# --- Lists stay flat --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["api_plan_list", "api_milestone_list", "api_objective_list", "api_step_list"]
)
def test_list_query_counts_stay_flat_as_data_grows(acme, name, django_assert_num_queries):
    people = [MembershipFactory(organization=acme.org) for _ in range(4)]
    team = TeamFactory(organization=acme.org)
    client = api_client(acme.viewer)

    def grow(plans: int, size: int) -> None:
        for _ in range(plans):
            plan = PlanFactory(organization=acme.org, owner=people[0])
            build_tree(plan, milestones=size, objectives=size, steps=size, people=people)
        Objective.objects.filter(organization=acme.org).update(team=team)

    grow(1, 1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(name, "acme")).json()["count"] >= 1

    grow(60, 3)
    with django_assert_num_queries(len(small)):
        body = client.get(url(name, "acme")).json()
    assert body["count"] > 50
    assert len(body["results"]) == 50


# --- The OpenAPI schema -----------------------------------------------------------------------------


def test_the_schema_is_valid_without_warnings(tmp_path: Path, capsys):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    output = capsys.readouterr()
    assert not re.search(r"warning|error", output.err + output.out, re.IGNORECASE), output.err
    schema = yaml.safe_load(target.read_text())
    # Every reference resolves (the status enums are referenced by name: see planning/serializers.py).
    refs = set(re.findall(r"\$ref: '#/components/schemas/(\w+)'", target.read_text()))
    assert refs <= set(schema["components"]["schemas"]), refs - set(schema["components"]["schemas"])
    assert {"PlanStatusEnum", "StepStatusEnum"} <= refs
    # Every planning operation documents its errors.
    operations = [
        (path, method, op)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/orgs/")
        for method, op in ops.items()
    ]
    assert len(operations) >= 58  # planning (plans, nodes, workflow) and metrics
    planning_tags = {"plans", "milestones", "objectives", "steps", "review"}
    for path, method, op in operations:
        codes = set(op["responses"])
        assert {"403", "404"} <= codes, (path, method)
        if not planning_tags & set(op.get("tags", [])):
            continue  # metrics documents its exact statuses (tests/metrics/api/test_schema.py)
        if method in ("post", "patch"):
            assert {"400", "409"} <= codes, (path, method)
        if method in ("patch", "delete"):
            assert "412" in codes, (path, method)


def test_an_id_field_without_related_rows_reads_only_its_table(acme):
    """``OrgScopedField`` looks an id up in its own table unless told which related rows to join."""
    from metrics.models import KeyResult
    from planning.serializers import OrgScopedField

    bare = OrgScopedField(KeyResult)
    bare.bind("key_result", None)
    bare._context = {"organization": acme.org}
    joined = OrgScopedField(KeyResult, related=("plan",))
    joined.bind("key_result", None)
    joined._context = {"organization": acme.org}
    assert "JOIN" not in str(bare.get_queryset().query)
    assert str(joined.get_queryset().query).count("JOIN") == 1
