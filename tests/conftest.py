"""Shared fixtures: one organization with a person per role, an outsider from another organization,
and a logged-in client for each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from bizops.models import Membership, Organization
from bizops.roles import Role

from .factories import MembershipFactory, OrganizationFactory

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
