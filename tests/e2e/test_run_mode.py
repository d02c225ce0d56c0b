"""An inline edit refused by the server (400) shows the form again where it was, with its error, and the
page around it stays: with DEBUG off (make run) and on (make dev, where django-htmx's debug script
would otherwise replace the whole page with the response)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    OWNER,
    create_template_plan,
    editor_row,
    htmx_settled,
    open_inline_edit,
    plan_period,
    sign_up,
)

pytestmark = pytest.mark.e2e

OBJECTIVE = "Close five new copywriting clients a month"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_invalid_inline_edit_shows_its_error_in_place(page: Page, settings, debug):
    settings.DEBUG = debug  # read when each page is drawn: {% htmx_script %} adds the debug script
    slug = sign_up(page, OWNER)
    create_template_plan(page, slug, "Quill growth plan")
    assert (page.locator('script[src*="django-htmx.js"]').count() == 1) is debug
    page.evaluate("window.__sameDocument = true")

    form = open_inline_edit(page, "objective", OBJECTIVE)
    start = plan_period()[0]
    form.get_by_label("Start date").fill((start + timedelta(days=60)).isoformat())
    form.get_by_label("Due date").fill((start + timedelta(days=30)).isoformat())
    form.get_by_role("button", name="Save").click()
    htmx_settled(page)

    form_again = page.locator(f"form#{form.get_attribute('id')}")
    expect(form_again).to_be_visible()
    expect(form_again).to_contain_text("The due date must come after the start date.")
    # The page around it stays: same document, its navigation and the rest of the editor.
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(editor_row(page, "milestone", "Build a predictable client pipeline")).to_be_visible()
