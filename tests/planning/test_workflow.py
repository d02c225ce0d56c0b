"""The plan's life cycle: every state × action × role, self-approval, baselines, delegation, close."""

import threading
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bizops.errors import Conflict, ValidationError
from planning import services
from planning.baselines import diff, snapshot
from planning.models import Approval, Baseline, ObjectiveScore, Plan, PlanStatus, PlanTransition
from planning.selectors import content_tree, review_queue
from tests.concurrency import run_in_threads
from tests.factories import MembershipFactory

S = PlanStatus


def submit(acme, plan, by=None, approvers=None):
    """Submit, then refresh the caller's instance (services lock and return their own copy)."""
    result = services.plan_submit(actor=by or acme.manager, plan=plan, approvers=approvers)
    plan.refresh_from_db()
    return result


def set_status(plan, status, **fields):
    Plan.objects.filter(pk=plan.pk).update(status=status, **fields)
    plan.refresh_from_db()
    return plan


ACTIONS = {
    "submit": lambda acme, plan, who: services.plan_submit(actor=who, plan=plan),
    "withdraw": lambda acme, plan, who: services.plan_withdraw(actor=who, plan=plan),
    "approve": lambda acme, plan, who: services.plan_approve(actor=who, plan=plan),
    "request_changes": lambda acme, plan, who: services.plan_request_changes(
        actor=who, plan=plan, comment="Tighten it"
    ),
    "revise": lambda acme, plan, who: services.plan_revise(actor=who, plan=plan),
    "activate": lambda acme, plan, who: services.plan_activate(actor=who, plan=plan),
    "close": lambda acme, plan, who: services.plan_close(actor=who, plan=plan),
    "start_amendment": lambda acme, plan, who: services.plan_start_amendment(actor=who, plan=plan),
}


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S.values))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_state_and_action(acme, plan, status, action):
    """An action outside its table of states is a conflict and changes nothing; inside it, it moves."""
    if status == S.IN_REVIEW:
        submit(acme, plan, by=acme.owner)  # a real round, submitted by the owner, reviewed by the manager
    else:
        set_status(plan, status)
    actor = acme.owner if action == "withdraw" else acme.manager
    sources, _ = services.TRANSITIONS[action]
    before = plan.status
    if status not in sources:
        with pytest.raises(Conflict):
            ACTIONS[action](acme, plan, actor)
        plan.refresh_from_db()
        assert plan.status == before
        return
    ACTIONS[action](acme, plan, actor)
    plan.refresh_from_db()
    assert plan.status != before
    assert PlanTransition.objects.filter(plan=plan, action=action).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "submit_ok", "approve_ok"),
    [
        ("owner", True, True),
        ("admin", True, True),
        ("manager", True, True),
        ("member", False, False),
        ("viewer", False, False),
    ],
)
def test_who_submits_and_who_approves(acme, plan, role, submit_ok, approve_ok):
    actor = acme.member_of(role)
    if submit_ok:
        submit(acme, plan, by=actor)
        assert plan.status == S.IN_REVIEW
    else:
        with pytest.raises(PermissionDenied):
            submit(acme, plan, by=actor)
        submit(acme, plan, by=acme.owner if role != "owner" else acme.admin)
    plan.refresh_from_db()
    if role in ("owner", "admin", "manager") and plan.submitted_by_id == actor.user_id:
        with pytest.raises(PermissionDenied, match="own submission"):
            services.plan_approve(actor=actor, plan=plan)
        return
    if approve_ok:
        services.plan_approve(actor=actor, plan=plan)
        plan.refresh_from_db()
        assert plan.status == S.APPROVED
    else:
        with pytest.raises(PermissionDenied):
            services.plan_approve(actor=actor, plan=plan)


@pytest.mark.django_db
def test_readiness_blocks_submission_and_lists_problems(acme, plan, tree):
    _, objective, step = tree
    objective.owner = None
    objective.save()
    step.assignee = None
    step.save()
    with pytest.raises(ValidationError, match="2 blocking"):
        submit(acme, plan)
    plan.refresh_from_db()
    assert plan.status == S.DRAFT


@pytest.mark.django_db
def test_not_enough_approvers_is_a_clear_error(acme, plan):
    acme.org.approvals_required = 3
    acme.org.save()
    with pytest.raises(ValidationError, match="name at least 3"):
        submit(acme, plan, approvers=[acme.owner])


