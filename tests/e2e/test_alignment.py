"""Alignment, walked in a real browser: a team plan names the company plan it serves in its settings,
its objective picks the company objective it serves from the searchable picker, and once both run the
team's progress shows under that objective on the company's strategy map and in the alignment view,
which a team filter narrows (the filter in its own address)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bizops.models import Membership, Team
from bizops.roles import Role
from planning import services
from planning.models import ActionStep, Plan
from tests.factories import MembershipFactory

from .conftest import OWNER, axe_violations, describe_violations, plan_period, screenshot, sign_up

pytestmark = pytest.mark.e2e

COMPANY_OBJECTIVE = "Win 60 new clients this year"
TEAM_OBJECTIVE = "Close five copywriting clients a month"


def _plan(owner: Membership, title: str, objectives: list[str], team: Team | None = None) -> Plan:
    start, end = plan_period()
    plan = services.plan_create(
        actor=owner, title=title, ultimate_goal=f"The goal of {title}.", period_start=start, period_end=end
    )
    milestone = services.milestone_create(actor=owner, plan=plan, title=f"{title}: the first stage")
    for title_ in objectives:
        objective = services.objective_create(
            actor=owner,
            milestone=milestone,
            title=title_,
            owner=owner,
            team=team,
            start_date=start,
            due_date=end,
        )
        for n in range(2):
            services.step_create(
                actor=owner, objective=objective, title=f"{title_}: step {n + 1}", assignee=owner
            )
    return plan


def _approve(owner: Membership, approver: Membership, plan: Plan) -> None:
    services.plan_submit(actor=owner, plan=plan, approvers=[approver])
    services.plan_approve(actor=approver, plan=Plan.objects.get(pk=plan.pk), comment="Go")


def test_a_team_plan_aligned_to_a_company_objective_shows_its_progress_above(page: Page):
    slug = sign_up(page, OWNER)
    owner = Membership.objects.select_related("organization").get(organization__slug=slug)
    approver = MembershipFactory(organization=owner.organization, role=Role.ADMIN)
    copywriters = Team.objects.create(organization=owner.organization, name="Copywriters")
    company = _plan(owner, "Quill company plan", [COMPANY_OBJECTIVE, "Open a second studio"])
    team = _plan(owner, "Copywriting team plan", [TEAM_OBJECTIVE, "Write the house style guide"], copywriters)
    _approve(owner, approver, company)

    # The team plan's settings name the plan it serves.
    page.goto(f"/o/{slug}/plans/{team.pk}/settings/")
    page.get_by_label("Serves plan").select_option(label="Quill company plan")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Serves Quill company plan")).to_be_visible()

    # Its objective picks what it serves: typing narrows the parent plan's nodes in place.
    objective = team.objectives.get(title=TEAM_OBJECTIVE)
    page.goto(f"/o/{slug}/plans/{team.pk}/nodes/objective/{objective.pk}/")
    page.get_by_role("link", name="Choose what it serves").click()
    options = page.locator("#alignment-options")
    expect(options.get_by_text("Open a second studio")).to_be_visible()
    page.get_by_label("Find in “Quill company plan”").fill("clients")
    expect(options.get_by_text("Open a second studio")).to_have_count(0)
    options.get_by_label(re.compile(COMPANY_OBJECTIVE)).check()
    violations = axe_violations(page)
    assert not violations, describe_violations("the alignment picker", violations)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"“{TEAM_OBJECTIVE}” is aligned.")).to_be_visible()
    expect(page.get_by_role("link", name=COMPANY_OBJECTIVE)).to_be_visible()

    # The team plan runs; one of its objective's two steps is done.
    _approve(owner, approver, team)
    ActionStep.objects.filter(objective=objective, title__endswith="step 1").update(status="done")

    # The company's map: under its objective, the team objective with its progress (collapsed first).
    page.goto(f"/o/{slug}/plans/{company.pk}/")
    served = page.locator("details.tree__served")
    expect(served.locator("summary")).to_have_text(re.compile("Served by 1 team objective"))
    expect(served.get_by_role("link", name=TEAM_OBJECTIVE)).to_be_hidden()
    served.locator("summary").click()
    expect(served.get_by_role("link", name=TEAM_OBJECTIVE)).to_be_visible()
    expect(served).to_contain_text("Copywriters")
    expect(served).to_contain_text("counts in this figure")
    expect(served.locator(".progress__value").first).to_have_text("50%")
    # Its own step not done, the team objective half done: (0 + 0 + 0.5) / 3 = 17%.
    row = (
        page.locator(".tree__node--objective").filter(has_text=COMPANY_OBJECTIVE).locator(".tree__row").first
    )
    expect(row.locator(".progress__value")).to_have_text("17%")
    screenshot(page, "alignment-company-map")

    # The alignment view: one tree, the team objective under the company objective.
    page.get_by_role("navigation").get_by_role("link", name="Alignment").click()
    expect(page.get_by_role("heading", level=1, name="Alignment")).to_be_visible()
    tree = page.locator("section", has=page.get_by_role("heading", name="The tree"))
    expect(tree.locator(".align-served").get_by_role("link", name=TEAM_OBJECTIVE)).to_be_visible()
    nothing = page.locator("section", has=page.get_by_role("heading", name=re.compile("serve nothing")))
    expect(nothing.get_by_role("link", name="Write the house style guide")).to_be_visible()
    unserved = page.locator("section", has=page.get_by_role("heading", name=re.compile("no team works on")))
    expect(unserved.get_by_role("link", name="Open a second studio")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe_violations("the alignment view", violations)
    screenshot(page, "alignment-view")

    # A filter has its own address, and narrows the tree to the team's objectives and what they serve.
    page.get_by_label("Team", exact=True).select_option(label="Copywriters")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"team={copywriters.pk}"))
    expect(tree.get_by_role("link", name=TEAM_OBJECTIVE)).to_be_visible()
    expect(tree.get_by_role("link", name="Open a second studio")).to_have_count(0)

    # At 390 px the view reads as a list: no word-per-line titles.
    page.set_viewport_size({"width": 390, "height": 844})
    link = tree.get_by_role("link", name=TEAM_OBJECTIVE)
    box = link.bounding_box()
    assert box is not None and box["width"] > 150, box
    screenshot(page, "alignment-view-390")
