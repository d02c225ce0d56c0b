"""Writes racing transitions and each other, in real threads with their own connections (PostgreSQL).

Each test forces the interleaving that used to go wrong: a transition holds the plan's row while a
write arrives, and the write must wait for it, then decide on the plan as the transition left it.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.db import transaction
from django.urls import reverse

from metrics import services as metrics_services
from metrics.models import KeyResult
from planning import services
from planning.models import ActionStep, Comment, Milestone, Objective, Plan, PlanStatus
from tests.concurrency import run_in_threads, wait_for_lock_waiters
from tests.conftest import client_for

# Races between connections, ordered by PostgreSQL's row locks (SQLite has none: select_for_update is a no-op).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def hold(transition, release: threading.Event, holding: threading.Event):
    """A target that runs ``transition`` in a transaction and keeps it open until ``release``."""

    def run():
        with transaction.atomic():
            transition()
            holding.set()
            assert release.wait(20), "never released"

    return run


def release_when_waited_on(release: threading.Event, waiters: int = 1):
    def run():
        wait_for_lock_waiters(waiters)
        release.set()

    return run


def api(client, method: str, url: str, body: dict | None = None, **headers):
    return getattr(client, method)(
        url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def test_a_patch_waiting_for_a_submit_is_refused_and_saves_nothing(acme, plan, tree):
    _, objective, _ = tree
    holding, release = threading.Event(), threading.Event()
    client = client_for(acme.manager)
    url = reverse("planning_api:api_objective_detail", args=[acme.org.slug, objective.pk])

    def patch():
        assert holding.wait(10)
        return api(client, "patch", url, {"title": "Slipped in during review"})

    submit = hold(
        lambda: services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin]), release, holding
    )
    _, response, _ = run_in_threads(submit, patch, release_when_waited_on(release))
    assert response.status_code == 409, response.content
    assert "in review" in response.json()["detail"]
    assert Objective.objects.get(pk=objective.pk).title == objective.title
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.IN_REVIEW


def test_an_assignees_done_waiting_for_a_close_is_refused(acme, plan, tree):
    _, _, step = tree
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE)
    holding, release = threading.Event(), threading.Event()
    client = client_for(acme.member)  # the step's assignee
    url = reverse("planning_api:api_step_status", args=[acme.org.slug, step.pk])

    def done():
        assert holding.wait(10)
        return api(client, "post", url, {"status": "done"})

    close = hold(lambda: services.plan_close(actor=acme.manager, plan=plan), release, holding)
    _, response, _ = run_in_threads(close, done, release_when_waited_on(release))
    assert response.status_code == 409, response.content
    assert ActionStep.objects.get(pk=step.pk).status == "todo"


def test_a_comment_waiting_for_a_close_is_refused(acme, plan, tree):
    milestone, _, _ = tree
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE)
    holding, release = threading.Event(), threading.Event()

    def comment():
        assert holding.wait(10)
        fresh = Plan.objects.get(pk=plan.pk)  # read before the close commits: still active
        try:
            services.comment_create(
                actor=acme.member, plan=fresh, node_kind="milestone", node=milestone, body="Late word"
            )
        except Exception as exc:
            return type(exc).__name__
        return "saved"

    close = hold(lambda: services.plan_close(actor=acme.manager, plan=plan), release, holding)
    _, outcome, _ = run_in_threads(close, comment, release_when_waited_on(release))
    assert outcome == "Conflict"
    assert not Comment.objects.exists()


def test_a_key_result_edit_waiting_for_a_submit_is_refused(acme, plan, key_result):
    holding, release = threading.Event(), threading.Event()

    def edit():
        assert holding.wait(10)
        try:
            metrics_services.key_result_update(
                actor=acme.manager, key_result=key_result, version=None, target=3
            )
        except Exception as exc:
            return type(exc).__name__
        return "saved"

    submit = hold(
        lambda: services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin]), release, holding
    )
    _, outcome, _ = run_in_threads(submit, edit, release_when_waited_on(release))
    assert outcome == "Conflict"
    assert KeyResult.objects.get(pk=key_result.pk).target == 5


def test_fifty_moves_sent_with_one_etag_give_exactly_one_success(acme, plan):
    milestones = [services.milestone_create(actor=acme.manager, plan=plan, title=f"M{i}") for i in range(4)]
    last = milestones[-1]
    etag = f'"v{Milestone.objects.get(pk=last.pk).version}"'
    url = reverse("planning_api:api_milestone_move", args=[acme.org.slug, last.pk])
    clients = [client_for(acme.manager) for _ in range(50)]
    start = threading.Barrier(50)

    def move(client):
        def run():
            start.wait(10)
            return api(client, "post", url, {"position": 0}, **{"If-Match": etag}).status_code

        return run

    statuses = run_in_threads(*(move(c) for c in clients), timeout=60)
    assert sorted(statuses) == [200] + [412] * 49
    positions = list(Milestone.objects.filter(plan=plan).order_by("position").values_list("position", "pk"))
    assert [p for p, _ in positions] == list(range(5))
    assert positions[0][1] == last.pk


def test_a_delete_racing_a_move_gives_no_500_and_no_gap(acme, plan, tree):
    """The objective is moved to another milestone while its delete waits (sent with the old copy,
    whose parent was the first milestone); then the reverse order, a move waiting for a delete."""
    first, objective, _ = tree
    second = services.milestone_create(actor=acme.manager, plan=plan, title="Second")
    for i in range(3):
        services.objective_create(actor=acme.manager, milestone=second, title=f"O{i}")
    client = client_for(acme.manager)
    holding, release = threading.Event(), threading.Event()
    stale = Objective.objects.get(pk=objective.pk)

    def delete():
        assert holding.wait(10)
        url = reverse("planning_api:api_objective_detail", args=[acme.org.slug, stale.pk])
        return api(client, "delete", url, **{"If-Match": "*"}).status_code

    move = hold(
        lambda: services.node_move(actor=acme.manager, node=stale, parent=second, position=0),
        release,
        holding,
    )
    _, status, _ = run_in_threads(move, delete, release_when_waited_on(release))
    assert status == 204
    for milestone in (first, second):
        positions = list(
            Objective.objects.filter(milestone=milestone).order_by("position").values_list("position")
        )
        assert [p for (p,) in positions] == list(range(len(positions)))

    # A move waiting for the delete of the node it moves: 404, not a 500.
    victim = Objective.objects.filter(milestone=second).order_by("position").first()
    holding, release = threading.Event(), threading.Event()

    def late_move():
        assert holding.wait(10)
        url = reverse("planning_api:api_objective_move", args=[acme.org.slug, victim.pk])
        return api(client, "post", url, {"position": 2}, **{"If-Match": "*"}).status_code

    remove = hold(lambda: services.node_delete(actor=acme.manager, node=victim), release, holding)
    _, status, _ = run_in_threads(remove, late_move, release_when_waited_on(release))
    assert status == 404
    positions = list(Objective.objects.filter(milestone=second).order_by("position").values_list("position"))
    assert [p for (p,) in positions] == list(range(len(positions)))


def test_an_edit_of_a_node_deleted_meanwhile_is_a_404(acme, plan, tree):
    _, _, step = tree
    client = client_for(acme.manager)
    holding, release = threading.Event(), threading.Event()

    def patch():
        assert holding.wait(10)
        url = reverse("planning_api:api_step_detail", args=[acme.org.slug, step.pk])
        return api(client, "patch", url, {"title": "Renamed"}).status_code

    remove = hold(lambda: services.node_delete(actor=acme.manager, node=step), release, holding)
    _, status, _ = run_in_threads(remove, patch, release_when_waited_on(release))
    assert status == 404


def test_a_step_created_under_an_objective_deleted_meanwhile_is_a_404(acme, plan, tree):
    _, objective, _ = tree
    client = client_for(acme.manager)
    holding, release = threading.Event(), threading.Event()

    def create():
        assert holding.wait(10)
        url = reverse("planning_api:api_step_list", args=[acme.org.slug])
        return api(client, "post", url, {"objective": objective.pk, "title": "Orphan"}).status_code

    remove = hold(lambda: services.node_delete(actor=acme.manager, node=objective), release, holding)
    _, status, _ = run_in_threads(remove, create, release_when_waited_on(release))
    assert status in (400, 404)
    assert not ActionStep.objects.filter(title="Orphan").exists()
