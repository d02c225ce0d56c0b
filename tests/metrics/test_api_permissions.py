"""Who may call which metrics endpoint: anonymous, an outsider, then each role of the organization.

Anonymous callers are refused (403: session authentication sends no challenge), an outsider from another
organization gets 404, and a refused write changes nothing. Owners, admins and managers manage KPIs and
(as editors of the plan) key results; members record values only for the KPIs they own and check in only
on what they own; viewers read. Another organization's objects answer 404 in the URL and "does not
exist" (400) as input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from bizops.models import Organization
from metrics import services
from metrics.exchange import plan_export
from metrics.models import KPI, CheckIn, Contribution, KeyResult, Measurement
from planning import services as planning_services
from planning.models import ActionStep, Milestone, Objective, Plan
from tests.conftest import ROLES
from tests.factories import TeamFactory
from tests.names import qualified
from tests.planning.factories import MilestoneFactory, ObjectiveFactory, PlanFactory, StepFactory, api_client


@dataclass
class World:
    slug: str
    plan: Plan
    objective: Objective  # owned by the manager, for the Sales team
    own_objective: Objective  # owned by the member, no team
    own_step: ActionStep  # assigned to the member
    other_step: ActionStep  # assigned to the admin
    own_kpi: KPI  # owned by the member
    other_kpi: KPI  # owned by the admin
    key_result: KeyResult  # no owner: the objective's owner (the manager) answers for it
    own_key_result: KeyResult  # owned by the member, on the member's objective
    parent_milestone: Milestone  # a milestone of the plan ``plan`` serves


def _plan_file(plan: Plan) -> SimpleUploadedFile:
    return SimpleUploadedFile("plan.json", json.dumps(plan_export(plan=plan)).encode(), "application/json")


def _kpi(actor, name: str, owner) -> KPI:
    return services.kpi_create(
        actor=actor, name=name, direction="increase", target=100, frequency="monthly", owner=owner
    )


@pytest.fixture
def world(acme, plan, tree, leads, key_result) -> World:
    milestone, objective, step = tree
    own_objective = planning_services.objective_create(
        actor=acme.manager, milestone=milestone, title="Member's objective", owner=acme.member
    )
    own_objective.plan = plan
    other_step = planning_services.step_create(
        actor=acme.manager, objective=objective, title="Admin's step", assignee=acme.admin
    )
    own_key_result = services.key_result_create(
        actor=acme.manager, objective=own_objective, title="Member's result", target=10, owner=acme.member
    )
    company = PlanFactory(organization=acme.org, owner=acme.owner, title="Company plan")
    Plan.objects.filter(pk=plan.pk).update(parent=company)
    plan.parent_id = company.pk
    return World(
        slug=acme.org.slug,
        plan=plan,
        objective=objective,
        own_objective=own_objective,
        own_step=step,
        other_step=other_step,
        own_kpi=leads,
        other_kpi=_kpi(acme.manager, "Revenue", acme.admin),
        key_result=key_result,
        own_key_result=own_key_result,
        parent_milestone=MilestoneFactory(plan=company),
    )


def _url(name: str, w: World, pk: int | None = None) -> str:
    return reverse(qualified(name), args=[w.slug] if pk is None else [w.slug, pk])


def _today() -> str:
    return timezone.localdate().isoformat()


def _csv(w: World) -> dict:
    content = f"kpi,period,value\n{w.own_kpi.name},{_today()},42\n".encode()
    return {"file": SimpleUploadedFile("values.csv", content, content_type="text/csv")}


def _check_in(target: str, pk: int, **extra) -> dict:
    return {"target": target, target: pk, "confidence": "on_track", **extra}


Action = Callable[..., object]

ACTIONS: dict[str, Action] = {
    # KPIs
    "kpi_list": lambda c, w: c.get(_url("api_kpi_list", w)),
    "kpi_create": lambda c, w: c.post(
        _url("api_kpi_list", w),
        {"name": "Churn", "direction": "decrease", "target": 5, "frequency": "monthly"},
    ),
    "kpi_retrieve": lambda c, w: c.get(_url("api_kpi_detail", w, w.own_kpi.pk)),
    "kpi_update": lambda c, w: c.patch(_url("api_kpi_detail", w, w.own_kpi.pk), {"target": 120}),
    "kpi_destroy": lambda c, w: c.delete(_url("api_kpi_detail", w, w.other_kpi.pk)),
    # measurements
    "measurement_list": lambda c, w: c.get(_url("api_measurement_list", w, w.own_kpi.pk)),
    "measurement_create_own_kpi": lambda c, w: c.post(
        _url("api_measurement_list", w, w.own_kpi.pk), {"period": _today(), "value": 90}
    ),
    "measurement_create_others_kpi": lambda c, w: c.post(
        _url("api_measurement_list", w, w.other_kpi.pk), {"period": _today(), "value": 90}
    ),
    "measurements_import": lambda c, w: c.post(
        _url("api_measurements_import", w), _csv(w), format="multipart"
    ),
    # key results
    "key_result_list": lambda c, w: c.get(_url("api_key_result_list", w), {"plan": w.plan.pk}),
    "key_result_create": lambda c, w: c.post(
        _url("api_key_result_list", w), {"objective": w.objective.pk, "title": "Renewals", "target": 3}
    ),
    "key_result_retrieve": lambda c, w: c.get(_url("api_key_result_detail", w, w.key_result.pk)),
    "key_result_update": lambda c, w: c.patch(
        _url("api_key_result_detail", w, w.key_result.pk), {"title": "Renamed"}
    ),
    "key_result_update_own": lambda c, w: c.patch(
        _url("api_key_result_detail", w, w.own_key_result.pk), {"target": 12}
    ),
    "key_result_destroy": lambda c, w: c.delete(_url("api_key_result_detail", w, w.key_result.pk)),
    # check-ins
    "check_in_list": lambda c, w: c.get(_url("api_check_in_list", w), {"plan": w.plan.pk}),
    "check_in_key_result_others": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("key_result", w.key_result.pk, value=2)
    ),
    "check_in_key_result_own": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("key_result", w.own_key_result.pk, value=2)
    ),
    "check_in_objective_others": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("objective", w.objective.pk)
    ),
    "check_in_objective_own": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("objective", w.own_objective.pk)
    ),
    "check_in_step_own": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("step", w.own_step.pk, status="doing")
    ),
    "check_in_step_others": lambda c, w: c.post(
        _url("api_check_in_list", w), _check_in("step", w.other_step.pk, status="doing")
    ),
    # progress
    "plan_progress": lambda c, w: c.get(_url("api_plan_progress", w, w.plan.pk)),
    "plan_history": lambda c, w: c.get(_url("api_plan_history", w, w.plan.pk)),
    # alignment
    "objective_alignment_retrieve": lambda c, w: c.get(_url("api_objective_alignment", w, w.objective.pk)),
    "objective_alignment_set": lambda c, w: c.put(
        _url("api_objective_alignment", w, w.objective.pk),
        {"target_kind": "milestone", "target_id": w.parent_milestone.pk},
    ),
    "objective_alignment_clear": lambda c, w: c.delete(_url("api_objective_alignment", w, w.objective.pk)),
    "plan_alignment_options": lambda c, w: c.get(_url("api_alignment_options", w, w.plan.pk)),
    # plan files
    "plan_export": lambda c, w: c.get(_url("api_plan_export", w, w.plan.pk)),
    "plan_import": lambda c, w: c.post(
        _url("api_plan_import", w), {"file": _plan_file(w.plan)}, format="multipart"
    ),
}


def _roles(managers: int, member: int, viewer: int = 403) -> dict[str, int]:
    return {"owner": managers, "admin": managers, "manager": managers, "member": member, "viewer": viewer}


READ = _roles(200, 200, 200)

# action -> expected status per role of Acme
MATRIX: dict[str, dict[str, int]] = {
    "kpi_list": READ,
    "kpi_create": _roles(201, 403),
    "kpi_retrieve": READ,
    "kpi_update": _roles(200, 403),
    "kpi_destroy": _roles(204, 403),
    "measurement_list": READ,
    "measurement_create_own_kpi": _roles(201, 201),
    "measurement_create_others_kpi": _roles(201, 403),
    "measurements_import": _roles(200, 403),
    "key_result_list": READ,
    "key_result_create": _roles(201, 403),
    "key_result_retrieve": READ,
    "key_result_update": _roles(200, 403),
    # Owning a key result is checking in on it, not defining it: that is the plan's editors' job.
    "key_result_update_own": _roles(200, 403),
    "key_result_destroy": _roles(204, 403),
    "check_in_list": READ,
    "check_in_key_result_others": _roles(201, 403),
    "check_in_key_result_own": _roles(201, 201),
    "check_in_objective_others": _roles(201, 403),
    "check_in_objective_own": _roles(201, 201),
    "check_in_step_own": _roles(201, 201),
    "check_in_step_others": _roles(201, 403),
    "plan_progress": READ,
    "plan_history": READ,
    "objective_alignment_retrieve": READ,
    "objective_alignment_set": _roles(200, 403),
    "objective_alignment_clear": _roles(204, 403),
    "plan_alignment_options": READ,
    "plan_export": READ,
    "plan_import": _roles(201, 403),
}


def _snapshot(org: Organization) -> tuple:
    """Everything a metrics write could change in the organization."""
    return (
        list(KPI.objects.filter(organization=org).order_by("pk").values_list("pk", "version", "target")),
        list(
            Measurement.objects.filter(organization=org)
            .order_by("pk")
            .values_list("pk", "value", "is_current")
        ),
        list(
            KeyResult.objects.filter(organization=org)
            .order_by("pk")
            .values_list("pk", "version", "title", "target", "current")
        ),
        list(CheckIn.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True)),
        list(
            ActionStep.objects.filter(organization=org).order_by("pk").values_list("pk", "status", "version")
        ),
        list(
            Contribution.objects.filter(organization=org).order_by("pk").values_list("pk", "to_milestone_id")
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


@pytest.fixture
def globex(other) -> World:
    """The same world inside Globex, for Acme's people to try to reach."""
    plan = PlanFactory(organization=other.org, owner=other.owner)
    objective = ObjectiveFactory(milestone=MilestoneFactory(plan=plan), owner=other.member)
    step = StepFactory(objective=objective, assignee=other.member)
    kpi = _kpi(other.owner, "Leads reached a month", other.member)
    key_result = services.key_result_create(actor=other.owner, objective=objective, title="Deals", target=3)
    return World(
        slug="acme",
        plan=plan,
        objective=objective,
        own_objective=objective,
        own_step=step,
        other_step=step,
        own_kpi=kpi,
        other_kpi=kpi,
        key_result=key_result,
        own_key_result=key_result,
        parent_milestone=objective.milestone,
    )


