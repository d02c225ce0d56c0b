"""Flow 2: a plan from the four-stage template, shaped in the editor's inline (htmx) forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MEMBER,
    OWNER,
    create_template_plan,
    edit_inline,
    editor_item,
    editor_row,
    field,
    htmx_settled,
    join,
    plan_period,
    plan_tab,
    quick_add,
    sign_up,
)

pytestmark = pytest.mark.e2e

MILESTONE = "Launch a newsletter for software marketers"
OBJECTIVE = "Reach 500 newsletter subscribers"
STEP = "Write the first three issues"


def test_plan_from_template_then_add_and_edit_nodes_inline(page: Page, open_page):
    slug = sign_up(page, OWNER)
    join(page, slug, open_page(), MEMBER, "member")
    plan_id = create_template_plan(page, slug, "Quill growth plan")

    # The template brings the four stages: the goal, milestones, objectives, steps.
    expect(page.get_by_text("Become the copywriting partner growing software companies")).to_be_visible()
    expect(editor_row(page, "milestone", "Build a predictable client pipeline")).to_be_visible()
    expect(editor_row(page, "objective", "Close five new copywriting clients a month")).to_be_visible()
    expect(editor_row(page, "step", "Reach out to 20 qualified leads")).to_be_visible()

    # Quick-add a milestone, an objective under it and a step under the objective (htmx, no reload).
    page.evaluate("window.__sameDocument = true")
    quick_add(page, "milestone", MILESTONE)
    quick_add(page, "objective", OBJECTIVE, under=MILESTONE)
    quick_add(page, "step", STEP, under=OBJECTIVE)
    milestone_item = editor_item(page, "milestone", MILESTONE)
    expect(milestone_item.locator(".editor__node--objective")).to_have_count(1)
    objective_item = editor_item(page, "objective", OBJECTIVE)
    expect(objective_item.locator(".editor__node--step")).to_have_count(1)
    expect(editor_row(page, "objective", OBJECTIVE)).to_contain_text("no due date")
    expect(editor_row(page, "step", STEP)).to_contain_text("unassigned")

    # Edit the objective inline: its owner and due date.
    due = plan_period()[0] + timedelta(days=75)
    row = edit_inline(page, "objective", OBJECTIVE, owner=OWNER, due_date=due.isoformat())
    expect(row).to_contain_text(OWNER.name)
    expect(row).to_contain_text(f"due {due.day} {due:%b}")
    expect(row).not_to_contain_text("no due date")

    # And the step: assign it to the member.
    row = edit_inline(page, "step", STEP, assignee=MEMBER)
    expect(row).to_contain_text(MEMBER.name)
    expect(row).not_to_contain_text("unassigned")
    assert page.evaluate("window.__sameDocument") is True, "the editor reloaded instead of swapping rows"

    # A row shows Edit; its rarer moves wait in one compact menu. Move the new milestone up, in place.
    expect(editor_row(page, "milestone", MILESTONE).locator(".row__actions .btn")).to_have_count(1)
    editor_row(page, "milestone", MILESTONE).locator("details.menu > summary").click()
    editor_row(page, "milestone", MILESTONE).get_by_role("button", name=f"Move up {MILESTONE}").click()
    htmx_settled(page)
    titles = page.locator("li.editor__node--milestone > .row .row__title").all_inner_texts()
    assert titles.index(MILESTONE) == len(titles) - 2, titles
    assert page.evaluate("window.__sameDocument") is True
    # An objective's menu adds a key result: its page opens with the form ready.
    editor_row(page, "objective", OBJECTIVE).locator("details.menu > summary").click()
    editor_row(page, "objective", OBJECTIVE).get_by_role(
        "link", name=f"Add a key result to {OBJECTIVE}"
    ).click()
    expect(page.locator("#add-key-result")).to_have_attribute("open", "")
    field(page, "Title").fill("Subscribers")
    field(page, "Target").fill("500")
    page.get_by_role("button", name="Add key result").click()
    expect(page.get_by_text("Key result “Subscribers” added.")).to_be_visible()
    page.goto(f"/o/{slug}/plans/{plan_id}/edit/")

    # The strategy map shows them where they belong.
    plan_tab(page, "Strategy map")
    milestone = page.locator(".tree__node--milestone").filter(
        has=page.get_by_role("link", name=MILESTONE, exact=True)
    )
    expect(milestone.locator(".tree__toggle").first).to_contain_text("1 objective")
    objective = milestone.locator(".tree__node--objective").filter(
        has=page.get_by_role("link", name=OBJECTIVE, exact=True)
    )
    expect(objective.locator(".tree__meta").first).to_contain_text(OWNER.name)
    expect(objective.locator(".tree__meta").first).to_contain_text(f"due {due.day} {due:%b %Y}")
    step = objective.locator(".tree__step").filter(has=page.get_by_role("link", name=STEP, exact=True))
    expect(step).to_contain_text(MEMBER.name)
    expect(step).to_contain_text("To do")

    from planning.models import ActionStep, Objective

    saved = Objective.objects.get(plan_id=plan_id, title=OBJECTIVE)
    assert (saved.milestone.title, saved.owner.user.email, saved.due_date) == (MILESTONE, OWNER.email, due)
    assert ActionStep.objects.get(plan_id=plan_id, title=STEP).assignee.user.email == MEMBER.email
    assert re.search(rf"/o/{slug}/plans/{plan_id}/$", page.url)
