"""Who may call which planning endpoint: anonymous, an outsider, then each role of the organization.

Anonymous callers are refused (403: session authentication sends no challenge), an outsider from another
organization gets 404 (Acme does not exist for them), and a refused write changes nothing. Another
organization's ids answer 404 on every detail endpoint, and as input they are "does not exist" (400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from planning.models import ActionStep, Milestone, Objective, Plan
from tests.conftest import ROLES
from tests.factories import TeamFactory
from tests.names import qualified

from .factories import MilestoneFactory, ObjectiveFactory, PlanFactory, StepFactory, api_client, period


@dataclass
class World:
    slug: str
    plan: Plan
    milestone: Milestone
    objective: Objective
    own_step: ActionStep  # assigned to Acme's member
    other_step: ActionStep  # assigned to Acme's admin


@pytest.fixture
def world(acme, other) -> World:
    plan = PlanFactory(organization=acme.org, owner=acme.owner)
    milestone = MilestoneFactory(plan=plan, position=0)
    MilestoneFactory(plan=plan, position=1)
    objective = ObjectiveFactory(milestone=milestone, position=0)
    own_step = StepFactory(objective=objective, assignee=acme.member, position=0)
    other_step = StepFactory(objective=objective, assignee=acme.admin, position=1)
    return World(acme.org.slug, plan, milestone, objective, own_step, other_step)


def _url(name: str, w: World, pk: int | None = None) -> str:
    return reverse(qualified(name), args=[w.slug] if pk is None else [w.slug, pk])


def _etag(node) -> str:
    """The If-Match that deleting and moving a node need (428 without it)."""
    return f'"v{node.version}"'


def _new_plan(w: World) -> dict:
    start, end = period()
    return {"title": "Next year", "ultimate_goal": "Grow", "period_start": start, "period_end": end}


Action = Callable[..., object]

ACTIONS: dict[str, Action] = {
    # plans
    "plan_list": lambda c, w: c.get(_url("api_plan_list", w)),
    "plan_create": lambda c, w: c.post(_url("api_plan_list", w), _new_plan(w)),
    "plan_retrieve": lambda c, w: c.get(_url("api_plan_detail", w, w.plan.pk)),
    "plan_update": lambda c, w: c.patch(_url("api_plan_detail", w, w.plan.pk), {"title": "Renamed"}),
    "plan_destroy": lambda c, w: c.delete(_url("api_plan_detail", w, w.plan.pk)),
    "plan_tree": lambda c, w: c.get(_url("api_plan_tree", w, w.plan.pk)),
    # milestones
    "milestone_list": lambda c, w: c.get(_url("api_milestone_list", w), {"plan": w.plan.pk}),
    "milestone_create": lambda c, w: c.post(
        _url("api_milestone_list", w), {"plan": w.plan.pk, "title": "New"}
    ),
    "milestone_retrieve": lambda c, w: c.get(_url("api_milestone_detail", w, w.milestone.pk)),
    "milestone_update": lambda c, w: c.patch(
        _url("api_milestone_detail", w, w.milestone.pk), {"title": "Renamed"}
    ),
    "milestone_destroy": lambda c, w: c.delete(
        _url("api_milestone_detail", w, w.milestone.pk), HTTP_IF_MATCH=_etag(w.milestone)
    ),
    "milestone_move": lambda c, w: c.post(
        _url("api_milestone_move", w, w.milestone.pk), {"direction": "down"}, HTTP_IF_MATCH=_etag(w.milestone)
    ),
    # objectives
    "objective_list": lambda c, w: c.get(_url("api_objective_list", w), {"plan": w.plan.pk}),
    "objective_create": lambda c, w: c.post(
        _url("api_objective_list", w), {"milestone": w.milestone.pk, "title": "New"}
    ),
    "objective_retrieve": lambda c, w: c.get(_url("api_objective_detail", w, w.objective.pk)),
    "objective_update": lambda c, w: c.patch(
        _url("api_objective_detail", w, w.objective.pk), {"title": "Renamed"}
    ),
    "objective_destroy": lambda c, w: c.delete(
        _url("api_objective_detail", w, w.objective.pk), HTTP_IF_MATCH=_etag(w.objective)
    ),
    "objective_move": lambda c, w: c.post(
        _url("api_objective_move", w, w.objective.pk),
        {"milestone": w.plan.milestones.exclude(pk=w.milestone.pk).get().pk},
        HTTP_IF_MATCH=_etag(w.objective),
    ),
    # steps
    "step_list": lambda c, w: c.get(_url("api_step_list", w), {"plan": w.plan.pk}),
    "step_create": lambda c, w: c.post(
        _url("api_step_list", w), {"objective": w.objective.pk, "title": "New"}
    ),
    "step_retrieve": lambda c, w: c.get(_url("api_step_detail", w, w.own_step.pk)),
    "step_update": lambda c, w: c.patch(_url("api_step_detail", w, w.other_step.pk), {"title": "Renamed"}),
    "step_update_own_title": lambda c, w: c.patch(
        _url("api_step_detail", w, w.own_step.pk), {"title": "Mine"}
    ),
    "step_update_own_status": lambda c, w: c.patch(
        _url("api_step_detail", w, w.own_step.pk), {"status": "doing"}
    ),
    "step_destroy": lambda c, w: c.delete(
        _url("api_step_detail", w, w.own_step.pk), HTTP_IF_MATCH=_etag(w.own_step)
    ),
    "step_move": lambda c, w: c.post(
        _url("api_step_move", w, w.own_step.pk), {"position": 1}, HTTP_IF_MATCH=_etag(w.own_step)
    ),
    "step_status_own": lambda c, w: c.post(_url("api_step_status", w, w.own_step.pk), {"status": "done"}),
    "step_status_others": lambda c, w: c.post(
        _url("api_step_status", w, w.other_step.pk), {"status": "done"}
    ),
}


def _roles(editors: int, member: int, viewer: int = 403) -> dict[str, int]:
    return {"owner": editors, "admin": editors, "manager": editors, "member": member, "viewer": viewer}


READ = _roles(200, 200, 200)
EDIT = _roles(200, 403)

# action -> expected status per role of Acme
MATRIX: dict[str, dict[str, int]] = {
    "plan_list": READ,
    "plan_create": _roles(201, 403),
    "plan_retrieve": READ,
    "plan_update": EDIT,
    "plan_destroy": _roles(204, 403),
    "plan_tree": READ,
    "milestone_list": READ,
    "milestone_create": _roles(201, 403),
    "milestone_retrieve": READ,
    "milestone_update": EDIT,
    "milestone_destroy": _roles(204, 403),
    "milestone_move": EDIT,
    "objective_list": READ,
    "objective_create": _roles(201, 403),
    "objective_retrieve": READ,
    "objective_update": EDIT,
    "objective_destroy": _roles(204, 403),
    "objective_move": EDIT,
    "step_list": READ,
    "step_create": _roles(201, 403),
    "step_retrieve": READ,
    "step_update": EDIT,
    # The assignee may change status and notes only; the service refuses other fields as invalid input.
    "step_update_own_title": _roles(200, 400),
    "step_update_own_status": _roles(200, 200),
    "step_destroy": _roles(204, 403),
    "step_move": EDIT,
    "step_status_own": _roles(200, 200),
    "step_status_others": _roles(200, 403),
}


def _snapshot(org) -> tuple:
    """Everything a write could change in the organization's plans."""
    return (
        list(
            Plan.objects.filter(organization=org)
            .order_by("pk")
            .values_list("pk", "version", "title", "status")
        ),
        list(
            Milestone.objects.filter(organization=org).order_by("pk").values_list("pk", "version", "position")
        ),
        list(
            Objective.objects.filter(organization=org)
            .order_by("pk")
            .values_list("pk", "version", "position", "milestone_id")
        ),
        list(
            ActionStep.objects.filter(organization=org)
            .order_by("pk")
            .values_list("pk", "version", "position", "status", "title")
        ),
    )


