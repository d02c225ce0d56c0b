"""Flow 3: submit for review, the manager asks for changes, the owner fixes and resubmits, approval."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MANAGER,
    MEMBER,
    OWNER,
    approve,
    create_template_plan,
    edit_inline,
    editor_row,
    email_subjects,
    field,
    fix_readiness,
    join,
    log_in,
    plan_tab,
    readiness_problems,
    screenshot,
    sign_up,
    submit_for_review,
    waiting_count,
)

pytestmark = pytest.mark.e2e

PLAN = "Quill growth plan"
COMMENT = "Say what “qualified” means: name the objective after the leads we want."
RENAMED = "Reach 100 qualified leads a month (software companies, 10–200 staff)"


def test_submit_request_changes_resubmit_and_approve(page: Page, open_page):
    slug = sign_up(page, OWNER)
    join(page, slug, open_page(), MANAGER, "manager")
    join(page, slug, open_page(), MEMBER, "member")
    plan_id = create_template_plan(page, slug, PLAN)

    # The Review tab lists what blocks a submission: the template's steps have nobody assigned.
    plan_tab(page, "Review")
    expect(page.get_by_role("heading", name=re.compile(r"^Fix before submitting \(\d+\)"))).to_be_visible()
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    problems = readiness_problems(page)
    assert problems and {message for _, message in problems} == {"Action step without an assignee."}

    fixed = fix_readiness(page, slug, plan_id, assignee=MEMBER, owner=OWNER)
    assert fixed == problems
    submit_for_review(page, slug, plan_id, approver=MANAGER, note="Ready for a first look.")
    expect(page.locator(".page-head")).to_contain_text("In review")
    assert email_subjects(MANAGER.email)[-1] == f"Please review “{PLAN}”"

    # The manager logs in, finds it under "Waiting for me", counted in the navigation, and asks for
    # changes.
    manager = open_page()
    assert log_in(manager, MANAGER) == slug
    expect(waiting_count(manager)).to_have_text("1")
    manager.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Waiting for me")
    ).click()
    manager.get_by_role("link", name=f"Review {PLAN}").click()
    expect(manager.get_by_text(f"Submitted by {OWNER.name}")).to_be_visible()
    manager.get_by_role("button", name="Request changes").click()  # without a comment: refused
    expect(manager.get_by_text("Say what should change: a comment is required.")).to_be_visible()
    field(manager, "Comment").fill(COMMENT)
    manager.get_by_role("button", name="Request changes").click()
    expect(manager.get_by_text("Changes requested: the submitter is told by email.")).to_be_visible()
    expect(waiting_count(manager)).to_have_count(0)
    assert f"{MANAGER.name} requested changes to “{PLAN}”" in email_subjects(OWNER.email)
    screenshot(manager, "flow-review-changes-requested")

    # The owner reads the comment, fixes the objective in the editor and resubmits.
    page.reload()
    expect(page.locator(".page-head")).to_contain_text("Changes requested")
    expect(page.get_by_text(COMMENT).first).to_be_visible()
    plan_tab(page, "Edit map")
    row = edit_inline(page, "objective", "Reach 100 qualified leads a month", title=RENAMED)
    expect(row).to_contain_text(RENAMED)
    expect(editor_row(page, "objective", RENAMED)).to_be_visible()
    submit_for_review(page, slug, plan_id, approver=MANAGER, note="Renamed the leads objective.")

    # The manager sees exactly what was fixed since their request: the one renamed objective.
    manager.goto(f"/o/{slug}/plans/{plan_id}/review/")
    since = manager.locator(
        "section", has=manager.get_by_role("heading", name=re.compile("^Changed since your request"))
    )
    expect(since).to_contain_text(COMMENT)
    expect(since.locator(".diff__item")).to_have_count(1)
    expect(since.locator(".diff__item")).to_contain_text("✎ Changed")
    expect(since.locator(".changes li")).to_have_count(1)
    expect(since.locator(".changes li")).to_contain_text(
        f"Title: Reach 100 qualified leads a month → {RENAMED}"
    )

    # The manager approves the second round.
    manager.reload()
    expect(waiting_count(manager)).to_have_text("1")
    approve(manager, slug, PLAN, comment="Clear now. Go.")
    expect(manager.locator(".page-head")).to_contain_text("Active")  # its period has begun
    expect(waiting_count(manager)).to_have_count(0)
    assert f"{MANAGER.name} approved “{PLAN}”" in email_subjects(OWNER.email)
    assert any(re.fullmatch(rf"You have \d+ new steps? in {PLAN}", s) for s in email_subjects(MEMBER.email))

    # The owner sees an approved plan, a baseline, and the history of both rounds.
    page.goto(f"/o/{slug}/plans/{plan_id}/review/")
    expect(page.locator(".page-head")).to_contain_text("Active")
    expect(page.get_by_role("link", name="baseline #1")).to_be_visible()
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    # header, submitted, changes, submitted, approved, activated
    expect(history.get_by_role("row")).to_have_count(6)
    expect(history).to_contain_text(COMMENT)
    plan_tab(page, "Baselines")
    expect(page.get_by_role("link", name=re.compile("#1"))).to_be_visible()
    plan_tab(page, "Strategy map")
    expect(page.get_by_role("navigation", name="Plan").get_by_role("link", name="Edit map")).to_have_count(0)

    from planning.models import Baseline, Plan

    plan = Plan.objects.get(pk=plan_id)
    assert plan.status == "active"
    baseline = Baseline.objects.get(plan=plan)
    titles = {node["fields"]["title"] for node in baseline.snapshot["nodes"]}
    assert RENAMED in titles
