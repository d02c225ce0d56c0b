"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Everything a test does goes through the pages, as a person would: the helpers below sign up, log in,
invite, fill the plan editor's inline forms and so on. The database is read only to find an emailed
link or to check saved rows after the fact. Celery tasks run eagerly (``tests/conftest.py``), so an
email is in ``django.core.mail.outbox`` by the time the page that sent it has answered.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")


# --- Collection: skip without a browser, fail in CI ---------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last, and skip them, saying why, when Debian's Chromium is not installed.

    Last: Playwright's session keeps an event loop running in the main thread until the session ends,
    and Django refuses ORM calls from a thread with a running loop; the async-unsafe switch is on only
    around browser tests (``pytest_runtest_protocol`` below), so no other test may run after one.
    Under ``CI`` the skip fails the run (``tests/conftest.py``): a CI without a browser must not pass
    for green."""
    items.sort(key=lambda item: E2E_DIR in item.path.parents)  # stable: the order within each stays
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing: install it with scripts/ensure-browser (apt-get install chromium)"
    )
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Playwright's sync API runs an event loop in the test's thread, and Django refuses ORM calls from
    a thread with a running loop unless told it is safe. It is here: the test thread only reads rows,
    the live server answers the browser from its own thread. On for each browser test's setup, run
    and teardown (pytest-django's database fixtures, set up before any of ours, need it too), and
    off again after, so the rest of the suite keeps Django's guard. (pytest calls this hook for
    every test of the run, not only for those under this directory.)"""
    if E2E_DIR not in item.path.parents:
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        return (yield)


# --- Browser and server ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser here (SETUP-NOTES)."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs in ``page.goto`` go to the live server."""
    return live_server.url


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    """Emailed links point to the live server, so the browser can follow them as they are."""
    settings.SITE_URL = live_server.url


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page):
    """Fail fast: on localhost every page answers in well under a second."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(15_000)


@pytest.fixture
def open_page(new_context):
    """A page in a new browser context (another person, or the same person in a second window)."""

    def make() -> Page:
        context: BrowserContext = new_context()
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        return context.new_page()

    return make


# --- The people of the story ----------------------------------------------------------------------

PASSWORD = "Ink-and-coffee-2026"
ORG_NAME = "Quill & Co Copywriting"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    password: str = PASSWORD

    @property
    def label(self) -> str:
        """How forms list a member in their choices (``bizops.forms.member_label``)."""
        return f"{self.name} ({self.email})"


OWNER = Person("Olivia Quill", "olivia@quill.example")
MANAGER = Person("Marcus Reed", "marcus@quill.example")
MEMBER = Person("Mia Stone", "mia@quill.example")


def plan_period() -> tuple[date, date]:
    """A year starting last week: the plan runs now and the template's due dates lie ahead."""
    start = date.today() - timedelta(days=7)
    return start, start + timedelta(days=364)


# --- Pages: signing up, logging in, inviting -------------------------------------------------------


def field(scope: Page | Locator, label: str) -> Locator:
    """A form control by its label's exact text; a required field's label ends in "*", which is
    hidden from assistive technology but part of the label's text."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def org_slug(page: Page) -> str:
    match = re.search(r"/o/([\w-]+)/", page.url)
    assert match, f"not on an organization's page: {page.url}"
    return match.group(1)


def sign_up(page: Page, person: Person = OWNER, organization: str = ORG_NAME) -> str:
    """Create an account and its organization through the sign-up form; returns the slug."""
    page.goto("/signup/")
    field(page, "Your name").fill(person.name)
    field(page, "Email").fill(person.email)
    field(page, "Password").fill(person.password)
    field(page, "Organization").fill(organization)
    page.get_by_role("button", name="Create account and organization").click()
    expect(page.get_by_role("heading", level=1, name=organization)).to_be_visible()
    return org_slug(page)


def log_in(page: Page, person: Person) -> str:
    """Log in through the real login form; returns the slug of the organization it lands on."""
    page.goto("/accounts/login/")
    field(page, "Email").fill(person.email)
    field(page, "Password").fill(person.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/o/[\w-]+/$"))
    return org_slug(page)


def invite(page: Page, slug: str, person: Person, role: str) -> None:
    """Send an invitation from the Members page (as an owner or admin)."""
    page.goto(f"/o/{slug}/members/")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Send invitation"))
    field(form, "Email").fill(person.email)
    field(form, "Role").select_option(role)
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {person.email}.")).to_be_visible()


def emailed_link(to: str, pattern: str = r"https?://\S+?/invite/[^/\s]+/") -> str:
    """The newest link matching ``pattern`` in an email to ``to``: the locmem outbox first, then the
    OutboundEmail rows (what the in-app outbox shows)."""
    from django.core import mail

    for message in reversed(mail.outbox):
        if to in message.to:
            match = re.search(pattern, message.body)
            if match:
                return match.group(0)
    from bizops.models import OutboundEmail

    for email in OutboundEmail.objects.filter(to_email=to).order_by("-created_at", "-pk"):
        match = re.search(pattern, email.body_text)
        if match:
            return match.group(0)
    raise AssertionError(f"no email to {to} with a link like {pattern}")


def email_subjects(to: str) -> list[str]:
    """Subjects of the emails delivered to ``to`` so far (the locmem outbox), oldest first."""
    from django.core import mail

    return [message.subject for message in mail.outbox if to in message.to]


def accept_invitation(page: Page, person: Person) -> str:
    """Follow the emailed invitation in ``page`` (a fresh browser context) and create the account."""
    page.goto(emailed_link(person.email))
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Join "))).to_be_visible()
    field(page, "Your name").fill(person.name)
    field(page, "Password").fill(person.password)
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_text(re.compile(r"^Welcome to "))).to_be_visible()
    return org_slug(page)


def join(owner_page: Page, slug: str, page: Page, person: Person, role: str) -> Page:
    """The owner invites ``person``, who accepts in ``page`` (their own browser context)."""
    invite(owner_page, slug, person, role)
    accept_invitation(page, person)
    return page


class Counted:
    """What a person does in the browser, counted: every click, every field filled or chosen, and
    every link followed from an email (a click in the mail reader)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.interactions = 0

    def open(self, url: str) -> None:
        self.interactions += 1
        self.page.goto(url)

    def fill(self, locator: Locator, value: str) -> None:
        self.interactions += 1
        locator.fill(value)

    def choose(self, locator: Locator, value: str) -> None:
        self.interactions += 1
        locator.select_option(value)

    def check(self, locator: Locator) -> None:
        self.interactions += 1
        locator.check()

    def click(self, locator: Locator) -> None:
        self.interactions += 1
        locator.click()