def test_the_matrix_covers_every_action():
    assert set(MATRIX) == set(ACTIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", [*ROLES, "anonymous", "outsider"])
@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix(action, caller, acme, other, world):
    if caller == "anonymous":
        client, expected = api_client(), {401, 403}
    elif caller == "outsider":
        client, expected = api_client(other.owner), {404}
    else:
        client, expected = api_client(acme.member_of(caller)), {MATRIX[action][caller]}
    before = _snapshot(acme.org)

    response = ACTIONS[action](client, world)

    assert response.status_code in expected, (action, caller, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "code", "fields"}
        assert _snapshot(acme.org) == before, "a refused call changed something"


@pytest.mark.django_db
def test_another_organizations_ids_answer_404_on_every_detail_endpoint(acme, other, world):
    """Globex's ids under Acme's slug, even for Acme's owner, are the same as missing ones."""
    plan = PlanFactory(organization=other.org, owner=other.owner)
    milestone = MilestoneFactory(plan=plan)
    MilestoneFactory(plan=plan)  # somewhere to move an objective to
    objective = ObjectiveFactory(milestone=milestone)
    step = StepFactory(objective=objective, assignee=other.member)
    globex = World(acme.org.slug, plan, milestone, objective, step, step)
    owner = api_client(acme.owner)
    before = _snapshot(other.org)

    for action in ACTIONS:
        if action.endswith(("_list", "_create")):
            continue
        response = ACTIONS[action](owner, globex)
        assert response.status_code == 404, (action, response.status_code)
        assert response.json()["code"] == "not_found"
    for name in ("api_plan_detail", "api_milestone_detail", "api_objective_detail", "api_step_detail"):
        assert owner.get(_url(name, world, 999_999)).status_code == 404
    assert _snapshot(other.org) == before


@pytest.mark.django_db
def test_lists_never_show_another_organizations_rows(acme, other, world):
    plan = PlanFactory(organization=other.org)
    StepFactory(objective=ObjectiveFactory(milestone=MilestoneFactory(plan=plan)), assignee=other.member)
    owner = api_client(acme.owner)

    assert [p["id"] for p in owner.get(_url("api_plan_list", world)).json()["results"]] == [world.plan.pk]
    for name, query in [
        ("api_milestone_list", {"plan": plan.pk}),
        ("api_objective_list", {"plan": plan.pk}),
        ("api_step_list", {"plan": plan.pk}),
        ("api_step_list", {"assignee": other.member.pk}),
    ]:
        response = owner.get(_url(name, world), query)
        assert response.status_code == 200
        assert response.json()["count"] == 0, name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("api_milestone_list", lambda w, g: {"plan": g["plan"].pk, "title": "X"}, "plan"),
        ("api_objective_list", lambda w, g: {"milestone": g["milestone"].pk, "title": "X"}, "milestone"),
        ("api_step_list", lambda w, g: {"objective": g["objective"].pk, "title": "X"}, "objective"),
        ("api_plan_list", lambda w, g: {**_new_plan(w), "owner": g["member"].pk}, "owner"),
        (
            "api_milestone_list",
            lambda w, g: {"plan": w.plan.pk, "title": "X", "owner": g["member"].pk},
            "owner",
        ),
        (
            "api_objective_list",
            lambda w, g: {"milestone": w.milestone.pk, "title": "X", "team": g["team"].pk},
            "team",
        ),
        (
            "api_objective_list",
            lambda w, g: {"milestone": w.milestone.pk, "title": "X", "owner": g["member"].pk},
            "owner",
        ),
        (
            "api_step_list",
            lambda w, g: {"objective": w.objective.pk, "title": "X", "assignee": g["member"].pk},
            "assignee",
        ),
    ],
)
def test_another_organizations_ids_in_input_do_not_exist(acme, other, world, name, payload, field):
    plan = PlanFactory(organization=other.org)
    milestone = MilestoneFactory(plan=plan)
    globex = {
        "plan": plan,
        "milestone": milestone,
        "objective": ObjectiveFactory(milestone=milestone),
        "member": other.member,
        "team": TeamFactory(organization=other.org),
    }
    before = (_snapshot(acme.org), _snapshot(other.org))

    response = api_client(acme.owner).post(_url(name, world), payload(world, globex))

    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"][field][0]
    assert (_snapshot(acme.org), _snapshot(other.org)) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "node", "payload", "field"),
    [
        ("api_step_detail", "own_step", lambda g: {"assignee": g["member"].pk}, "assignee"),
        ("api_objective_detail", "objective", lambda g: {"team": g["team"].pk}, "team"),
        ("api_objective_move", "objective", lambda g: {"milestone": g["milestone"].pk}, "milestone"),
        ("api_step_move", "own_step", lambda g: {"objective": g["objective"].pk}, "objective"),
    ],
)
def test_another_organizations_ids_in_edits_and_moves_do_not_exist(
    acme, other, world, name, node, payload, field
):
    plan = PlanFactory(organization=other.org)
    milestone = MilestoneFactory(plan=plan)
    globex = {
        "milestone": milestone,
        "objective": ObjectiveFactory(milestone=milestone),
        "member": other.member,
        "team": TeamFactory(organization=other.org),
    }
    before = _snapshot(acme.org)
    client = api_client(acme.owner)
    url = _url(name, world, getattr(world, node).pk)

    response = (
        client.post(url, payload(globex), HTTP_IF_MATCH=_etag(getattr(world, node)))
        if name.endswith("move")
        else client.patch(url, payload(globex))
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"][field][0]
    assert _snapshot(acme.org) == before


@pytest.mark.django_db
def test_a_plans_owner_with_a_member_role_edits_it(acme, world):
    """Object-level rule from the services: the plan's owner edits it whatever their role."""
    Plan.objects.filter(pk=world.plan.pk).update(owner=acme.member)
    client = api_client(acme.member)

    assert (
        client.patch(_url("api_milestone_detail", world, world.milestone.pk), {"title": "Mine"}).status_code
        == 200
    )
    other_plan = PlanFactory(organization=acme.org, owner=acme.owner)
    assert client.patch(_url("api_plan_detail", world, other_plan.pk), {"title": "Theirs"}).status_code == 403


@pytest.mark.django_db
def test_nobody_changes_step_status_on_a_closed_plan(acme, world):
    """A state, not a right: 409 with the reason (it used to be a bare 403)."""
    Plan.objects.filter(pk=world.plan.pk).update(status="closed")
    for membership in (acme.member, acme.owner):
        response = api_client(membership).post(
            _url("api_step_status", world, world.own_step.pk), {"status": "done"}
        )
        assert response.status_code == 409
        assert response.json()["detail"] == "This plan is closed and can no longer change."
    world.own_step.refresh_from_db()
    assert world.own_step.status == "todo"
