"""Each main page: a full-page screenshot, and no serious or critical axe violation.

A page gets the data that makes it show what it is for (a template plan, a KPI with a value, a key
result…), entered through the pages like everything else in these tests.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    MANAGER,
    MEMBER,
    OWNER,
    Person,
    check_accessibility,
    create_template_plan,
    edit_inline,
    field,
    invite,
    join,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.e2e

OBJECTIVE = "Close five new copywriting clients a month"


def build(page: Page, needs: frozenset[str]) -> dict[str, object]:
    """Sign up and create what the page needs; returns the ids its URL is made of."""
    if not needs:
        return {}
    ids: dict[str, object] = {"slug": sign_up(page, OWNER)}
    slug = ids["slug"]
    if "invitation" in needs:
        invite(page, slug, MEMBER, "member")
    if "team" in needs:
        page.goto(f"/o/{slug}/teams/")
        field(page, "Name").fill("Content")
        field(page, "Lead").select_option(label=OWNER.label)
        page.get_by_role("button", name="Create team").click()
        expect(page.get_by_text("Team Content is created.")).to_be_visible()
    if "plan" in needs:
        ids["plan"] = create_template_plan(page, slug, "Quill growth plan")
        edit_inline(page, "step", "Write a proposal template that converts", assignee=OWNER)
    if "key_result" in needs:
        page.goto(f"/o/{slug}/plans/{ids['plan']}/")
        objective = page.locator(".tree__node--objective").filter(
            has=page.get_by_role("link", name=OBJECTIVE, exact=True)
        )
        objective.get_by_role("link", name="Key results & check-ins").click()
        ids["objective"] = re.search(r"/objectives/(\d+)/", page.url).group(1)
        page.get_by_text("Add a key result", exact=True).click()
        field(page, "Title").fill("New clients signed this month")
        field(page, "Target").fill("5")
        page.get_by_role("button", name="Add key result").click()
        expect(page.get_by_text("Key result “New clients signed this month” added.")).to_be_visible()
    if "kpi" in needs:
        page.goto(f"/o/{slug}/kpis/")
        page.get_by_role("link", name="New KPI").click()
        field(page, "Name").fill("Qualified leads a month")
        field(page, "Target").fill("100")
        field(page, "Amber line").fill("80")
        field(page, "Red line").fill("50")
        field(page, "Frequency").select_option("monthly")
        page.get_by_role("button", name="Save KPI").click()
        expect(page.get_by_role("heading", level=1, name="Qualified leads a month")).to_be_visible()
        ids["kpi"] = re.search(r"/kpis/(\d+)/", page.url).group(1)
        field(page, "Value").fill("64")
        page.get_by_role("button", name="Record", exact=True).click()
        expect(page.get_by_text(re.compile(r"^Recorded 64 for"))).to_be_visible()
    return ids


ORG = frozenset({"org"})
PLAN = frozenset({"plan"})

# name, what it needs, URL (formatted with the ids), a heading that shows it is the right page
PAGES = [
    ("login", frozenset(), "/accounts/login/", "Log in"),
    ("sign-up", frozenset(), "/signup/", "Create your organization"),
    ("overview", PLAN, "/o/{slug}/", "Quill & Co Copywriting"),
    ("dashboard", frozenset({"kpi"}), "/o/{slug}/dashboard/", "Dashboard"),
    ("plans-list", PLAN, "/o/{slug}/plans/", "Plans"),
    ("strategy-map", frozenset({"plan", "key_result"}), "/o/{slug}/plans/{plan}/", "Quill growth plan"),
    ("plan-editor", PLAN, "/o/{slug}/plans/{plan}/edit/", "Quill growth plan"),
    ("review", PLAN, "/o/{slug}/plans/{plan}/review/", "Quill growth plan"),
    ("my-work", PLAN, "/o/{slug}/my-work/", "My work"),
    ("kpi-list", frozenset({"kpi"}), "/o/{slug}/kpis/", "KPIs"),
    ("kpi-page", frozenset({"kpi"}), "/o/{slug}/kpis/{kpi}/", "Qualified leads a month"),
    (
        "objective-measures",
        frozenset({"plan", "key_result"}),
        "/o/{slug}/objectives/{objective}/measures/",
        OBJECTIVE,
    ),
    ("members", frozenset({"invitation"}), "/o/{slug}/members/", "Members"),
    ("teams", frozenset({"team"}), "/o/{slug}/teams/", "Teams"),
    ("notifications", ORG, "/o/{slug}/notifications/", "Notifications"),
    ("search", PLAN, "/o/{slug}/search/?q=client", "Search"),
]

# Pages whose markup has a known serious/critical violation: the report names the rule and the fix.
# Pages with a known serious or critical axe violation, as xfail(strict=True) with the reason, so a
# fixed page turns the mark into a failure that reminds us to remove it. None at the moment.
KNOWN_VIOLATIONS: dict[str, str] = {}


def _params():
    for name, needs, url, heading in PAGES:
        marks = []
        if name in KNOWN_VIOLATIONS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_VIOLATIONS[name]))
        yield pytest.param(name, needs, url, heading, id=name, marks=marks)


@pytest.mark.parametrize(("name", "needs", "url", "heading"), list(_params()))
def test_page_screenshot_and_accessibility(page: Page, name, needs, url, heading):
    ids = build(page, needs)
    page.goto(url.format(**ids))
    expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
    screenshot(page, name)
    check_accessibility(page, name)
    assert_fits(page, 390, name)
    if not needs:  # logged out: the Log in / Sign up links stay in sight on a phone (no menu to open)
        expect(
            page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign up")
        ).to_be_visible()
    screenshot(page, f"{name}-390")
    check_accessibility(page, f"{name} at 390 px")


def assert_fits(page: Page, width: int, name: str, reload: bool = True) -> None:
    """At ``width`` px (a phone: 390 x 844), the page scrolls only down, never sideways."""
    page.set_viewport_size({"width": width, "height": 844})
    if reload:
        page.reload()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"


VIEWER = Person("Vera Lane", "vera@quill.example")


def test_every_main_page_fits_a_phone_as_each_role(page: Page, open_page):
    """Each role sees its own navigation and pages: all of them fit 390 px, and the navigation is a
    menu behind one button there, with every link in it."""
    ids = build(page, frozenset({"plan", "key_result", "kpi", "team"}))
    people = {"owner": page}
    for person, role in ((MANAGER, "manager"), (MEMBER, "member"), (VIEWER, "viewer")):
        people[role] = join(page, ids["slug"], open_page(), person, role)
    for role, browser in people.items():
        browser.set_viewport_size({"width": 390, "height": 844})
        for name, needs, url, _ in PAGES:
            if not needs:
                continue
            browser.goto(url.format(**ids))
            overflow = browser.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} as {role} is {overflow}px wider than a 390px screen"
        navigation = browser.get_by_role("navigation", name="Main")
        expect(navigation).to_be_hidden()
        browser.get_by_role("button", name="Menu").click()
        expect(navigation.get_by_role("link", name="My work")).to_be_visible()
        expect(navigation.get_by_role("link", name="KPIs")).to_be_visible()
        if role in ("owner", "manager"):
            expect(navigation.get_by_role("link", name="Waiting for me")).to_be_visible()


# Forms sent with errors: the same page again, with the messages at their fields (name, URL, the
# button that sends it empty, a message that shows the errors are there).
FORMS_WITH_ERRORS = [
    ("sign-up", "/signup/", "Create account and organization", "This field is required."),
    ("new-plan", "/o/{slug}/plans/new/", "Create the plan", "This field is required."),
    ("invite", "/o/{slug}/members/", "Send invitation", "This field is required."),
    ("new-kpi", "/o/{slug}/kpis/new/", "Save KPI", "This field is required."),
]


@pytest.mark.parametrize(
    ("name", "url", "button", "message"), FORMS_WITH_ERRORS, ids=[f[0] for f in FORMS_WITH_ERRORS]
)
def test_a_form_with_errors_stays_accessible(page: Page, name, url, button, message):
    ids = {} if "{slug}" not in url else {"slug": sign_up(page, OWNER)}
    if name == "sign-up":
        page.context.clear_cookies()
    page.goto(url.format(**ids))
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text(message).first).to_be_visible()
    check_accessibility(page, f"{name} with errors")
    assert_fits(page, 390, f"{name} with errors", reload=False)  # a reload would send the form again
    check_accessibility(page, f"{name} with errors at 390 px")
