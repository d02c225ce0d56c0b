"""Flow 5: two people edit the same objective at once; the second save is refused, nothing is lost."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MANAGER,
    OWNER,
    create_template_plan,
    editor_row,
    field,
    join,
    open_inline_edit,
    save_inline_edit,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.e2e

OBJECTIVE = "Grow our LinkedIn audience to 2,000 followers"
OWNERS_TITLE = "Grow our LinkedIn audience to 2,500 followers"
MANAGERS_TITLE = "Grow our LinkedIn audience to 3,000 engaged followers"


def test_second_save_of_the_same_node_shows_the_conflict_and_loses_nothing(page: Page, open_page):
    slug = sign_up(page, OWNER)
    manager = join(page, slug, open_page(), MANAGER, "manager")
    plan_id = create_template_plan(page, slug, "Quill growth plan")
    manager.goto(f"/o/{slug}/plans/{plan_id}/edit/")

    # Both open the same objective's inline form.
    owners_form = open_inline_edit(page, "objective", OBJECTIVE)
    managers_form = open_inline_edit(manager, "objective", OBJECTIVE)

    # The owner saves first.
    field(owners_form, "Title").fill(OWNERS_TITLE)
    row = save_inline_edit(page, owners_form)
    expect(row).to_contain_text(OWNERS_TITLE)

    # The manager's save, based on the older version, is refused with both values side by side.
    field(managers_form, "Title").fill(MANAGERS_TITLE)
    managers_form.get_by_role("button", name="Save").click()
    conflict = managers_form.get_by_role("alert")
    expect(conflict).to_contain_text("Someone else saved this objective while you were editing it.")
    expect(conflict).to_contain_text("Nothing was overwritten.")
    title_row = conflict.get_by_role("row").filter(has=manager.get_by_role("rowheader", name="Title"))
    expect(title_row.get_by_role("cell")).to_have_text([OWNERS_TITLE, MANAGERS_TITLE])
    expect(field(managers_form, "Title")).to_have_value(MANAGERS_TITLE)  # the manager's input is kept
    screenshot(manager, "flow-edit-conflict")

    # Nothing is lost: the owner's value stands until the manager deliberately saves again.
    page.reload()
    expect(editor_row(page, "objective", OWNERS_TITLE)).to_be_visible()
    from planning.models import Objective

    objective = Objective.objects.get(plan_id=plan_id, title=OWNERS_TITLE)

    row = save_inline_edit(manager, managers_form)
    expect(row).to_contain_text(MANAGERS_TITLE)
    page.reload()
    expect(editor_row(page, "objective", MANAGERS_TITLE)).to_be_visible()
    expect(editor_row(page, "objective", OWNERS_TITLE)).to_have_count(0)
    objective.refresh_from_db()
    assert objective.title == MANAGERS_TITLE
    assert objective.version == 3  # created, the owner's save, the manager's save
