"""The founding story, counted: a copywriting agency signs up, invites a manager and a member, starts
its plan from the template with the member doing the steps, submits it, gets changes requested, fixes
them, gets it approved, and the member checks in. Through the pages only, following the links of the
emails the app sent, on the live server's port (never the default 8000): at most 40 interactions from
sign-up to an approved plan whose steps are delegated.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MANAGER,
    MEMBER,
    ORG_NAME,
    OWNER,
    Counted,
    check_accessibility,
    editor_row,
    email_subjects,
    emailed_link,
    field,
    htmx_settled,
    org_slug,
    screenshot,
)

pytestmark = pytest.mark.e2e

MAX_INTERACTIONS = 40
PLAN = "Quill growth plan"
OBJECTIVE = "Close five new copywriting clients a month"
RENAMED = "Close five new copywriting clients a month, from software companies"
REVIEW_LINK = r"https?://\S+?/o/[\w-]+/plans/\d+/review/"


def story_screenshot(page: Page, name: str) -> None:
    screenshot(page, f"story-{name}-{page.viewport_size['width']}")


def test_the_founding_story_in_at_most_40_interactions(page: Page, open_page, live_server):
    page.set_viewport_size({"width": 1366, "height": 900})
    olivia = Counted(page)
    assert not live_server.url.endswith(":8000")

    # Sign up: the organization comes with it.
    page.goto("/signup/")
    olivia.fill(field(page, "Your name"), OWNER.name)
    olivia.fill(field(page, "Email"), OWNER.email)
    olivia.fill(field(page, "Password"), OWNER.password)
    olivia.fill(field(page, "Organization"), ORG_NAME)
    olivia.click(page.get_by_role("button", name="Create account and organization"))
    expect(page.get_by_role("heading", level=1, name=ORG_NAME)).to_be_visible()
    slug = org_slug(page)
    story_screenshot(page, "1-overview")

    # The getting-started list leads to the invitations: a manager who approves, a member who works.
    olivia.click(page.get_by_role("link", name="Invite an approver (a manager or admin)"))
    olivia.fill(field(page, "Email"), MANAGER.email)
    olivia.choose(field(page, "Role"), "manager")
    olivia.click(page.get_by_role("button", name="Send invitation"))
    expect(page.get_by_text(f"Invitation sent to {MANAGER.email}.")).to_be_visible()
    olivia.fill(field(page, "Email"), MEMBER.email)
    olivia.click(page.get_by_role("button", name="Send invitation"))
    expect(page.get_by_text(f"Invitation sent to {MEMBER.email}.")).to_be_visible()

    # Each follows the emailed link (on this server's port) and joins.
    people = {}
    for person in (MANAGER, MEMBER):
        link = emailed_link(person.email)
        assert link.startswith(live_server.url + "/"), link
        browser = open_page()
        browser.set_viewport_size({"width": 1366, "height": 900})
        counted = Counted(browser)
        counted.open(link)
        counted.fill(field(browser, "Your name"), person.name)
        counted.fill(field(browser, "Password"), person.password)
        counted.click(browser.get_by_role("button", name="Create account and join"))
        expect(browser.get_by_text(re.compile(r"^Welcome to "))).to_be_visible()
        people[person.email] = counted
    marcus, mia = people[MANAGER.email], people[MEMBER.email]

    # The plan from the template, its steps for the member; readiness is clean at once.
    olivia.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview"))
    olivia.click(page.get_by_role("link", name="Start the plan from the template"))
    expect(page.get_by_role("radio", name=re.compile("^The four-stage template"))).to_be_checked()
    olivia.fill(field(page, "Title"), PLAN)
    olivia.check(page.get_by_role("checkbox", name=MEMBER.label, exact=True))
    olivia.click(page.get_by_role("button", name="Create the plan"))
    expect(editor_row(page, "objective", OBJECTIVE)).to_be_visible()
    plan_id = int(re.search(r"/plans/(\d+)/", page.url).group(1))
    story_screenshot(page, "2-editor")

    # Submitted to the manager, the only one who may approve it (chosen already).
    olivia.click(page.get_by_role("navigation", name="Plan").get_by_role("link", name="Review"))
    expect(page.get_by_text("No blocking problems")).to_be_visible()
    expect(page.get_by_role("checkbox", name=MANAGER.label, exact=True)).to_be_checked()
    olivia.click(page.get_by_role("button", name="Submit for review"))
    expect(page.get_by_text("Submitted: the approvers are told by email.")).to_be_visible()

    # The manager opens the review from the email and asks for a sharper objective.
    assert email_subjects(MANAGER.email)[-1] == f"Please review “{PLAN}”"
    marcus.open(emailed_link(MANAGER.email, REVIEW_LINK))
    story_screenshot(marcus.page, "3-review")
    marcus.fill(field(marcus.page, "Comment"), "Name the clients we want: software companies.")
    marcus.click(marcus.page.get_by_role("button", name="Request changes"))
    expect(marcus.page.get_by_text("Changes requested: the submitter is told by email.")).to_be_visible()

    # The owner follows the email back, renames the objective in the editor and resubmits.
    olivia.open(emailed_link(OWNER.email, REVIEW_LINK))
    olivia.click(page.get_by_role("navigation", name="Plan").get_by_role("link", name="Edit map"))
    row = editor_row(page, "objective", OBJECTIVE)
    olivia.click(row.locator(".row__actions").get_by_role("link", name="Edit"))
    form = page.locator(f"form#{row.get_attribute('id')}")
    olivia.fill(field(form, "Title"), RENAMED)
    olivia.click(form.get_by_role("button", name="Save"))
    expect(editor_row(page, "objective", RENAMED)).to_be_visible()
    htmx_settled(page)
    olivia.click(page.get_by_role("navigation", name="Plan").get_by_role("link", name="Review"))
    olivia.click(page.get_by_role("button", name="Submit for review"))
    expect(page.get_by_text("Submitted: the approvers are told by email.")).to_be_visible()

    # The manager sees exactly the fix as what changed since the request, and approves.
    marcus.open(emailed_link(MANAGER.email, REVIEW_LINK))
    since = marcus.page.locator("section").filter(
        has=marcus.page.get_by_role("heading", name=re.compile("^Changed since your request"))
    )
    expect(since).to_contain_text(RENAMED)
    marcus.click(marcus.page.get_by_role("button", name="Approve the plan"))
    expect(
        marcus.page.get_by_text("Approved. The baseline is frozen and the work is handed out.")
    ).to_be_visible()

    total = olivia.interactions + marcus.interactions + mia.interactions
    assert total <= MAX_INTERACTIONS, (
        f"{total} interactions to an approved, delegated plan "
        f"(owner {olivia.interactions}, manager {marcus.interactions}, member {mia.interactions})"
    )

    from planning.models import ActionStep, Plan

    plan = Plan.objects.get(pk=plan_id)
    assert plan.status in ("approved", "active")
    steps = ActionStep.objects.filter(plan=plan)
    assert steps.exists() and all(step.assignee.user.email == MEMBER.email for step in steps)
    assert f"You have {steps.count()} new steps in {PLAN}" in email_subjects(MEMBER.email)

    # The member checks in on their work: the steps are theirs now.
    member = mia.page
    mia.click(member.get_by_role("navigation", name="Main").get_by_role("link", name="Check in"))
    expect(member.get_by_role("heading", level=1, name="Check in")).to_be_visible()
    step = member.get_by_role("group", name="Write a proposal template that converts")
    mia.choose(field(step, "Status"), "doing")
    mia.click(member.get_by_role("button", name="Save check-in"))
    expect(member.get_by_text(re.compile(r"^Check-in saved"))).to_be_visible()
    story_screenshot(member, "4-check-in")

    # The approved plan's Progress tab: its line against the expected pace, and each objective's forecast.
    marcus.page.goto(f"/o/{slug}/plans/{plan_id}/")
    marcus.page.get_by_role("navigation", name="Plan").get_by_role("link", name="Progress").click()
    expect(marcus.page.get_by_role("img", name=f"Progress of {PLAN} over its period")).to_be_visible()
    expect(marcus.page.get_by_role("heading", name="Where each objective will land")).to_be_visible()
    expect(marcus.page.get_by_role("row").filter(has_text=RENAMED)).to_be_visible()
    check_accessibility(marcus.page, "plan progress")
    story_screenshot(marcus.page, "4b-progress")

    # The story at 390 px: the plan, its review, its progress and the member's check-in page fit a phone.
    for browser, url, name in (
        (page, f"/o/{slug}/plans/{plan_id}/", "5-map"),
        (page, f"/o/{slug}/plans/{plan_id}/review/", "6-review"),
        (page, f"/o/{slug}/plans/{plan_id}/progress/", "6b-progress"),
        (member, f"/o/{slug}/check-in/", "7-check-in"),
    ):
        browser.set_viewport_size({"width": 390, "height": 844})
        browser.goto(url)
        assert browser.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name
        story_screenshot(browser, name)