DETAIL_ACTIONS = [
    "kpi_retrieve",
    "kpi_update",
    "kpi_destroy",
    "measurement_list",
    "measurement_create_own_kpi",
    "key_result_retrieve",
    "key_result_update",
    "key_result_destroy",
    "plan_progress",
    "plan_history",
    "plan_export",
    "objective_alignment_retrieve",
    "objective_alignment_set",
    "objective_alignment_clear",
    "plan_alignment_options",
]


@pytest.mark.django_db
@pytest.mark.parametrize("action", DETAIL_ACTIONS)
def test_another_organizations_objects_in_the_url_answer_404(acme, other, world, globex, action):
    """Globex's ids under Acme's slug, even for Acme's owner, are the same as missing ones."""
    before = _snapshot(other.org)

    response = ACTIONS[action](api_client(acme.owner), globex)

    assert response.status_code == 404, (action, response.status_code)
    assert response.json()["code"] == "not_found"
    assert _snapshot(other.org) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "api_kpi_detail",
        "api_measurement_list",
        "api_key_result_detail",
        "api_plan_progress",
        "api_plan_history",
        "api_objective_alignment",
        "api_alignment_options",
    ],
)
def test_missing_ids_answer_404(acme, world, name):
    assert api_client(acme.owner).get(_url(name, world, 999_999)).status_code == 404


