"""Flow 4: after approval, the member does a step from My work and checks in on a key result; the
dashboard and the strategy map show the progress move."""

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
    field,
    fix_readiness,
    join,
    log_in,
    percent,
    plan_tab,
    screenshot,
    sign_up,
    submit_for_review,
)

pytestmark = pytest.mark.e2e

PLAN = "Quill growth plan"
OBJECTIVE = "Close five new copywriting clients a month"
STEP = "Write a proposal template that converts"
KEY_RESULT = "New clients signed this month"


def dashboard_percent(page: Page, slug: str) -> int:
    page.goto(f"/o/{slug}/dashboard/")
    plans = page.locator("section", has=page.get_by_role("heading", name="Plans under way"))
    return percent(plans.get_by_role("row").filter(has=page.get_by_role("link", name=PLAN, exact=True)))


def map_percents(page: Page, slug: str, plan_id: int) -> tuple[int, int]:
    """The plan's progress and the objective's, as the strategy map shows them."""
    page.goto(f"/o/{slug}/plans/{plan_id}/")
    objective = page.locator(".tree__node--objective").filter(
        has=page.get_by_role("link", name=OBJECTIVE, exact=True)
    )
    return percent(page.locator(".goal__progress")), percent(objective.locator(".tree__progress").first)


def test_member_marks_a_step_done_and_checks_in_on_a_key_result(page: Page, open_page):
    slug = sign_up(page, OWNER)
    manager = join(page, slug, open_page(), MANAGER, "manager")
    join(page, slug, open_page(), MEMBER, "member")
    plan_id = create_template_plan(page, slug, PLAN)

    # While the plan is a draft, the owner hands the objective to the member and gives it a key result
    # from its "Key results & check-ins" page.
    edit_inline(page, "objective", OBJECTIVE, owner=MEMBER)
    plan_tab(page, "Strategy map")
    objective = page.locator(".tree__node--objective").filter(
        has=page.get_by_role("link", name=OBJECTIVE, exact=True)
    )
    objective.get_by_role("link", name="Key results & check-ins").click()
    expect(page.get_by_role("heading", level=1, name=OBJECTIVE)).to_be_visible()
    page.get_by_text("Add a key result", exact=True).click()
    add = page.locator("form").filter(has=page.get_by_role("button", name="Add key result"))
    field(add, "Title").fill(KEY_RESULT)
    field(add, "Kind").select_option("number")
    field(add, "Start").fill("0")
    field(add, "Target").fill("4")
    add.get_by_role("button", name="Add key result").click()
    expect(page.get_by_text(f"Key result “{KEY_RESULT}” added.")).to_be_visible()
    expect(page.get_by_role("link", name=KEY_RESULT)).to_be_visible()

    fix_readiness(page, slug, plan_id, assignee=MEMBER, owner=OWNER)
    submit_for_review(page, slug, plan_id, approver=MANAGER)
    approve(manager, slug, PLAN)

    # The member logs in; the plan's progress before they do anything.
    member = open_page()
    assert log_in(member, MEMBER) == slug
    dashboard_before = dashboard_percent(member, slug)
    plan_before, objective_before = map_percents(member, slug, plan_id)

    # My work lists the step; one click marks it done, swapped in place by htmx.
    member.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()
    row = member.locator("li.work-row").filter(has=member.get_by_role("link", name=STEP, exact=True))
    expect(row).to_contain_text(OBJECTIVE)
    row_id = row.get_attribute("id")
    member.evaluate("window.__sameDocument = true")
    row.get_by_role("button", name="Done", exact=True).click()
    done = member.locator(f"li#{row_id}").get_by_role("button", name="Done", exact=True)
    expect(done).to_have_attribute("aria-pressed", "true")
    assert member.evaluate("window.__sameDocument") is True, "My work reloaded instead of swapping the row"
    screenshot(member, "flow-my-work-step-done")
    member.reload()
    done_group = member.locator("section.work-group--done")
    expect(done_group.get_by_role("link", name=STEP, exact=True)).to_be_visible()

    dashboard_after_step = dashboard_percent(member, slug)
    plan_after_step, objective_after_step = map_percents(member, slug, plan_id)
    assert dashboard_after_step > dashboard_before
    assert plan_after_step > plan_before and objective_after_step > objective_before

    # A check-in on the key result, reached from the strategy map.
    member.locator(".tree__kr").get_by_role("link", name=KEY_RESULT).click()
    expect(member.get_by_role("heading", level=1, name=KEY_RESULT)).to_be_visible()
    expect(member.get_by_text("This is the first check-in.")).to_be_visible()
    field(member, "New value").fill("2")
    member.get_by_role("radio", name="On track").check()
    field(member, "Note").fill("Two contracts signed; two more proposals out.")
    member.get_by_role("button", name="Save check-in").click()
    expect(member.get_by_text("Check-in saved: the key result's value is updated.")).to_be_visible()
    expect(member.locator(".progress").first).to_have_attribute("aria-label", re.compile(r" 50%$"))

    dashboard_after_check_in = dashboard_percent(member, slug)
    plan_after_check_in, objective_after_check_in = map_percents(member, slug, plan_id)
    assert dashboard_after_check_in > dashboard_after_step
    assert plan_after_check_in > plan_after_step
    assert objective_after_check_in > objective_after_step
    expect(member.locator(".tree__kr")).to_contain_text("50%")

    from metrics.models import CheckIn, KeyResult
    from planning.models import ActionStep

    assert ActionStep.objects.get(plan_id=plan_id, title=STEP).status == "done"
    kr = KeyResult.objects.get(plan_id=plan_id, title=KEY_RESULT)
    assert kr.current == 2
    check_in = CheckIn.objects.get(key_result=kr)
    assert (check_in.author.email, check_in.confidence) == (MEMBER.email, "on_track")