# --- Pages: plans and the editor ------------------------------------------------------------------


def create_template_plan(page: Page, slug: str, title: str = "Growth plan") -> int:
    """Plans → New plan → the four-stage template; returns the plan's id (the editor opens)."""
    page.goto(f"/o/{slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name="New plan", exact=True).click()
    page.get_by_label(re.compile(r"^The four-stage template")).check()
    start, end = plan_period()
    field(page, "Title").fill(title)
    field(page, "Period starts").fill(start.isoformat())
    field(page, "Period ends").fill(end.isoformat())
    page.get_by_role("button", name="Create the plan").click()
    expect(page).to_have_url(re.compile(r"/plans/\d+/edit/$"))
    expect(page.get_by_text("is created as a draft")).to_be_visible()
    return int(re.search(r"/plans/(\d+)/edit/", page.url).group(1))


def plan_tab(page: Page, name: str) -> None:
    """Open one of a plan's tabs (Strategy map, Edit map, Review, Baselines…)."""
    page.get_by_role("navigation", name="Plan").get_by_role("link", name=re.compile(rf"^{name}")).click()
    expect(page.get_by_role("navigation", name="Plan").locator("[aria-current=page]")).to_contain_text(name)


def _row(kind: str, title: str) -> str:
    return f".row--{kind}:has(> a.row__title:text-is({json.dumps(title, ensure_ascii=False)}))"


def editor_row(page: Page, kind: str, title: str) -> Locator:
    """A milestone, objective or step row of the editor, by its exact title."""
    return page.locator(f"#editor-tree {_row(kind, title)}")


def editor_item(page: Page, kind: str, title: str) -> Locator:
    """The list item holding a node's row and its children (and their quick-add forms)."""
    return page.locator(f"li.editor__node--{kind}").filter(has=page.locator(_row(kind, title)))


QUICK_ADD = {  # kind added: (the kind of its parent, the placeholder of the input under the parent)
    "milestone": (None, "Add a milestone…"),
    "objective": ("milestone", "Add an objective…"),
    "step": ("objective", "Add an action step…"),
}


def quick_add(page: Page, kind: str, title: str, under: str | None = None) -> Locator:
    """Type a title into the quick-add input under the parent titled ``under`` and press Enter;
    htmx redraws the tree. Returns the new row."""
    parent_kind, placeholder = QUICK_ADD[kind]
    scope = page if parent_kind is None else editor_item(page, parent_kind, under)
    box = scope.get_by_placeholder(placeholder, exact=True)
    box.fill(title)
    box.press("Enter")
    row = editor_row(page, kind, title)
    expect(row).to_be_visible()
    htmx_settled(page)
    return row


def htmx_settled(page: Page) -> None:
    """Wait until htmx has finished swapping and settling, so the forms it just inserted are wired
    up (a form used before that would submit as a plain page load)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def open_inline_edit(page: Page, kind: str, title: str) -> Locator:
    """Click a row's Edit: htmx swaps the row for its form, which is returned."""
    row = editor_row(page, kind, title)
    row_id = row.get_attribute("id")
    row.locator(".row__actions").get_by_role("link", name="Edit").click()
    form = page.locator(f"form#{row_id}")
    expect(form).to_be_visible()
    htmx_settled(page)
    return form


def save_inline_edit(page: Page, form: Locator) -> Locator:
    """Save an inline edit form; returns the row htmx puts back."""
    row_id = form.get_attribute("id")
    form.get_by_role("button", name="Save").click()
    row = page.locator(f"div#{row_id}")
    expect(row).to_be_visible()
    htmx_settled(page)
    return row


def edit_inline(page: Page, kind: str, node_title: str, /, **fields: str | Person) -> Locator:
    """Edit one node in the editor: fields named like their labels (``due_date`` is "Due date"),
    text typed in, people chosen by their label in the list."""
    form = open_inline_edit(page, kind, node_title)
    for label, value in fields.items():
        control = field(form, label.replace("_", " ").capitalize())
        if isinstance(value, Person):
            control.select_option(label=value.label)
        else:
            control.fill(value)
    return save_inline_edit(page, form)


def readiness_problems(page: Page) -> list[tuple[str, str]]:
    """The Review tab's blocking problems, as (title, message)."""
    problems = []
    for item in page.locator(".problem--blocking").all():
        title = item.get_by_role("link").inner_text().strip()
        message = item.inner_text().strip().rpartition(f"{title}: ")[2]
        problems.append((title, message))
    return problems


def fix_readiness(
    page: Page, slug: str, plan_id: int, assignee: Person, owner: Person
) -> list[tuple[str, str]]:
    """Open the Review tab, fix in the editor every blocking problem it lists, and come back clean."""
    page.goto(f"/o/{slug}/plans/{plan_id}/review/")
    problems = readiness_problems(page)
    page.goto(f"/o/{slug}/plans/{plan_id}/edit/")
    due = (plan_period()[0] + timedelta(days=60)).isoformat()
    for title, message in problems:
        if message == "Action step without an assignee.":
            edit_inline(page, "step", title, assignee=assignee)
        elif message == "Objective without an owner.":
            edit_inline(page, "objective", title, owner=owner)
        elif message == "Objective without a due date.":
            edit_inline(page, "objective", title, due_date=due)
        else:  # pragma: no cover - a new kind of problem: the test must learn it
            raise AssertionError(f"unknown readiness problem: {title}: {message}")
    page.goto(f"/o/{slug}/plans/{plan_id}/review/")
    expect(page.get_by_text("No blocking problems")).to_be_visible()
    return problems


def submit_for_review(page: Page, slug: str, plan_id: int, approver: Person, note: str = "") -> None:
    page.goto(f"/o/{slug}/plans/{plan_id}/review/")
    expect(page.get_by_role("checkbox", name=approver.label, exact=True)).to_be_checked()
    if note:
        field(page, "Note to the approvers").fill(note)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted: the approvers are told by email.")).to_be_visible()


def waiting_count(page: Page) -> Locator:
    """The count beside "Waiting for me" in the main navigation."""
    link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Waiting for me")
    )
    return link.locator(".nav-count")