@pytest.mark.django_db
def test_lists_never_show_another_organizations_rows(acme, other, world, globex):
    services.check_in_objective(actor=other.owner, objective=globex.objective, confidence="on_track")
    services.measurement_record(actor=other.owner, kpi=globex.own_kpi, period=timezone.localdate(), value=1)
    owner = api_client(acme.owner)

    kpis = owner.get(_url("api_kpi_list", world)).json()["results"]
    assert {k["id"] for k in kpis} == {world.own_kpi.pk, world.other_kpi.pk}
    for name, query in [
        ("api_key_result_list", {"plan": globex.plan.pk}),
        ("api_key_result_list", {"objective": globex.objective.pk}),
        ("api_key_result_list", {"owner": other.member.pk}),
        ("api_check_in_list", {}),
        ("api_check_in_list", {"plan": globex.plan.pk}),
        ("api_check_in_list", {"objective": globex.objective.pk}),
        ("api_check_in_list", {"author": other.owner.user.pk}),
    ]:
        response = owner.get(_url(name, world), query)
        assert response.status_code == 200
        assert response.json()["count"] == 0, (name, query)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "name", "target", "payload", "field"),
    [
        ("post", "api_kpi_list", None, lambda w, g: _new_kpi(owner=g["member"]), "owner"),
        ("post", "api_kpi_list", None, lambda w, g: _new_kpi(objectives=[g["objective"]]), "objectives"),
        ("patch", "api_kpi_detail", "own_kpi", lambda w, g: {"owner": g["member"]}, "owner"),
        ("patch", "api_kpi_detail", "own_kpi", lambda w, g: {"objectives": [g["objective"]]}, "objectives"),
        (
            "post",
            "api_key_result_list",
            None,
            lambda w, g: {"objective": g["objective"], "title": "X", "target": 1},
            "objective",
        ),
        (
            "post",
            "api_key_result_list",
            None,
            lambda w, g: {"objective": w.objective.pk, "title": "X", "target": 1, "owner": g["member"]},
            "owner",
        ),
        ("patch", "api_key_result_detail", "key_result", lambda w, g: {"owner": g["member"]}, "owner"),
        (
            "post",
            "api_check_in_list",
            None,
            lambda w, g: _check_in("key_result", g["key_result"], value=1),
            "key_result",
        ),
        ("post", "api_check_in_list", None, lambda w, g: _check_in("objective", g["objective"]), "objective"),
        ("post", "api_check_in_list", None, lambda w, g: _check_in("step", g["step"], status="done"), "step"),
    ],
)
def test_another_organizations_ids_in_input_do_not_exist(
    acme, other, world, globex, method, name, target, payload, field
):
    ids = {
        "member": other.member.pk,
        "objective": globex.objective.pk,
        "key_result": globex.key_result.pk,
        "step": globex.own_step.pk,
    }
    before = (_snapshot(acme.org), _snapshot(other.org))
    url = _url(name, world, getattr(world, target).pk if target else None)

    response = getattr(api_client(acme.owner), method)(url, payload(world, ids))

    assert response.status_code == 400, response.json()
    assert "does not exist" in response.json()["fields"][field][0]
    assert (_snapshot(acme.org), _snapshot(other.org)) == before


