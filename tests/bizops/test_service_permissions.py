"""Every write service checks its own permission from the one role map (``bizops.roles``): the matrix of
services x roles. A refused call raises PermissionDenied and leaves no trace: no row, no audit event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from bizops import services
from bizops.models import AuditEvent, Team
from bizops.roles import PERMISSIONS, Role
from metrics import services as metrics_services
from tests.factories import MembershipFactory

ROLES = [r.value for r in Role]


def _team(acme):
    return Team.objects.create(organization=acme.org, name="Existing")


def _hook(acme, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return services.webhook_create(actor=acme.owner, url="http://127.0.0.1:9/hook", events=["plan.submitted"])


# name -> (action in the role map, a call made as ``actor``)
CASES: dict[str, tuple[str, Callable]] = {
    "organization_update": (
        "org_settings",
        lambda actor, acme, settings: services.organization_update(
            actor=actor, organization=acme.org, name="Renamed"
        ),
    ),
    "invitation_create": (
        "members_invite",
        lambda actor, acme, settings: services.invitation_create(
            actor=actor, email="n@example.com", role="member"
        ),
    ),
    "invitation_revoke": (
        "members_invite",
        lambda actor, acme, settings: services.invitation_revoke(
            actor=actor,
            invitation=services.invitation_create(actor=acme.owner, email="r@example.com", role="member"),
        ),
    ),
    "membership_change_role": (
        "members_change_role",
        lambda actor, acme, settings: services.membership_change_role(
            actor=actor, membership=MembershipFactory(organization=acme.org, role="member"), role="viewer"
        ),
    ),
    "membership_remove": (
        "members_remove",
        lambda actor, acme, settings: services.membership_remove(
            actor=actor, membership=MembershipFactory(organization=acme.org, role="member")
        ),
    ),
    "team_create": (
        "teams_manage",
        lambda actor, acme, settings: services.team_create(actor=actor, name="New"),
    ),
    "team_update": (
        "teams_manage",
        lambda actor, acme, settings: services.team_update(
            actor=actor, team=_team(acme), name="Renamed", lead=None
        ),
    ),
    "team_add_member": (
        "teams_manage",
        lambda actor, acme, settings: services.team_add_member(
            actor=actor, team=_team(acme), membership=acme.member
        ),
    ),
    "team_delete": (
        "teams_manage",
        lambda actor, acme, settings: services.team_delete(actor=actor, team=_team(acme)),
    ),
    "webhook_create": (
        "webhooks_manage",
        lambda actor, acme, settings: (
            setattr(settings, "WEBHOOKS_ALLOW_PRIVATE", True),
            services.webhook_create(actor=actor, url="http://127.0.0.1:9/x", events=["plan.submitted"]),
        ),
    ),
    "webhook_pause": (
        "webhooks_manage",
        lambda actor, acme, settings: services.webhook_pause(actor=actor, hook=_hook(acme, settings)),
    ),
    "webhook_rotate_secret": (
        "webhooks_manage",
        lambda actor, acme, settings: services.webhook_rotate_secret(actor=actor, hook=_hook(acme, settings)),
    ),
    "webhook_delete": (
        "webhooks_manage",
        lambda actor, acme, settings: services.webhook_delete(actor=actor, hook=_hook(acme, settings)),
    ),
    "kpi_create": (
        "kpi_manage",
        lambda actor, acme, settings: metrics_services.kpi_create(
            actor=actor, name="Leads", unit="number", direction="increase", target=10, frequency="monthly"
        ),
    ),
    "kpi_target_set": (
        "kpi_manage",
        lambda actor, acme, settings: metrics_services.kpi_target_set(
            actor=actor,
            kpi=metrics_services.kpi_create(
                actor=acme.owner,
                name="Calls",
                unit="number",
                direction="increase",
                target=10,
                frequency="monthly",
            ),
            period=date(2027, 3, 1),
            target=5,
        ),
    ),
}


def test_every_case_names_an_action_of_the_role_map():
    assert {action for action, _ in CASES.values()} <= set(PERMISSIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_service_allows_exactly_the_roles_of_its_action(acme, settings, name, role):
    action, call = CASES[name]
    actor = acme.member_of(role)
    if role in PERMISSIONS[action]:
        call(actor, acme, settings)
        assert AuditEvent.objects.filter(organization=acme.org, actor=actor.user).exists(), name
        return
    with pytest.raises(PermissionDenied):
        call(actor, acme, settings)
    assert not AuditEvent.objects.filter(organization=acme.org, actor=actor.user).exists(), name
