"""The first hour of a new team: sign-up, the first plan, and submitting it when nobody else can
approve yet (issue 18). Each test checks what the person sees: the page, the saved rows, the email."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from bizops import services as core_services
from bizops.models import Invitation, User
from planning import services as planning_services
from planning.models import PlanStatus

from .factories import MembershipFactory

STRONG = "a-long-unusual-passphrase"


def lone_owner_with_ready_plan():
    """A new organization whose only person is its owner, and a plan that passes the readiness check."""
    user, org = core_services.user_signup(
        email="founder@example.com", display_name="Fran Founder", password=STRONG, organization_name="Quill"
    )
    owner = org.memberships.get()
    plan = planning_services.plan_create(
        actor=owner,
        title="Copy 2027",
        ultimate_goal="Five new clients a month.",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 3, 31),
    )
    milestone = planning_services.milestone_create(actor=owner, plan=plan, title="Pipeline")
    objective = planning_services.objective_create(
        actor=owner, milestone=milestone, title="Close clients", owner=owner, due_date=date(2027, 3, 31)
    )
    planning_services.step_create(actor=owner, objective=objective, title="Call leads", assignee=owner)
    client = Client()
    client.force_login(user)
    return org, owner, plan, client


@pytest.mark.django_db
def test_a_lone_owner_is_told_why_no_approver_can_be_chosen_and_invites_one_in_place(
    mailoutbox, django_capture_on_commit_callbacks
):
    org, owner, plan, client = lone_owner_with_ready_plan()
    review_url = reverse("planning:plan_review", args=[org.slug, plan.pk])

    page = client.get(review_url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Nobody here can approve this plan yet" in body
    assert "Invite an approver" in body
    assert "Submit for review" not in body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("planning:plan_invite_approver", args=[org.slug, plan.pk]),
            {"email": "Mia@Example.com", "role": "manager"},
        )
    assert response.status_code == 302
    assert response["Location"].startswith(review_url)
    invitation = Invitation.objects.get(organization=org)
    assert (invitation.email, invitation.role, invitation.invited_by_id) == (
        "mia@example.com",
        "manager",
        owner.user_id,
    )
    assert [m.to for m in mailoutbox] == [["mia@example.com"]]
    assert "/invite/" in mailoutbox[0].body

    after = client.get(review_url).content.decode()
    assert "Invitation sent to mia@example.com" in after
    assert "Invited, not joined yet: mia@example.com (manager)" in after


@pytest.mark.django_db
def test_once_a_manager_joins_the_owner_submits_to_them():
    org, _owner, plan, client = lone_owner_with_ready_plan()
    manager = MembershipFactory(organization=org, role="manager")
    page = client.get(reverse("planning:plan_review", args=[org.slug, plan.pk])).content.decode()
    assert "Nobody here can approve" not in page
    assert "Submit for review" in page
    response = client.post(
        reverse("planning:plan_transition", args=[org.slug, plan.pk, "submit"]), {"approvers": [manager.pk]}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_REVIEW


@pytest.mark.django_db
def test_submitting_with_nobody_to_approve_says_why_not_this_field_is_required():
    org, _owner, plan, client = lone_owner_with_ready_plan()
    response = client.post(
        reverse("planning:plan_transition", args=[org.slug, plan.pk, "submit"]), follow=True
    )
    body = response.content.decode()
    assert "Nobody here can approve this plan yet" in body
    assert "This field is required" not in body
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


@pytest.mark.django_db
def test_the_in_place_invitation_shows_its_errors_at_the_field(mailoutbox):
    org, _owner, plan, client = lone_owner_with_ready_plan()
    response = client.post(
        reverse("planning:plan_invite_approver", args=[org.slug, plan.pk]),
        {"email": "founder@example.com", "role": "member"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "founder@example.com is already a member of Quill" not in body  # the role is wrong first
    assert "Select a valid choice" in body
    response = client.post(
        reverse("planning:plan_invite_approver", args=[org.slug, plan.pk]),
        {"email": "founder@example.com", "role": "admin"},
    )
    assert response.status_code == 400
    assert "founder@example.com is already a member of Quill." in response.content.decode()
    assert not Invitation.objects.filter(organization=org).exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_only_those_who_invite_may_invite_an_approver_from_the_review_page(acme, clients, plan):
    url = reverse("planning:plan_invite_approver", args=[acme.org.slug, plan.pk])
    assert clients["manager"].post(url, {"email": "x@example.com", "role": "manager"}).status_code == 403
    assert clients["outsider"].post(url, {"email": "x@example.com", "role": "manager"}).status_code == 404
    assert not Invitation.objects.filter(email="x@example.com").exists()
    assert User.objects.filter(email="x@example.com").count() == 0


# --- Sign-up ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_shows_every_error_at_its_field_at_once_and_keeps_what_was_typed(client):
    User.objects.create_user(email="taken@example.com", password=STRONG, display_name="Taken")
    response = client.post(
        reverse("signup"),
        {
            "display_name": "Fran Founder",
            "email": "taken@example.com",
            "password": "12345678",
            "organization_name": "",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["organization_name"] == ["This field is required."]
    assert form.errors["email"] == ["An account with this email exists already. Log in instead."]
    assert "This password is too common." in form.errors["password"]
    assert "This password is entirely numeric." in form.errors["password"]
    assert not form.non_field_errors()
    body = response.content.decode()
    # Each message sits in the field's own error line, the entered values are kept, the password is not.
    assert 'id="id_password_error">This password is too common.' in body
    assert 'value="Fran Founder"' in body
    assert 'value="taken@example.com"' in body
    assert "12345678" not in body
    assert '<option value="Europe/Berlin" selected>Berlin</option>' in body
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_sign_up_marks_required_fields_and_offers_canonical_zones_grouped_by_region(client):
    body = client.get(reverse("signup")).content.decode()
    assert body.count('<span class="req" aria-hidden="true">*</span>') == 5
    assert '<optgroup label="Europe">' in body
    assert '<option value="Europe/London">London</option>' in body
    assert '<option value="UTC" selected>UTC</option>' in body
    assert "GB-Eire" not in body and "US/Eastern" not in body and "Etc/GMT" not in body
    # The browser's zone is preset by the project's own script, on a new form only.
    assert "data-timezone-preset" in body
    assert "js/timezone.js" in body


@pytest.mark.django_db
def test_sign_up_with_a_good_password_creates_the_account_in_the_chosen_zone(client):
    response = client.post(
        reverse("signup"),
        {
            "display_name": "Fran Founder",
            "email": "Fran@Example.com",
            "password": STRONG,
            "organization_name": "Quill",
            "time_zone": "America/Argentina/Buenos_Aires",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="fran@example.com")
    assert user.time_zone == "America/Argentina/Buenos_Aires"
    assert user.memberships.get().organization.time_zone == "America/Argentina/Buenos_Aires"


@pytest.mark.django_db
def test_a_profile_saved_with_an_old_alias_zone_still_saves(client):
    from bizops.forms import ProfileForm

    assert ProfileForm({"display_name": "Old", "time_zone": "US/Eastern"}).is_valid()
    assert not ProfileForm({"display_name": "Old", "time_zone": "Mars/Olympus"}).is_valid()


@pytest.mark.django_db
def test_after_a_failed_sign_up_the_chosen_zone_is_not_preset_again(client):
    response = client.post(reverse("signup"), {"display_name": "F", "time_zone": "UTC"})
    body = response.content.decode()
    assert "data-timezone-preset" not in body
    assert '<option value="UTC" selected>UTC</option>' in body


# --- A new plan -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (date(2026, 12, 5), date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 1, 1), date(2027, 4, 1), date(2027, 6, 30)),
        (date(2027, 5, 31), date(2027, 7, 1), date(2027, 9, 30)),
        (date(2027, 9, 30), date(2027, 10, 1), date(2027, 12, 31)),
    ],
)
def test_next_quarter(today, start, end):
    from planning.forms import next_quarter

    assert next_quarter(today) == (start, end)


@pytest.mark.django_db
def test_a_new_plan_is_dated_the_next_quarter_and_marks_what_it_needs(acme, clients):
    from django.utils import timezone

    from planning.forms import next_quarter

    start, end = next_quarter(timezone.localdate())
    body = clients["manager"].get(reverse("planning:plan_create", args=[acme.org.slug])).content.decode()
    assert f'name="period_start" value="{start.isoformat()}"' in body
    assert f'name="period_end" value="{end.isoformat()}"' in body
    goal_label = body.split('for="id_ultimate_goal"', 1)[1].split("</label>", 1)[0]
    assert '<span class="req" aria-hidden="true">*</span>' in goal_label
    description_label = body.split('for="id_description"', 1)[1].split("</label>", 1)[0]
    assert 'class="req"' not in description_label


@pytest.mark.django_db
def test_a_blank_plan_without_a_goal_says_so_at_the_field_and_the_template_needs_none(acme, clients):
    from planning.models import Plan

    url = reverse("planning:plan_create", args=[acme.org.slug])
    data = {"start_from": "blank", "title": "Q1", "period_start": "2027-01-01", "period_end": "2027-03-31"}
    response = clients["manager"].post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["ultimate_goal"] == [
        "Write the ultimate goal: the vision this plan serves."
    ]
    assert 'value="Q1"' in response.content.decode()
    assert not Plan.objects.filter(organization=acme.org).exists()

    response = clients["manager"].post(url, {**data, "start_from": "template"})
    assert response.status_code == 302
    assert Plan.objects.get(organization=acme.org).ultimate_goal


@pytest.mark.django_db
def test_the_templates_steps_go_to_the_people_chosen_on_the_new_plan_form(acme, other, clients):
    from planning.models import ActionStep, Plan
    from planning.readiness import plan_readiness
    from planning.selectors import content_tree

    url = reverse("planning:plan_create", args=[acme.org.slug])
    data = {"start_from": "template", "title": "Q1", "period_start": "2027-01-01", "period_end": "2027-03-31"}
    # Someone of another organization is not a choice: the form says so and nothing is created.
    refused = clients["manager"].post(url, {**data, "assignees": [other.member.pk]})
    assert refused.status_code == 400 and refused.context["form"].errors["assignees"]
    assert not Plan.objects.filter(organization=acme.org).exists()
    response = clients["manager"].post(url, {**data, "assignees": [acme.member.pk, acme.manager.pk]})
    assert response.status_code == 302
    plan = Plan.objects.get(organization=acme.org)
    assignees = list(
        ActionStep.objects.filter(plan=plan).order_by("pk").values_list("assignee_id", flat=True)
    )
    # Shared in turn, every step someone's: the readiness check has nothing to block on.
    assert assignees[0] != assignees[1] and None not in assignees
    assert set(assignees) == {acme.member.pk, acme.manager.pk}
    assert plan_readiness(content_tree(plan=plan)).ready


# --- Getting started --------------------------------------------------------------------------------


def checklist_items(body: str) -> dict[str, bool]:
    """Each checklist line's link text, and whether it is ticked."""
    import re

    section = body.split('id="getting-started-h"', 1)[1].split("</section>", 1)[0]
    return {
        label: "--done" in classes
        for classes, label in re.findall(
            r'class="checklist__item([^"]*)">.*?<a href="[^"]*">([^<]+)</a>', section, re.S
        )
    }


