"""The plan's life cycle over the API: the moves, who may make them, the review, baselines and diffs, the
history, scores, the approver's queue and the team workload; tenancy and query counts.

The rules themselves are tested on the services (``test_workflow.py``); these tests check that the API
carries them faithfully: the right status for each refusal, nothing changed by a refused move, and the
``allowed_actions`` a client is shown matching what the services accept.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from planning import services
from planning.api import PLAN_ACTION_VIEWS
from planning.models import (
    Approval,
    Baseline,
    ObjectiveScore,
    Plan,
    PlanApprover,
    PlanStatus,
    PlanTransition,
)
from tests.conftest import ROLES
from tests.factories import MembershipFactory, TeamFactory
from tests.names import qualified

from .factories import MilestoneFactory, ObjectiveFactory, PlanFactory, StepFactory, api_client, build_tree

pytestmark = pytest.mark.django_db

S = PlanStatus


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(qualified(name), args=[slug, *args])


def act(client, plan: Plan, action: str, body: dict | None = None, slug: str = "acme"):
    return client.post(url(f"api_plan_{action}", plan.pk, slug=slug), body or {})


def review(client, plan: Plan) -> dict:
    response = client.get(url("api_plan_review", plan.pk))
    assert response.status_code == 200, response.content[:300]
    return response.json()


def state(plan: Plan) -> tuple:
    """Everything a move could change."""
    plan.refresh_from_db()
    return (
        plan.status,
        plan.review_round,
        plan.submitted_by_id,
        plan.activated_at,
        plan.closed_at,
        PlanTransition.objects.filter(plan=plan).count(),
        PlanApprover.objects.filter(plan=plan).count(),
        Approval.objects.filter(plan=plan).count(),
        Baseline.objects.filter(plan=plan).count(),
        ObjectiveScore.objects.filter(plan=plan).count(),
    )


def client_for(acme, other, caller: str):
    """A client for a role of Acme, an outsider (Globex's owner) or anonymous."""
    if caller == "anonymous":
        return api_client()
    return api_client(other.owner if caller == "outsider" else acme.member_of(caller))


def set_status(plan: Plan, status: str) -> None:
    Plan.objects.filter(pk=plan.pk).update(status=status)
    plan.refresh_from_db()


def test_every_move_of_the_life_cycle_has_an_endpoint():
    assert list(PLAN_ACTION_VIEWS) == list(services.TRANSITIONS)
    for action in services.TRANSITIONS:
        assert url(f"api_plan_{action}", 1) == f"/api/v1/orgs/acme/plans/1/actions/{action}/"


# --- The whole life cycle ---------------------------------------------------------------------------


def test_the_whole_life_cycle_over_the_api(acme, plan, tree):
    milestone, objective, _ = tree
    manager, admin, viewer = api_client(acme.manager), api_client(acme.admin), api_client(acme.viewer)

    # Submit, naming the admin.
    response = act(manager, plan, "submit", {"approvers": [acme.admin.pk], "comment": "Ready"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["review_round"]) == ("in_review", 1)
    assert body["submitted_by"] == {"id": acme.manager.user_id, "name": acme.manager.user.display_name}
    assert body["allowed_actions"] == ["withdraw"]
    assert response["ETag"] == f'"v{body["version"]}"'

    seen = review(admin, plan)
    assert seen["plan"]["allowed_actions"] == ["approve", "request_changes"]
    assert seen["readiness"]["ready"] is True and seen["readiness"]["blocking"] == []
    assert [(a["id"], a["decision"]) for a in seen["approvers"]] == [(acme.admin.pk, None)]
    assert (seen["approvals_required"], seen["approved_count"]) == (1, 0)
    assert seen["baseline"] is None and seen["diff"] is None

    # Changes requested, fixed, submitted again.
    response = act(admin, plan, "request_changes", {"comment": "Name the pipeline better"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "changes_requested"
    assert response.json()["allowed_actions"] == ["submit", "revise"]  # an admin edits plans too
    decided = review(manager, plan)["approvers"][0]
    assert (decided["decision"], decided["comment"]) == ("changes_requested", "Name the pipeline better")
    fixed = manager.patch(
        url("api_milestone_detail", milestone.pk), {"title": "Build a predictable pipeline"}
    )
    assert fixed.status_code == 200, fixed.json()
    response = act(manager, plan, "submit", {"approvers": [acme.admin.pk]})
    assert (response.status_code, response.json()["review_round"]) == (200, 2)
    assert review(admin, plan)["approvers"][0]["decision"] is None  # a new round

    # Approved: baseline 1.
    response = act(admin, plan, "approve", {"comment": "Go"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    baselines = manager.get(url("api_baseline_list", plan.pk)).json()
    assert [(b["number"], b["round"]) for b in baselines["results"]] == [(1, 2)]
    assert review(manager, plan)["diff"] == {"is_empty": True, "plan_fields": {}, "changes": []}

    # Activated, amended, approved again: baseline 2.
    assert act(manager, plan, "activate").json()["status"] == "active"
    locked = manager.patch(url("api_objective_detail", objective.pk), {"title": "Close six clients a month"})
    assert locked.status_code == 409
    assert act(manager, plan, "start_amendment", {"comment": "Aim higher"}).json()["status"] == "amending"
    changed = manager.patch(url("api_objective_detail", objective.pk), {"title": "Close six clients a month"})
    assert changed.status_code == 200, changed.json()
    added = manager.post(url("api_milestone_list"), {"plan": plan.pk, "title": "Hire a writer"})
    assert added.status_code == 201, added.json()

    pending = review(admin, plan)
    assert pending["baseline"]["number"] == 1
    changes = {(c["change"], c["kind"], c["title"]): c for c in pending["diff"]["changes"]}
    assert set(changes) == {
        ("added", "milestone", "Hire a writer"),
        ("changed", "objective", "Close six clients a month"),
    }
    assert changes["changed", "objective", "Close six clients a month"]["fields"] == {
        "title": ["Close five clients a month", "Close six clients a month"]
    }

    assert act(manager, plan, "submit", {"approvers": [acme.admin.pk]}).status_code == 200
    response = act(admin, plan, "approve")
    assert response.json()["status"] == "active"  # an amendment of a running plan runs again
    baselines = viewer.get(url("api_baseline_list", plan.pk)).json()
    assert [b["number"] for b in baselines["results"]] == [2, 1]

    second = viewer.get(url("api_baseline_detail", plan.pk, 2)).json()
    titles = [n["fields"]["title"] for n in second["snapshot"]["nodes"]]
    assert "Close six clients a month" in titles and "Hire a writer" in titles
    assert second["snapshot"]["plan"]["title"] == "Growth 2027"
    first_to_second = viewer.get(url("api_baseline_diff", plan.pk, 1), {"to": 2}).json()
    assert {(c["change"], c["title"]) for c in first_to_second["changes"]} == {
        ("added", "Hire a writer"),
        ("changed", "Close six clients a month"),
    }
    assert viewer.get(url("api_baseline_diff", plan.pk, 2)).json()["is_empty"] is True  # to today

    history = viewer.get(url("api_plan_transitions", plan.pk)).json()
    assert [t["action"] for t in history["results"]] == [
        "approve",
        "submit",
        "start_amendment",
        "activate",
        "approve",
        "submit",
        "request_changes",
        "submit",
    ]
    amendment = history["results"][2]
    assert (amendment["from_status"], amendment["to_status"], amendment["comment"]) == (
        "active",
        "amending",
        "Aim higher",
    )
    assert amendment["actor"]["id"] == acme.manager.user_id

    # Closed and scored by the objective's owner (the manager).
    response = act(manager, plan, "close")
    assert (response.json()["status"], response.json()["allowed_actions"]) == ("closed", [])
    assert response.json()["closed_at"]
    score_url = url("api_objective_score", plan.pk, objective.pk)
    assert viewer.get(score_url).json()["score"] is None
    response = manager.put(score_url, {"score": 80, "reflection": "Close, not quite"})
    assert response.status_code == 200, response.json()
    scored = viewer.get(score_url).json()
    assert (scored["score"], scored["reflection"], scored["scored_by"]["id"]) == (
        80,
        "Close, not quite",
        acme.manager.user_id,
    )


# --- Who may make which move ------------------------------------------------------------------------

EDITORS = {"owner": 200, "admin": 200, "manager": 200, "member": 403, "viewer": 403}
APPROVERS = {"owner": 200, "admin": 200, "manager": 403, "member": 403, "viewer": 403}  # manager submitted

# action -> (how to bring the plan where the move is allowed, expected status per role)
MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "submit": ("draft", EDITORS),
    "withdraw": ("submitted", {"owner": 403, "admin": 403, "manager": 200, "member": 403, "viewer": 403}),
    "approve": ("submitted", APPROVERS),
    # Acme has five members and does not allow it (tests/planning/test_approve_alone.py has the rest).
    "approve_alone": ("draft", dict.fromkeys(EDITORS, 403)),
    "request_changes": ("submitted", APPROVERS),
    "revise": (S.CHANGES_REQUESTED, EDITORS),
    "activate": (S.APPROVED, EDITORS),
    "close": (S.ACTIVE, EDITORS),
    "start_amendment": (S.APPROVED, EDITORS),
}
BODIES = {"request_changes": {"comment": "Tighten it"}}


def test_the_matrix_covers_every_move():
    assert set(MATRIX) == set(services.TRANSITIONS)


@pytest.mark.parametrize("caller", [*ROLES, "anonymous", "outsider"])
@pytest.mark.parametrize("action", list(MATRIX))
def test_who_may_make_each_move(acme, other, plan, tree, action, caller):
    """Each role's status for each move from a state that allows it; a refused move changes nothing,
    and the moves a caller is offered in ``allowed_actions`` are exactly those that succeed."""
    setup, expected = MATRIX[action]
    if setup == "submitted":
        services.plan_submit(actor=acme.manager, plan=plan)  # approvers: the owner and the admin
    elif setup != "draft":
        set_status(plan, setup)
    client = client_for(acme, other, caller)
    allowed = {"anonymous": {401, 403}, "outsider": {404}}.get(caller) or {expected[caller]}
    if caller in ROLES:
        offered = action in review(client, plan)["plan"]["allowed_actions"]
        assert offered == (expected[caller] == 200), (action, caller)
    before = state(plan)

    response = act(client, plan, action, BODIES.get(action))

    assert response.status_code in allowed, (action, caller, response.content[:300])
    if response.status_code == 200:
        assert state(plan) != before
        assert PlanTransition.objects.filter(plan=plan, action=action).exists()
    else:
        assert set(response.json()) >= {"detail", "code", "fields"}
        assert state(plan) == before, "a refused move changed something"


def test_nobody_approves_their_own_submission(acme, plan, tree):
    owner = api_client(acme.owner)
    response = act(owner, plan, "submit", {"approvers": [acme.owner.pk]})
    assert response.status_code == 400
    assert response.json()["fields"]["approvers"]

    assert act(owner, plan, "submit").status_code == 200  # everyone eligible but the owner
    before = state(plan)
    assert "approve" not in review(owner, plan)["plan"]["allowed_actions"]
    for action, body in (("approve", {}), ("request_changes", {"comment": "Mine"})):
        response = act(owner, plan, action, body)
        assert response.status_code == 403, response.json()
        assert response.json()["code"] == "permission_denied"
    assert state(plan) == before
    assert act(api_client(acme.manager), plan, "approve").status_code == 200


def test_two_approvals_needed_and_each_approver_decides_once(acme, plan, tree):
    acme.org.approvals_required = 2
    acme.org.save()
    admin = api_client(acme.admin)
    assert act(api_client(acme.manager), plan, "submit").status_code == 200

    response = act(admin, plan, "approve")
    assert (response.status_code, response.json()["status"]) == (200, "in_review")
    assert response.json()["allowed_actions"] == []
    seen = review(admin, plan)
    assert (seen["approvals_required"], seen["approved_count"]) == (2, 1)
    assert {a["id"]: a["decision"] for a in seen["approvers"]} == {
        acme.owner.pk: None,
        acme.admin.pk: "approved",
    }

    before = state(plan)
    again = act(admin, plan, "approve")
    assert again.status_code == 409
    assert "already decided" in again.json()["detail"]
    assert state(plan) == before

    assert act(api_client(acme.owner), plan, "approve").json()["status"] == "approved"
    assert Baseline.objects.filter(plan=plan).count() == 1


# Moves from a state that does not allow them: (state, action, by whom).
INVALID = [
    (S.DRAFT, "withdraw", "manager"),
    (S.DRAFT, "approve", "admin"),
    (S.DRAFT, "request_changes", "admin"),
    (S.DRAFT, "revise", "manager"),
    (S.DRAFT, "activate", "manager"),
    (S.DRAFT, "close", "manager"),
    (S.DRAFT, "start_amendment", "manager"),
    (S.APPROVED, "submit", "manager"),
    (S.APPROVED, "approve_alone", "owner"),
    (S.ACTIVE, "approve", "admin"),
    (S.CHANGES_REQUESTED, "activate", "owner"),
    (S.AMENDING, "close", "manager"),
    (S.CLOSED, "start_amendment", "admin"),
    (S.CLOSED, "submit", "owner"),
]


def test_the_invalid_moves_cover_every_action():
    assert {action for _, action, _ in INVALID} == set(services.TRANSITIONS)
    for status, action, _ in INVALID:
        assert status not in services.TRANSITIONS[action][0]


@pytest.mark.parametrize(("status", "action", "role"), INVALID)
def test_an_invalid_move_is_409_and_changes_nothing(acme, plan, tree, status, action, role):
    set_status(plan, status)
    client = api_client(acme.member_of(role))
    assert action not in review(client, plan)["plan"]["allowed_actions"]
    before = state(plan)

    response = act(client, plan, action, BODIES.get(action))

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "conflict"
    assert "cannot be" in response.json()["detail"]
    assert state(plan) == before


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "   "}])
def test_requesting_changes_needs_a_comment(acme, plan, tree, body):
    assert act(api_client(acme.manager), plan, "submit").status_code == 200
    before = state(plan)

    response = act(api_client(acme.admin), plan, "request_changes", body)

    assert response.status_code == 400
    assert response.json()["fields"]["comment"]
    assert state(plan) == before


def test_submitting_an_unready_plan_is_400_and_the_review_says_why(acme, plan, tree):
    _, objective, _ = tree
    objective.owner = None
    objective.save()
    manager = api_client(acme.manager)
    readiness = review(manager, plan)["readiness"]
    assert readiness["ready"] is False
    assert {"kind": "objective", "node_id": objective.pk, "title": objective.title} | {
        "message": "Objective without an owner."
    } in readiness["blocking"]
    assert all(set(p) == {"kind", "node_id", "title", "message"} for p in readiness["warnings"])
    before = state(plan)

    response = act(manager, plan, "submit")

    assert response.status_code == 400
    assert "blocking" in str(response.json()["fields"])
    assert state(plan) == before


@pytest.mark.parametrize(
    ("approvers", "field_message"),
    [
        (lambda acme, other: [other.manager.pk], "does not exist"),
        (lambda acme, other: [acme.member.pk], "managers and admins"),
        (lambda acme, other: [acme.admin.pk, 999_999], "does not exist"),
        (lambda acme, other: "everyone", "list"),
    ],
)
def test_bad_approvers_are_400(acme, other, plan, tree, approvers, field_message):
    before = state(plan)
    response = act(api_client(acme.manager), plan, "submit", {"approvers": approvers(acme, other)})
    assert response.status_code == 400
    assert field_message in str(response.json()["fields"]["approvers"])
    assert state(plan) == before


def test_too_few_approvers_is_400_and_each_approver_counts_once(acme, plan, tree):
    acme.org.approvals_required = 2
    acme.org.save()
    manager = api_client(acme.manager)
    response = act(manager, plan, "submit", {"approvers": [acme.admin.pk, acme.admin.pk]})
    assert response.status_code == 400
    assert "at least 2" in response.json()["fields"]["approvers"][0]

    acme.org.approvals_required = 1
    acme.org.save()
    response = act(manager, plan, "submit", {"approvers": [acme.admin.pk, acme.admin.pk]})
    assert response.status_code == 200, response.json()
    assert list(PlanApprover.objects.filter(plan=plan).values_list("membership", flat=True)) == [
        acme.admin.pk
    ]


def test_unknown_fields_in_a_move_are_400(acme, plan, tree):
    response = act(api_client(acme.manager), plan, "submit", {"status": "approved"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert Plan.objects.get(pk=plan.pk).status == S.DRAFT


def test_withdraw_returns_to_draft_then_to_the_amendment(acme, plan, tree):
    manager = api_client(acme.manager)
    act(manager, plan, "submit")
    assert act(manager, plan, "withdraw").json()["status"] == "draft"
    act(manager, plan, "submit")
    act(api_client(acme.admin), plan, "approve")
    act(manager, plan, "start_amendment")
    act(manager, plan, "submit")
    assert act(manager, plan, "withdraw").json()["status"] == "amending"


# --- Scores -----------------------------------------------------------------------------------------


def test_scores_only_on_a_closed_plan_by_the_owner_or_an_editor(acme, plan, tree):
    _, objective, _ = tree
    objective.owner = acme.member
    objective.save()
    score_url = url("api_objective_score", plan.pk, objective.pk)
    member = api_client(acme.member)

    response = member.put(score_url, {"score": 70})
    assert response.status_code == 409
    set_status(plan, S.CLOSED)

    assert api_client(acme.viewer).put(score_url, {"score": 10}).status_code == 403
    bad = member.put(score_url, {"score": 120})
    assert bad.status_code == 400 and bad.json()["fields"]["score"]
    assert member.put(score_url, {"score": "lots"}).status_code == 400
    assert member.put(score_url, {"reflection": "No score"}).status_code == 400
    assert not ObjectiveScore.objects.exists()

    response = member.put(score_url, {"score": 70})
    assert response.status_code == 200, response.json()
    assert (response.json()["score"], response.json()["reflection"]) == (70, "")
    response = api_client(acme.admin).put(score_url, {"score": 75, "reflection": "Adjusted"})
    assert (response.json()["score"], response.json()["scored_by"]["id"]) == (75, acme.admin.user_id)
    assert ObjectiveScore.objects.count() == 1


# --- The queue and the workload ---------------------------------------------------------------------


def test_the_review_queue_lists_what_waits_for_my_decision(acme, plan, tree):
    PlanFactory(organization=acme.org, status=S.IN_REVIEW, review_round=1)  # not naming the admin
    admin = api_client(acme.admin)
    assert admin.get(url("api_review_queue")).json()["count"] == 0

    act(api_client(acme.manager), plan, "submit", {"approvers": [acme.admin.pk]})
    queue = admin.get(url("api_review_queue")).json()
    assert [(p["id"], p["status"], p["review_round"]) for p in queue["results"]] == [
        (plan.pk, "in_review", 1)
    ]
    assert queue["results"][0]["submitted_by"]["id"] == acme.manager.user_id
    assert api_client(acme.owner).get(url("api_review_queue")).json()["count"] == 0  # not named

    act(admin, plan, "approve")
    assert admin.get(url("api_review_queue")).json()["count"] == 0


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("owner", 200),
        ("admin", 200),
        ("manager", 200),
        ("member", 403),
        ("viewer", 403),
        ("outsider", 404),
        ("anonymous", 403),
    ],
)
@pytest.mark.parametrize("name", ["api_review_queue", "api_workload"])
def test_the_queue_and_the_workload_are_for_managers(acme, other, name, caller, expected):
    response = client_for(acme, other, caller).get(url(name))
    assert response.status_code == expected
    if expected != 200:
        assert set(response.json()) == {"detail", "code", "fields"}


def test_the_workload_counts_open_overdue_and_blocked_steps_per_member(acme, plan, tree):
    _, objective, step = tree
    Plan.objects.filter(pk=plan.pk).update(status=S.ACTIVE)  # only a running plan's steps are overdue
    team = objective.team
    team.members.add(acme.member, acme.admin)
    step.due_date = date(2020, 1, 1)
    step.save()
    StepFactory(objective=objective, assignee=acme.member, status="blocked")
    StepFactory(objective=objective, assignee=acme.member, status="done")

    body = api_client(acme.manager).get(url("api_workload")).json()

    assert body["today"] == timezone.localdate().isoformat()
    sales = next(t for t in body["teams"] if t["id"] == team.pk)
    rows = {m["id"]: (m["open"], m["overdue"], m["blocked"]) for m in sales["members"]}
    assert rows == {acme.member.pk: (2, 1, 1), acme.admin.pk: (0, 0, 0)}


# --- Tenancy ----------------------------------------------------------------------------------------


@pytest.fixture
def globex(other):
    """A closed Globex plan with an objective and a baseline: everything the endpoints could touch."""
    plan = PlanFactory(organization=other.org, owner=other.manager, status=S.CLOSED)
    objective = ObjectiveFactory(milestone=MilestoneFactory(plan=plan), owner=other.manager)
    Baseline.objects.create(
        organization=other.org, plan=plan, number=1, round=1, snapshot={"version": 1, "plan": {}, "nodes": []}
    )
    return plan, objective


def endpoints(plan_id: int, objective_id: int, number: int = 1) -> list[tuple[str, str, dict]]:
    """(method, url, body) for every endpoint that takes a plan id."""
    calls = [
        ("post", url(f"api_plan_{action}", plan_id), BODIES.get(action, {}))
        for action in services.TRANSITIONS
    ]
    return [
        *calls,
        ("get", url("api_plan_review", plan_id), {}),
        ("get", url("api_plan_transitions", plan_id), {}),
        ("get", url("api_baseline_list", plan_id), {}),
        ("get", url("api_baseline_detail", plan_id, number), {}),
        ("get", url("api_baseline_diff", plan_id, number), {}),
        ("get", url("api_objective_score", plan_id, objective_id), {}),
        ("put", url("api_objective_score", plan_id, objective_id), {"score": 50}),
    ]


def test_another_organizations_ids_answer_404(acme, other, globex, plan, tree):
    g_plan, g_objective = globex
    owner = api_client(acme.owner)
    before = state(g_plan)

    for method, target, body in endpoints(g_plan.pk, g_objective.pk):
        response = getattr(owner, method)(target, body)
        assert response.status_code == 404, (target, response.status_code)
        assert response.json()["code"] == "not_found"
    # Acme's plan with Globex's objective, and an objective of another Acme plan.
    _, objective, _ = tree
    set_status(plan, S.CLOSED)
    elsewhere = ObjectiveFactory(milestone=MilestoneFactory(plan=PlanFactory(organization=acme.org)))
    for objective_id in (g_objective.pk, elsewhere.pk):
        assert owner.get(url("api_objective_score", plan.pk, objective_id)).status_code == 404
        assert owner.put(url("api_objective_score", plan.pk, objective_id), {"score": 1}).status_code == 404
    assert owner.get(url("api_objective_score", plan.pk, objective.pk)).status_code == 200
    assert state(g_plan) == before
    assert not ObjectiveScore.objects.exists()


def test_an_outsider_gets_404_everywhere(acme, other, plan, tree):
    set_status(plan, S.CLOSED)
    Baseline.objects.create(organization=acme.org, plan=plan, number=1, round=1, snapshot={})
    outsider = api_client(other.owner)
    before = state(plan)

    for method, target, body in endpoints(plan.pk, tree[1].pk):
        assert getattr(outsider, method)(target, body).status_code == 404, target
    assert state(plan) == before


def test_missing_baselines_are_404_and_a_bad_comparison_400(acme, plan, tree):
    manager = api_client(acme.manager)
    act(manager, plan, "submit")
    act(api_client(acme.admin), plan, "approve")

    assert manager.get(url("api_baseline_detail", plan.pk, 2)).status_code == 404
    assert manager.get(url("api_baseline_diff", plan.pk, 2)).status_code == 404
    assert manager.get(url("api_baseline_diff", plan.pk, 1), {"to": 2}).status_code == 404
    for bad in ("latest", "0", "-1", "1.5"):
        response = manager.get(url("api_baseline_diff", plan.pk, 1), {"to": bad})
        assert response.status_code == 400, bad
        assert "to" in response.json()["fields"]
    assert manager.get(url("api_baseline_diff", plan.pk, 1), {"to": "current"}).status_code == 200
    assert manager.get(url("api_baseline_diff", plan.pk, 1), {"to": 1}).json()["is_empty"] is True


# --- Query counts -----------------------------------------------------------------------------------


def _grow_queue(acme, count: int) -> None:
    """Plans in review naming Acme's admin, each submitted by a different person; every third decided."""
    submitters = [MembershipFactory(organization=acme.org, role="manager") for _ in range(3)]
    plans = [
        PlanFactory(
            organization=acme.org,
            owner=submitters[i % 3],
            status=S.IN_REVIEW,
            review_round=1,
            submitted_by=submitters[i % 3].user,
            submitted_at=timezone.now(),
        )
        for i in range(count)
    ]
    PlanApprover.objects.bulk_create(
        PlanApprover(organization=acme.org, plan=p, round=1, membership=acme.admin) for p in plans
    )
    Approval.objects.bulk_create(
        Approval(organization=acme.org, plan=p, round=1, approver=acme.admin.user, decision="approved")
        for p in plans[::3]
    )


def test_the_review_queue_costs_the_same_queries_as_it_grows(acme, django_assert_max_num_queries):
    client = api_client(acme.admin)
    _grow_queue(acme, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("api_review_queue")).json()["count"] == 1

    _grow_queue(acme, 90)
    with django_assert_max_num_queries(len(small)):
        body = client.get(url("api_review_queue")).json()
    assert body["count"] == 61
    assert len(body["results"]) == 50


def test_the_baseline_list_costs_the_same_queries_as_it_grows(acme, plan, django_assert_max_num_queries):
    client = api_client(acme.viewer)

    def grow(start: int, count: int) -> None:
        Baseline.objects.bulk_create(
            Baseline(organization=acme.org, plan=plan, number=n, round=n, snapshot={"nodes": ["x"] * 500})
            for n in range(start, start + count)
        )

    grow(1, 1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("api_baseline_list", plan.pk)).json()["count"] == 1
    grow(2, 70)
    with django_assert_max_num_queries(len(small)):
        body = client.get(url("api_baseline_list", plan.pk)).json()
    assert (body["count"], body["results"][0]["number"]) == (71, 71)
    listed = [q["sql"] for q in small.captured_queries if 'FROM "planning_baseline"' in q["sql"]]
    assert listed and not any('"snapshot"' in sql for sql in listed)  # snapshots stay in the database


def test_the_history_costs_the_same_queries_as_it_grows(acme, plan, django_assert_max_num_queries):
    client = api_client(acme.viewer)
    people = [MembershipFactory(organization=acme.org).user for _ in range(5)]

    def grow(count: int) -> None:
        PlanTransition.objects.bulk_create(
            PlanTransition(
                organization=acme.org,
                plan=plan,
                action="submit",
                from_status="draft",
                to_status="in_review",
                actor=people[i % 5],
            )
            for i in range(count)
        )

    grow(1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("api_plan_transitions", plan.pk)).json()["count"] == 1
    grow(80)
    with django_assert_max_num_queries(len(small)):
        body = client.get(url("api_plan_transitions", plan.pk)).json()
    assert body["count"] == 81
    assert all(t["actor"]["name"] for t in body["results"])


def test_the_review_costs_the_same_queries_whatever_the_plans_size(acme, django_assert_max_num_queries):
    people = [acme.owner, acme.member, acme.admin]
    client = api_client(acme.admin)

    def reviewed(milestones: int, objectives: int, steps: int) -> Plan:
        plan = PlanFactory(organization=acme.org, owner=acme.manager)
        build_tree(plan, milestones=milestones, objectives=objectives, steps=steps, people=people)
        plan.objectives.update(team=TeamFactory(organization=acme.org), due_date=plan.period_end)
        services.plan_submit(actor=acme.manager, plan=plan)
        services.plan_approve(actor=acme.admin, plan=plan)
        services.plan_start_amendment(actor=acme.manager, plan=plan)
        plan.milestones.update(title="Renamed")  # something to diff
        services.plan_submit(actor=acme.manager, plan=plan)
        return plan

    small = reviewed(1, 2, 2)
    with CaptureQueriesContext(connection) as queries:
        body = review(client, small)
    assert body["diff"]["changes"] and body["readiness"]["ready"]

    big = reviewed(8, 8, 8)
    with django_assert_max_num_queries(len(queries)):
        body = review(client, big)
    assert len(body["diff"]["changes"]) == 8


# --- The schema -------------------------------------------------------------------------------------

DOCUMENTED = {
    **{f"plan_{action}": {"200", "400", "403", "404", "409"} for action in services.TRANSITIONS},
    "plan_review": {"200", "403", "404"},
    "plan_transition_list": {"200", "400", "403", "404"},
    "baseline_list": {"200", "400", "403", "404"},
    "baseline_retrieve": {"200", "403", "404"},
    "baseline_diff": {"200", "400", "403", "404"},
    "objective_score_retrieve": {"200", "403", "404"},
    "objective_score_set": {"200", "400", "403", "404", "409"},
    "review_queue": {"200", "400", "403", "404"},
    "workload": {"200", "403", "404"},
}


def test_the_schema_documents_every_workflow_endpoint_and_its_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        op["operationId"]: op
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/orgs/")
        for op in ops.values()
    }
    for operation_id, codes in DOCUMENTED.items():
        assert set(operations[operation_id]["responses"]) == codes, operation_id
        assert operations[operation_id]["tags"] == ["review"]
    submit = operations["plan_submit"]["requestBody"]["content"]["application/json"]["schema"]
    assert submit == {"$ref": "#/components/schemas/PlanSubmitRequest"}
    enums = schema["components"]["schemas"]
    assert enums["PlanActionEnum"]["enum"] == list(services.TRANSITIONS)
    assert {"ApprovalDecisionEnum", "PlanNodeKindEnum", "BaselineChangeEnum"} <= set(enums)
