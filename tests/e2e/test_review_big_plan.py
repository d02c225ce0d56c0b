"""A big plan's review page opens its milestones one at a time, in a real browser (HTMX on toggle)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bizops.models import Membership
from tests.factories import make_plan

from .conftest import OWNER, sign_up

pytestmark = pytest.mark.e2e


def test_a_big_plans_milestone_loads_its_objectives_when_opened(page: Page):
    slug = sign_up(page, OWNER)
    owner = Membership.objects.select_related("organization").get(organization__slug=slug)
    plan = make_plan(owner.organization, owner, milestones=3, objectives=3, steps=50)  # 450 steps
    page.goto(f"/o/{slug}/plans/{plan.pk}/review/")
    outline = page.locator("ul.outline")
    # The first milestone is open with its objectives; the others wait until they are opened.
    expect(outline.get_by_text("Objective 0.2", exact=True)).to_be_visible()
    expect(outline.get_by_text("Objective 2.1", exact=True)).to_have_count(0)
    outline.locator("summary").filter(has_text="Milestone 2").click()
    expect(outline.get_by_text("Objective 2.1", exact=True)).to_be_visible()
    expect(outline.locator("li:not(:has(li))").filter(has_text="Objective 2.1")).to_contain_text("50 steps")
    # Its "Comment" link chooses that objective in the comment box of the page.
    outline.get_by_role("link", name="Comment on Objective 2.1", exact=True).click()
    expect(page.locator("#id_node")).to_have_value(
        f"objective:{plan.objectives.get(title='Objective 2.1').pk}"
    )