@pytest.mark.django_db
def test_a_new_organization_sees_its_first_steps_ticked_as_they_are_done(mailoutbox):
    org, owner, plan, client = lone_owner_with_ready_plan()
    home = reverse("planning:org_home", args=[org.slug])
    body = client.get(home).content.decode()
    assert checklist_items(body) == {
        "Invite an approver (a manager or admin)": False,
        "Create a team": False,
        "Start the plan from the template": True,
        "Submit it for review": False,
        "Record the first check-in": False,
    }
    assert "1 of 5 done" in body
    # Each line links to where it is done.
    assert f'href="{reverse("planning:plan_review", args=[org.slug, plan.pk])}#ready-h"' in body
    assert f'href="{reverse("planning:plan_create", args=[org.slug])}?start_from=template"' in body

    core_services.invitation_create(actor=owner, email="mia@example.com", role="manager")
    core_services.team_create(actor=owner, name="Writers")
    items = checklist_items(client.get(home).content.decode())
    assert items["Invite an approver (a manager or admin)"] is True
    assert items["Create a team"] is True
    assert items["Submit it for review"] is False


@pytest.mark.django_db
def test_the_checklist_can_be_hidden_for_good_and_only_owners_and_admins_see_it(acme, clients):
    home = reverse("planning:org_home", args=[acme.org.slug])
    assert "Getting started" in clients["owner"].get(home).content.decode()
    assert "Getting started" not in clients["member"].get(home).content.decode()

    response = clients["owner"].post(reverse("planning:getting_started_dismiss", args=[acme.org.slug]))
    assert response.status_code == 302
    acme.owner.refresh_from_db()
    assert acme.owner.getting_started_dismissed_at is not None
    assert "Getting started" not in clients["owner"].get(home).content.decode()
    # Hidden for the one who hid it; the admin still sees theirs.
    assert "Getting started" in clients["admin"].get(home).content.decode()
    assert (
        clients["outsider"]
        .post(reverse("planning:getting_started_dismiss", args=[acme.org.slug]))
        .status_code
        == 404
    )


