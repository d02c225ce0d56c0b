"""Flow: the weekly check-in from the reminder email. A member who owns three key results and five
steps follows the email's link, logs in, updates the three values and two steps' statuses on one page
and saves, in at most ten interactions.

The plan is built with the services (the flows that build and approve plans through the pages are in
the other files); the member's part, from the email on, goes through the pages only.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from .conftest import Counted, check_accessibility, emailed_link, field, plan_period, screenshot

pytestmark = pytest.mark.e2e

MAX_INTERACTIONS = 10
KEY_RESULTS = {"New clients signed": "3", "Proposals sent": "8", "Leads reached": "14"}
STEPS = [
    "Write the proposal template",
    "Call ten leads",
    "Update the CRM",
    "Book two demos",
    "Send the newsletter",
]


@pytest.fixture
def week(transactional_db):
    """Quill & Co's running plan: the member owns three key results (one measured by a KPI the
    manager owns) and five steps; the check-in reminder has been sent."""
    from bizops.models import Membership
    from metrics import reminders
    from metrics import services as metrics_services
    from planning import services as planning_services
    from planning.models import Plan, PlanStatus
    from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

    org = OrganizationFactory(name="Quill & Co Copywriting", slug="quill")
    manager = MembershipFactory(
        organization=org, role="manager", user=UserFactory(email="marcus@quill.example")
    )
    member = MembershipFactory(
        organization=org,
        role="member",
        user=UserFactory(email="mia@quill.example", display_name="Mia Stone"),
    )
    start, end = plan_period()
    plan = planning_services.plan_create(
        actor=manager,
        title="Quill growth plan",
        ultimate_goal="Five new clients a month.",
        period_start=start,
        period_end=end,
    )
    milestone = planning_services.milestone_create(actor=manager, plan=plan, title="Build a pipeline")
    objective = planning_services.objective_create(
        actor=manager,
        milestone=milestone,
        title="Close five new clients a month",
        owner=member,
        start_date=start,
        due_date=date.today() + timedelta(days=60),
    )
    leads = metrics_services.kpi_create(
        actor=manager,
        name="Leads reached a month",
        direction="increase",
        target=60,
        frequency="monthly",
        owner=manager,
    )
    for title, target in zip(KEY_RESULTS, (5, 20, 60), strict=True):
        metrics_services.key_result_create(
            actor=manager,
            objective=objective,
            title=title,
            target=target,
            owner=member,
            kpi=leads if title == "Leads reached" else None,
        )
    for title in STEPS:
        planning_services.step_create(actor=manager, objective=objective, title=title, assignee=member)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE)
    member = Membership.objects.select_related("user", "organization").get(pk=member.pk)
    assert reminders.send_checkin_due([member], {member.pk: date.today().isoformat()}) == 1
    return {"member": member, "password": PASSWORD, "plan": plan, "leads": leads}


def test_one_check_in_from_the_reminder_in_ten_interactions(page: Page, week):
    member = week["member"]
    link = emailed_link(member.user.email, r"https?://\S+?/o/[\w-]+/check-in/")
    mia = Counted(page)

    mia.open(link)
    expect(page.get_by_role("heading", level=1, name=re.compile("^Log in"))).to_be_visible()
    mia.fill(field(page, "Email"), member.user.email)
    mia.fill(field(page, "Password"), week["password"])
    mia.click(page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("heading", level=1, name="Check in")).to_be_visible()
    assert page.url == link
    check_accessibility(page, "check-in page")

    for title, value in KEY_RESULTS.items():
        mia.fill(field(page.get_by_role("group", name=title), "New value"), value)
    mia.choose(field(page.get_by_role("group", name=STEPS[0]), "Status"), "done")
    mia.choose(field(page.get_by_role("group", name=STEPS[1]), "Status"), "doing")
    mia.click(page.get_by_role("button", name="Save check-in"))

    expect(page.get_by_text("Check-in saved: 3 key results, 2 steps.")).to_be_visible()
    assert mia.interactions <= MAX_INTERACTIONS, f"{mia.interactions} interactions"
    for title, target in zip(KEY_RESULTS, (5, 20, 60), strict=True):
        expect(page.get_by_role("group", name=title)).to_contain_text(f"Now {KEY_RESULTS[title]} of {target}")
    expect(page.get_by_role("group", name=STEPS[0])).to_have_count(0)  # done: nothing left to update
    expect(field(page.get_by_role("group", name=STEPS[1]), "Status")).to_have_value("doing")
    expect(field(page.get_by_role("group", name=STEPS[2]), "Status")).to_have_value("todo")
    check_accessibility(page, "check-in page, saved")
    screenshot(page, "flow-one-check-in")

    # The KPI behind "Leads reached" moved with the check-in, and the dashboard shows its new value.
    page.goto(link.replace("/check-in/", "/dashboard/"))
    tile = page.locator(".tile", has=page.get_by_text("Leads reached a month", exact=True))
    expect(tile.locator(".tile__value")).to_contain_text("14 / 60")

    from metrics.models import CheckIn, KeyResult, Measurement
    from planning.models import ActionStep

    assert dict(KeyResult.objects.values_list("title", "current")) == {
        title: Decimal(value) for title, value in KEY_RESULTS.items()
    }
    assert CheckIn.objects.filter(author=member.user).count() == 3
    measurement = Measurement.objects.get(kpi=week["leads"])  # the key result's value is the KPI's
    assert (measurement.value, measurement.recorded_by_id) == (Decimal(14), member.user_id)
    statuses = dict(ActionStep.objects.values_list("title", "status"))
    assert statuses == {STEPS[0]: "done", STEPS[1]: "doing", **dict.fromkeys(STEPS[2:], "todo")}
    print(f"one check-in: {mia.interactions} interactions")