@pytest.mark.django_db
def test_two_approvals_needed_and_baseline_frozen_with_delegation_emails(
    acme, plan, tree, mailoutbox, django_capture_on_commit_callbacks
):
    acme.org.approvals_required = 2
    acme.org.save()
    with django_capture_on_commit_callbacks(execute=True):
        submit(acme, plan)
    approvers_told = {m.to[0] for m in mailoutbox}
    assert approvers_told == {acme.owner.user.email, acme.admin.user.email}  # not the submitting manager
    mailoutbox.clear()
    assert list(review_queue(membership=acme.admin)) == [plan]
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_approve(actor=acme.admin, plan=plan, comment="Good")
    plan.refresh_from_db()
    assert plan.status == S.IN_REVIEW and not Baseline.objects.exists()
    assert list(review_queue(membership=acme.admin)) == []
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_approve(actor=acme.owner, plan=plan)
    plan.refresh_from_db()
    assert plan.status == S.APPROVED
    baseline = Baseline.objects.get(plan=plan)
    assert [n["fields"]["title"] for n in baseline.snapshot["nodes"]] == [
        "Build a pipeline",
        "Close five clients a month",
        "Reach out to leads",
    ]
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects[acme.member.user.email] == "You have 1 new step in Growth 2027"
    assert "approved" in subjects[acme.manager.user.email]


@pytest.mark.django_db
def test_an_approver_decides_once(acme, plan):
    acme.org.approvals_required = 2
    acme.org.save()
    submit(acme, plan)
    services.plan_approve(actor=acme.admin, plan=plan)
    with pytest.raises(Conflict, match="already decided"):
        services.plan_approve(actor=acme.admin, plan=plan)


@pytest.mark.django_db
def test_request_changes_needs_a_comment_then_the_plan_can_be_fixed_and_resubmitted(acme, plan, tree):
    submit(acme, plan)
    with pytest.raises(ValidationError):
        services.plan_request_changes(actor=acme.admin, plan=plan, comment="  ")
    services.plan_request_changes(actor=acme.admin, plan=plan, comment="Add a measure")
    plan.refresh_from_db()
    assert plan.status == S.CHANGES_REQUESTED
    milestone, _, _ = tree
    milestone.plan = plan
    services.node_update(
        actor=acme.manager, node=milestone, version=None, title="Build a predictable pipeline"
    )
    submit(acme, plan)
    plan.refresh_from_db()
    assert plan.review_round == 2
    services.plan_approve(actor=acme.admin, plan=plan)
    plan.refresh_from_db()
    assert plan.status == S.APPROVED


@pytest.mark.django_db
def test_amendment_is_reviewed_again_and_diffed_against_the_baseline(acme, plan, tree):
    submit(acme, plan)
    services.plan_approve(actor=acme.admin, plan=plan)
    services.plan_activate(actor=acme.manager, plan=plan)
    plan.refresh_from_db()
    milestone, objective, step = tree
    with pytest.raises(Conflict):
        services.milestone_create(actor=acme.manager, plan=plan, title="Locked")
    services.plan_start_amendment(actor=acme.manager, plan=plan)
    plan.refresh_from_db()
    for node in (milestone, objective, step):
        node.plan = plan
    services.milestone_create(actor=acme.manager, plan=plan, title="Hire a writer")
    services.node_update(actor=acme.manager, node=objective, version=None, title="Close six clients a month")
    services.node_delete(actor=acme.manager, node=step)
    baseline = Baseline.objects.get(plan=plan)
    changes = diff(baseline.snapshot, snapshot(content_tree(plan=plan)))
    kinds = {(c.change, c.title) for c in changes.changes}
    assert ("added", "Hire a writer") in kinds
    assert ("removed", "Reach out to leads") in kinds
    assert ("changed", "Close six clients a month") in kinds
    changed = next(c for c in changes.changes if c.change == "changed")
    assert changed.fields == {"title": ["Close five clients a month", "Close six clients a month"]}
    submit(acme, plan)
    services.plan_approve(actor=acme.admin, plan=plan)
    plan.refresh_from_db()
    assert plan.status == S.ACTIVE  # an amendment of an active plan returns to active
    assert list(Baseline.objects.filter(plan=plan).order_by("number").values_list("number", flat=True)) == [
        1,
        2,
    ]
    # The first baseline is unchanged: anyone can see the plan as first approved.
    assert len(Baseline.objects.get(plan=plan, number=1).snapshot["nodes"]) == 3


@pytest.mark.django_db
def test_moves_are_detected_in_the_diff(acme, plan, tree):
    _milestone, objective, _ = tree
    before = snapshot(content_tree(plan=plan))
    other = services.milestone_create(actor=acme.manager, plan=plan, title="Reputation")
    objective.plan = plan
    services.node_move(actor=acme.manager, node=objective, parent=other)
    changes = diff(before, snapshot(content_tree(plan=plan)))
    moved = [c for c in changes.changes if c.change == "moved"]
    assert len(moved) == 1 and "to “Reputation”" in moved[0].detail


@pytest.mark.django_db
def test_withdraw_only_by_the_submitter(acme, plan):
    submit(acme, plan)
    with pytest.raises(PermissionDenied):
        services.plan_withdraw(actor=acme.admin, plan=plan)
    services.plan_withdraw(actor=acme.manager, plan=plan)
    plan.refresh_from_db()
    assert plan.status == S.DRAFT


