"""Search, as a person uses it: a word typed into the navigation's box finds the step whose notes hold
it, marked; typing on the results page narrows them in place (htmx) and the address follows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import ORG_NAME, OWNER, create_template_plan, edit_inline, screenshot, sign_up

pytestmark = pytest.mark.e2e

STEP = "Write a proposal template that converts"


def test_a_step_is_found_by_a_word_in_its_notes(page: Page):
    slug = sign_up(page, OWNER)
    create_template_plan(page, slug, "Quill growth plan")
    edit_inline(page, "step", STEP, notes="Start from the Lighthouse list of agencies.")

    box = page.get_by_role("search", name=f"Search {ORG_NAME}").get_by_label("Search")
    box.fill("lighthouse")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/o/{slug}/search/\?q=lighthouse$"))
    steps = page.locator("section", has=page.get_by_role("heading", name="Action steps", exact=True))
    expect(steps.get_by_role("link", name=STEP, exact=True)).to_be_visible()
    expect(steps.locator("mark")).to_have_text(["Lighthouse"])
    expect(page.get_by_role("heading", name="Plans", exact=True)).to_have_count(0)
    screenshot(page, "search-notes")

    # Typing on the results page narrows them in place, and the address follows.
    query = page.get_by_label(f"Search {ORG_NAME}")
    query.fill("zzyzx")
    expect(page.get_by_text("Nothing matches.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=zzyzx$"))
    query.fill("lighth agen")
    expect(steps.get_by_role("link", name=STEP, exact=True)).to_be_visible()
    expect(steps.locator("mark")).to_have_text(["Lighthouse", "agencies"])

    steps.get_by_role("link", name=STEP, exact=True).click()
    expect(page.get_by_role("heading", name=STEP)).to_be_visible()
