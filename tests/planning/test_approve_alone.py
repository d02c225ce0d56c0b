"""A one-person organization may approve its own plans, when its settings allow it: recorded as such,
refused once someone else has joined, never a way around the readiness check."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from bizops import services as core_services
from bizops.models import AuditEvent, Membership
from bizops.roles import Role
from planning import services
from planning.models import Baseline, Plan, PlanStatus, PlanTransition
from tests.conftest import client_for
from tests.factories import MembershipFactory, OrganizationFactory
from tests.planning.factories import api_client


@pytest.fixture
def solo(db) -> Membership:
    """Wren's one-person agency, allowing its owner to approve alone."""
    org = OrganizationFactory(name="Wren Words", slug="wren", solo_approval=True)
    return MembershipFactory(organization=org, role=Role.OWNER)


def ready_plan(owner: Membership, **dates) -> Plan:
    plan = services.plan_create(
        actor=owner,
        title="Wren 2027",
        ultimate_goal="Write for the software companies I admire.",
        period_start=dates.get("start", date(2027, 1, 1)),
        period_end=dates.get("end", date(2027, 12, 31)),
    )
    milestone = services.milestone_create(actor=owner, plan=plan, title="A full diary")
    objective = services.objective_create(
        actor=owner,
        milestone=milestone,
        title="Sign two retainer clients",
        owner=owner,
        start_date=plan.period_start,
        due_date=date(plan.period_start.year, 6, 30),
    )
    services.step_create(actor=owner, objective=objective, title="Pitch three leads a week", assignee=owner)
    return Plan.objects.get(pk=plan.pk)


def review_url(plan: Plan) -> str:
    return reverse("planning:plan_review", args=[plan.organization.slug, plan.pk])


@pytest.mark.django_db
def test_the_lone_owner_approves_alone_and_the_plan_says_so(solo):
    plan = ready_plan(solo)
    client = client_for(solo)
    page = client.get(review_url(plan)).content.decode()
    assert "Nobody here can approve this plan yet" in page and "Approve it alone" in page
    response = client.post(reverse("planning:plan_transition", args=["wren", plan.pk, "approve_alone"]))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.approved_alone and plan.first_approved_at
    assert Baseline.objects.filter(plan=plan, number=1).exists()
    transition = PlanTransition.objects.get(plan=plan, action="approve_alone")
    assert (transition.from_status, transition.to_status) == ("draft", "approved")
    event = AuditEvent.objects.get(organization=solo.organization, kind="plan", action__contains="alone")
    assert event.actor_id == solo.user_id
    shown = client.get(reverse("planning:plan_map", args=["wren", plan.pk])).content.decode()
    assert "approved alone, without a reviewer" in shown
    # Its steps are handed out as with any approval: the owner's My work lists them.
    assert (
        "Pitch three leads a week" in client.get(reverse("planning:my_work", args=["wren"])).content.decode()
    )


@pytest.mark.django_db
def test_a_begun_period_makes_the_plan_active_through_the_api(solo):
    today = date.today()
    plan = ready_plan(solo, start=date(today.year, 1, 1), end=date(today.year, 12, 31))
    response = api_client(solo).post(f"/api/v1/orgs/wren/plans/{plan.pk}/actions/approve_alone/", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active" and response.json()["approved_alone"] is True
    history = client_for(solo).get(review_url(plan)).content.decode()
    assert "Approved alone, without a reviewer" in history


@pytest.mark.django_db
def test_the_setting_off_refuses_and_the_page_points_to_it(solo):
    settings_url = reverse("organization_settings", args=["wren"])
    assert (
        "A one-person organization approves its own plans"
        in client_for(solo).get(settings_url).content.decode()
    )
    core_services.organization_update(actor=solo, organization=solo.organization, solo_approval=False)
    change = AuditEvent.objects.get(organization=solo.organization, kind="organization")
    assert change.changes["solo_approval"] == [True, False]
    plan = ready_plan(solo)
    client = client_for(solo)
    page = client.get(review_url(plan)).content.decode()
    assert "Approve it alone" not in page
    assert reverse("organization_settings", args=["wren"]) in page
    assert (
        api_client(solo).post(f"/api/v1/orgs/wren/plans/{plan.pk}/actions/approve_alone/", {}).status_code
        == 403
    )
    client.post(reverse("planning:plan_transition", args=["wren", plan.pk, "approve_alone"]))
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    assert not Baseline.objects.filter(plan=plan).exists()


@pytest.mark.django_db
def test_once_someone_joins_the_plan_goes_to_a_reviewer(solo):
    plan = ready_plan(solo)
    colleague = MembershipFactory(organization=solo.organization, role=Role.MANAGER)
    client = client_for(solo)
    page = client.get(review_url(plan)).content.decode()
    assert "Approve it alone" not in page and "Submit for review" in page
    response = api_client(solo).post(f"/api/v1/orgs/wren/plans/{plan.pk}/actions/approve_alone/", {})
    assert response.status_code == 409 and "submit the plan for review" in response.json()["detail"]
    followed = client.post(
        reverse("planning:plan_transition", args=["wren", plan.pk, "approve_alone"]), follow=True
    )
    assert "submit the plan for review" in followed.content.decode()
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    # A regular approval afterwards is not "alone".
    services.plan_submit(actor=solo, plan=plan, approvers=[colleague])
    services.plan_approve(actor=colleague, plan=Plan.objects.get(pk=plan.pk))
    assert not Plan.objects.get(pk=plan.pk).approved_alone


@pytest.mark.django_db
def test_blocking_problems_still_block_and_others_get_404(solo, other):
    plan = ready_plan(solo)
    plan.objectives.update(owner=None)  # an objective without an owner blocks a submission
    response = api_client(solo).post(f"/api/v1/orgs/wren/plans/{plan.pk}/actions/approve_alone/", {})
    assert response.status_code == 400
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    outsider = client_for(other.owner)
    assert (
        outsider.post(
            reverse("planning:plan_transition", args=["wren", plan.pk, "approve_alone"])
        ).status_code
        == 404
    )
    assert (
        api_client(other.owner)
        .post(f"/api/v1/orgs/wren/plans/{plan.pk}/actions/approve_alone/", {})
        .status_code
        == 404
    )