@pytest.mark.django_db
def test_close_asks_owners_for_scores_and_the_plan_becomes_read_only(
    acme, plan, tree, mailoutbox, django_capture_on_commit_callbacks
):
    submit(acme, plan)
    services.plan_approve(actor=acme.admin, plan=plan)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_close(actor=acme.manager, plan=plan)
    plan.refresh_from_db()
    assert plan.status == S.CLOSED and plan.closed_at
    assert any("Score your objectives" in m.subject for m in mailoutbox)
    _, objective, step = tree
    step.plan = plan
    with pytest.raises(Conflict, match="closed"):
        services.step_set_status(actor=acme.member, step=step, status="done")
    services.objective_score_set(
        actor=acme.manager, objective=objective, score=80, reflection="Close, not quite"
    )
    assert ObjectiveScore.objects.get(objective=objective).score == 80
    with pytest.raises(ValidationError):
        services.objective_score_set(actor=acme.manager, objective=objective, score=120)
    with pytest.raises(PermissionDenied):
        services.objective_score_set(actor=acme.viewer, objective=objective, score=10)


@pytest.mark.postgres  # rows locked by one connection and waited for by another: PostgreSQL's locks
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_the_same_moment_are_both_recorded(acme, plan):
    """Real threads and connections: with two approvals needed, both land and the plan is approved once."""
    acme.org.approvals_required = 2
    acme.org.save()
    submit(acme, plan)
    barrier = threading.Barrier(2)

    def approve(membership):
        def target():
            barrier.wait(timeout=5)
            services.plan_approve(actor=membership, plan=Plan.objects.get(pk=plan.pk))

        return target

    run_in_threads(approve(acme.owner), approve(acme.admin))
    plan.refresh_from_db()
    assert plan.status == S.APPROVED
    assert Approval.objects.filter(plan=plan, decision="approved").count() == 2
    assert Baseline.objects.filter(plan=plan).count() == 1
    assert PlanTransition.objects.filter(plan=plan, action="approve", to_status=S.APPROVED).count() == 1


@pytest.mark.django_db
def test_review_pages_and_the_queue_over_http(acme, clients, plan, tree):
    review = reverse("planning:plan_review", args=[acme.org.slug, plan.pk])
    page = clients["manager"].get(review).content.decode()
    assert "No blocking problems" in page and "Submit for review" in page
    response = clients["manager"].post(
        reverse("planning:plan_transition", args=[acme.org.slug, plan.pk, "submit"]),
        {"approvers": [acme.admin.pk]},
    )
    assert response.status_code == 302
    nav = clients["admin"].get(reverse("planning:org_home", args=[acme.org.slug])).content.decode()
    assert "Waiting for me" in nav and 'aria-label="1 plan waiting"' in nav
    queue = clients["admin"].get(reverse("planning:review_queue", args=[acme.org.slug])).content.decode()
    assert "Growth 2027" in queue
    assert "Approve the plan" in clients["admin"].get(review).content.decode()
    assert "Approve the plan" not in clients["manager"].get(review).content.decode()
    # A member cannot approve over HTTP either; an invalid move shows a message and changes nothing.
    assert (
        clients["member"]
        .post(reverse("planning:plan_transition", args=[acme.org.slug, plan.pk, "approve"]))
        .status_code
        == 403
    )
    bad = clients["manager"].post(
        reverse("planning:plan_transition", args=[acme.org.slug, plan.pk, "activate"]), follow=True
    )
    assert "cannot be activated" in bad.content.decode()
    clients["admin"].post(
        reverse("planning:plan_transition", args=[acme.org.slug, plan.pk, "approve"]), {"comment": "Go"}
    )
    plan.refresh_from_db()
    assert plan.status == S.APPROVED
    baseline_page = clients["viewer"].get(
        reverse("planning:baseline_detail", args=[acme.org.slug, plan.pk, 1])
    )
    assert baseline_page.status_code == 200 and "Reach out to leads" in baseline_page.content.decode()
    assert (
        clients["outsider"]
        .get(reverse("planning:baseline_detail", args=[acme.org.slug, plan.pk, 1]))
        .status_code
        == 404
    )


@pytest.mark.django_db
def test_workload_counts_open_and_overdue_steps_per_member(
    acme, clients, plan, tree, django_assert_max_num_queries
):
    from tests.factories import TeamFactory

    _, objective, step = tree
    step.due_date = date(2027, 1, 10)
    step.save()
    team = objective.team
    team.members.add(acme.member)
    url = reverse("planning:workload", args=[acme.org.slug])
    assert clients["member"].get(url).status_code == 403
    html = clients["manager"].get(url).content.decode()
    assert acme.member.user.display_name in html
    with django_assert_max_num_queries(14) as captured:
        clients["manager"].get(url)
    for _ in range(10):
        t = TeamFactory(organization=acme.org)
        t.members.add(*MembershipFactory.create_batch(3, organization=acme.org))
    with django_assert_max_num_queries(len(captured.captured_queries)):
        clients["manager"].get(url)