@pytest.mark.django_db
def test_the_overview_with_its_checklist_keeps_a_flat_query_count(
    acme, clients, django_assert_max_num_queries
):
    from .factories import TeamFactory, make_plan

    home = reverse("planning:org_home", args=[acme.org.slug])
    make_plan(acme.org, acme.owner, milestones=1, objectives=1, steps=1)
    with django_assert_max_num_queries(60) as captured:
        assert "Getting started" in clients["owner"].get(home).content.decode()
    count = len(captured)
    for i in range(15):
        make_plan(acme.org, acme.owner, milestones=2, objectives=2, steps=2, title=f"Plan {i}")
        TeamFactory(organization=acme.org)
    with django_assert_max_num_queries(count):
        assert "Getting started" in clients["owner"].get(home).content.decode()


@pytest.mark.django_db
def test_submitting_and_the_first_check_in_tick_the_last_steps_and_then_the_list_goes(
    django_capture_on_commit_callbacks,
):
    from metrics import services as metrics_services

    org, owner, plan, client = lone_owner_with_ready_plan()
    manager = MembershipFactory(organization=org, role="manager")
    core_services.team_create(actor=owner, name="Writers")
    home = reverse("planning:org_home", args=[org.slug])
    with django_capture_on_commit_callbacks(execute=True):
        planning_services.plan_submit(actor=owner, plan=plan, approvers=[manager])
    assert checklist_items(client.get(home).content.decode())["Submit it for review"] is True
    with django_capture_on_commit_callbacks(execute=True):
        planning_services.plan_approve(actor=manager, plan=plan)
        plan.refresh_from_db()
        if plan.status == PlanStatus.APPROVED:
            planning_services.plan_activate(actor=owner, plan=plan)
    items = checklist_items(client.get(home).content.decode())
    assert [label for label, done in items.items() if not done] == ["Record the first check-in"]
    step = plan.steps.get()
    metrics_services.check_in_step(actor=owner, step=step, status="doing", confidence="on_track")
    body = client.get(home).content.decode()
    assert "Getting started" not in body  # all five done: nothing left to guide