def _new_kpi(**extra) -> dict:
    return {"name": "Churn", "direction": "decrease", "target": 5, "frequency": "monthly", **extra}


@pytest.mark.django_db
def test_an_import_never_reaches_another_organizations_kpis(acme, other, world):
    _kpi(other.owner, "Globex revenue", other.owner)
    content = f"kpi,period,value\nGlobex revenue,{_today()},1\n".encode()

    response = api_client(acme.owner).post(
        _url("api_measurements_import", world),
        {"file": SimpleUploadedFile("values.csv", content)},
        format="multipart",
    )

    assert response.status_code == 400
    assert "No KPI named “Globex revenue”" in response.json()["errors"][0]["message"]
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_a_member_imports_nothing_even_for_a_kpi_they_own(acme, world):
    response = api_client(acme.member).post(
        _url("api_measurements_import", world), _csv(world), format="multipart"
    )
    assert response.status_code == 403
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_a_member_records_only_while_they_own_the_kpi(acme, world):
    member = api_client(acme.member)
    target = _url("api_measurement_list", world, world.own_kpi.pk)
    assert member.post(target, {"period": _today(), "value": 1}).status_code == 201

    KPI.objects.filter(pk=world.own_kpi.pk).update(owner=acme.admin)

    assert member.post(target, {"period": _today(), "value": 2}).status_code == 403
    assert list(Measurement.objects.values_list("value", flat=True)) == [1]


@pytest.mark.django_db
def test_a_plans_owner_with_a_member_role_defines_its_key_results(acme, world):
    """Object-level rule from the services: the plan's owner edits it whatever their role."""
    Plan.objects.filter(pk=world.plan.pk).update(owner=acme.member)
    client = api_client(acme.member)

    response = client.post(
        _url("api_key_result_list", world), {"objective": world.objective.pk, "title": "Mine", "target": 2}
    )
    assert response.status_code == 201
    response = client.patch(_url("api_key_result_detail", world, world.key_result.pk), {"title": "Renamed"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_manager_checks_in_on_their_teams_work_only(acme, world):
    """A manager checks in on what belongs to a team they are in or lead, or to no team."""
    sales = world.objective.team
    Objective.objects.filter(pk=world.own_objective.pk).update(team=sales)
    manager = api_client(acme.manager)

    for payload in (
        _check_in("objective", world.own_objective.pk),
        _check_in("key_result", world.own_key_result.pk, value=1),
    ):
        assert manager.post(_url("api_check_in_list", world), payload).status_code == 403
    assert not CheckIn.objects.exists()

    sales.members.add(acme.manager)
    assert (
        manager.post(
            _url("api_check_in_list", world), _check_in("objective", world.own_objective.pk)
        ).status_code
        == 201
    )
    other_team = TeamFactory(organization=acme.org, lead=acme.manager)
    Objective.objects.filter(pk=world.own_objective.pk).update(team=other_team)
    response = manager.post(
        _url("api_check_in_list", world), _check_in("key_result", world.own_key_result.pk, value=1)
    )
    assert response.status_code == 201