def approve(page: Page, slug: str, plan_title: str, comment: str = "") -> None:
    """An approver opens the plan from "Waiting for me" and approves it."""
    page.goto(f"/o/{slug}/review/")
    page.get_by_role("link", name=f"Review {plan_title}").click()
    if comment:
        field(page, "Comment").fill(comment)
    page.get_by_role("button", name="Approve the plan").click()
    expect(page.get_by_text("Approved. The baseline is frozen and the work is handed out.")).to_be_visible()


def percent(locator: Locator) -> int:
    """The number of a progress bar (the ``progress`` tag in ``bizops/templatetags/ui.py``)."""
    text = locator.locator(".progress__value").first.inner_text()
    return int(text.strip().rstrip("%"))


# --- Evidence: screenshots and accessibility ------------------------------------------------------


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under $E2E_SCREENSHOTS (default test-artifacts/screenshots, gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations.

    The app's Content-Security-Policy (script-src 'self') refuses an injected <script> tag, so the
    library is evaluated through the DevTools protocol instead, which the policy does not govern.
    """
    if not AXE_JS.exists():
        pytest.skip(
            f"axe-core is not installed ({AXE_JS.relative_to(ROOT)} is missing): run scripts/ensure-browser "
            "or `npm ci` to enable the accessibility checks"
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe_violations(name: str, violations: list[dict]) -> str:
    lines = [f"axe: {len(violations)} serious/critical violation(s) on {name}:"]
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']}: {', '.join(targets)}{more}")
    return "\n".join(lines)


def check_accessibility(page: Page, name: str) -> None:
    """Fail on any axe violation of impact serious or critical, listing each with its selectors."""
    violations = axe_violations(page)
    if violations:
        message = describe_violations(name, violations)
        print(message)
        pytest.fail(message, pytrace=False)
