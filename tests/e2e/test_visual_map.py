"""The visual map in a real browser: the template plan as cards, an objective opened to its steps
(HTMX, the address follows), a text filter with its own address, the zoom buttons, and the outline
at 390 px reading as lines, not one word per line."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    OWNER,
    axe_violations,
    create_template_plan,
    describe_violations,
    plan_tab,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.e2e

OBJECTIVE = "Close five new copywriting clients a month"


def test_the_visual_map_opens_a_level_filters_and_zooms(page: Page):
    slug = sign_up(page, OWNER)
    plan_id = create_template_plan(page, slug, "Quill growth plan")
    page.goto(f"/o/{slug}/plans/{plan_id}/")
    plan_tab(page, "Visual map")
    canvas = page.locator("#visual-map")
    card = canvas.locator(f".vm-card--o a:not(.vm-toggle)[aria-label*='{OBJECTIVE}']")
    expect(card).to_be_visible()
    expect(canvas.locator(".vm-card--s")).to_have_count(0)  # steps closed, counted

    # Opening the objective's steps swaps the canvas in place and the address says what is open.
    toggle = canvas.locator(f"a.vm-toggle[aria-label^='Open {OBJECTIVE}']")
    toggle.click()
    expect(canvas.locator(".vm-card--s").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"open=[^&]*o\d+"))
    expect(canvas.locator(f"a.vm-toggle[aria-label^='Close {OBJECTIVE}']")).to_have_attribute(
        "aria-expanded", "true"
    )
    violations = axe_violations(page)
    assert not violations, describe_violations("the visual map", violations)
    screenshot(page, "visual-map-opened")

    # Zoom: the drawing shrinks and grows; dragging is for the mouse, the canvas scrolls anyway.
    svg = canvas.locator("svg")
    wide = float(svg.get_attribute("width") or 0)
    page.get_by_role("button", name="Zoom out").click()
    assert float(svg.get_attribute("width") or 0) < wide
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    assert float(svg.get_attribute("width") or 0) > wide

    # A text filter: its own address, the matching step shown with the cards above it only.
    page.get_by_text("Filter the map", exact=True).click()  # the form loads when its box opens
    page.get_by_role("search", name="Filter the map").get_by_label("Text").fill("template that")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=template\+that"))
    steps = canvas.locator(".vm-card--s")
    expect(steps).to_have_count(1)
    expect(steps.first.locator("title")).to_have_text("Write a proposal template that converts")
    expect(canvas.locator(".vm-card--o")).to_have_count(1)
    screenshot(page, "visual-map-filtered")

    # The same filter on the outline, and the outline at 390 px: titles read as lines.
    plan_tab(page, "Strategy map")
    page.goto(page.url + "?q=template+that")
    expect(page.locator(".tree__step")).to_have_count(1)
    page.goto(f"/o/{slug}/plans/{plan_id}/")
    page.set_viewport_size({"width": 390, "height": 844})
    title = page.locator(".tree__node--objective .tree__title").filter(has_text=OBJECTIVE)
    box = title.bounding_box()
    assert box is not None and box["width"] > 150, box
    screenshot(page, "outline-390")
