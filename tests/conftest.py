"""Shared fixtures: one organization with a person per role, an outsider from another organization,
and a logged-in client for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from bizops.models import Membership, Organization
from bizops.roles import Role
from metrics import services as metrics_services
from metrics.models import KPI
from planning import services as planning_services

from .ci_gate import pytest_runtest_makereport  # noqa: F401 (a hook: under CI, skipped e2e/worker tests fail)
from .factories import MembershipFactory, OrganizationFactory, TeamFactory

ROLES = ["owner", "admin", "manager", "member", "viewer"]


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Most tests run tasks in-process; tests marked ``worker`` use a real worker against Redis."""
    from bizops.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver"


@dataclass
class Org:
    org: Organization
    owner: Membership
    admin: Membership
    manager: Membership
    member: Membership
    viewer: Membership

    def member_of(self, role: str) -> Membership:
        return getattr(self, role)


def make_org(**kwargs) -> Org:
    org = OrganizationFactory(**kwargs)
    people = {role: MembershipFactory(organization=org, role=Role(role)) for role in ROLES}
    return Org(org=org, **people)


@pytest.fixture
def acme(db) -> Org:
    return make_org(name="Acme", slug="acme")


@pytest.fixture
def other(db) -> Org:
    """Another organization, whose ids must answer 404 to Acme's people."""
    return make_org(name="Globex", slug="globex")


def client_for(membership: Membership | None) -> Client:
    client = Client()
    if membership is not None:
        client.force_login(membership.user)
    return client


@pytest.fixture
def clients(acme, other) -> dict[str, Client]:
    """A client per role in Acme, an anonymous one, and an outsider (Globex's owner)."""
    result = {role: client_for(acme.member_of(role)) for role in ROLES}
    result["anonymous"] = Client()
    result["outsider"] = client_for(other.owner)
    return result


# --- A small plan, for planning and metrics tests ---------------------------------------------------


@pytest.fixture
def plan(acme):
    """A draft plan of Acme owned by its manager, with one milestone, objective and step."""
    p = planning_services.plan_create(
        actor=acme.manager,
        title="Growth 2027",
        ultimate_goal="Be the agency software companies trust first.",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
    )
    milestone = planning_services.milestone_create(actor=acme.manager, plan=p, title="Build a pipeline")
    objective = planning_services.objective_create(
        actor=acme.manager,
        milestone=milestone,
        title="Close five clients a month",
        team=TeamFactory(organization=acme.org, name="Sales"),
        owner=acme.manager,
        start_date=date(2027, 1, 1),
        due_date=date(2027, 3, 31),
    )
    planning_services.step_create(
        actor=acme.manager, objective=objective, title="Reach out to leads", assignee=acme.member
    )
    return p


@pytest.fixture
def tree(plan):
    milestone = plan.milestones.get()
    objective = milestone.objectives.get()
    step = objective.steps.get()
    for node in (milestone, objective, step):
        node.plan = plan
    return milestone, objective, step


# --- Measures, for metrics tests and the webhooks that report them ----------------------------------


@pytest.fixture
def leads(acme) -> KPI:
    return metrics_services.kpi_create(
        actor=acme.manager,
        name="Leads reached a month",
        unit="number",
        direction="increase",
        target=100,
        amber_threshold=85,
        red_threshold=70,
        frequency="monthly",
        owner=acme.member,
    )


@pytest.fixture
def key_result(acme, plan, tree):
    _, objective, _ = tree
    return metrics_services.key_result_create(
        actor=acme.manager, objective=objective, title="Clients signed", start=0, target=5
    )


@pytest.fixture
def march():
    return date(2027, 3, 15)
