"""The invitation flow: sent by email, accepted once, and clear pages for bad links."""

import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bizops import services
from bizops.models import Invitation, Membership, OutboundEmail, User
from tests.factories import PASSWORD, TeamFactory, UserFactory


def invite(client, org, email="newbie@example.com", role="member", team=None):
    data = {"email": email, "role": role}
    if team:
        data["team"] = team.pk
    return client.post(reverse("member_invite", args=[org.slug]), data)


def link_from(mail) -> str:
    return re.search(r"http://testserver(/invite/[^\s]+/)", mail.body).group(1)


@pytest.mark.django_db
def test_invited_person_signs_up_through_the_emailed_link(
    acme, clients, client, mailoutbox, django_capture_on_commit_callbacks
):
    team = TeamFactory(organization=acme.org, name="Sales")
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(clients["admin"], acme.org, team=team)
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newbie@example.com"]
    assert "Acme" in mailoutbox[0].subject
    # The email is kept in the organization's outbox, marked sent.
    stored = OutboundEmail.objects.get(organization=acme.org, kind="invitation")
    assert stored.status == "sent"

    link = link_from(mailoutbox[0])
    page = client.get(link)
    assert page.status_code == 200
    assert "Create account and join" in page.content.decode()
    response = client.post(
        link, {"display_name": "New Person", "password": "a-long-unusual-passphrase", "time_zone": "UTC"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="newbie@example.com", organization=acme.org)
    assert membership.role == "member"
    assert team.members.filter(pk=membership.pk).exists()
    assert client.get(reverse("planning:org_home", args=[acme.org.slug])).status_code == 200

    # Single use: the same link now says so, and creates nothing more.
    client.logout()
    again = client.get(link)
    assert again.status_code == 410
    assert "already used" in again.content.decode()


@pytest.mark.django_db
def test_existing_user_accepts_after_logging_in(acme, client):
    user = UserFactory(email="known@example.com")
    invitation = services.invitation_create(actor=acme.admin, email="known@example.com", role="viewer")
    link = services.invitation_url(invitation)
    page = client.get(link).content.decode()
    assert "Log in to accept" in page
    client.post(reverse("login"), {"username": "known@example.com", "password": PASSWORD})
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=user, organization=acme.org).role == "viewer"


@pytest.mark.django_db
def test_a_link_for_someone_else_is_refused(acme, client):
    invitation = services.invitation_create(actor=acme.admin, email="right@example.com", role="member")
    client.force_login(UserFactory(email="wrong@example.com"))
    response = client.post(services.invitation_url(invitation))
    assert response.status_code == 403
    assert "for someone else" in response.content.decode()
    assert not Membership.objects.filter(user__email="wrong@example.com", organization=acme.org).exists()


@pytest.mark.django_db
def test_expired_link_gets_a_clear_page(acme, client):
    invitation = services.invitation_create(actor=acme.admin, email="late@example.com", role="member")
    link = services.invitation_url(invitation)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        response = client.post(
            link, {"display_name": "Late", "password": "a-long-unusual-passphrase", "time_zone": "UTC"}
        )
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOi.fake.sig", "a" * 300])
def test_forged_link_gets_a_clear_page(token, client, db):
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


@pytest.mark.django_db
def test_withdrawn_invitation_stops_working(acme, clients, client):
    invitation = services.invitation_create(actor=acme.admin, email="gone@example.com", role="member")
    clients["owner"].post(reverse("invitation_revoke", args=[acme.org.slug, invitation.pk]))
    response = client.get(services.invitation_url(invitation))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


@pytest.mark.django_db
def test_a_new_invitation_replaces_the_open_one(acme):
    first = services.invitation_create(actor=acme.admin, email="twice@example.com", role="member")
    second = services.invitation_create(actor=acme.admin, email="TWICE@example.com", role="manager")
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_open
    assert Invitation.objects.filter(organization=acme.org, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_inviting_an_existing_member_is_refused_with_a_message(acme, clients):
    response = invite(clients["owner"], acme.org, email=acme.member.user.email)
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_admins_cannot_invite_owners(acme, clients):
    response = invite(clients["admin"], acme.org, role="owner")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_team_from_another_organization_is_refused(acme, other, clients):
    response = invite(clients["owner"], acme.org, team=TeamFactory(organization=other.org))
    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_team_is_created_from_the_invite_form_and_the_invitee_joins_it(acme, clients, client):
    from bizops.models import AuditEvent, Team

    page = clients["admin"].get(reverse("member_list", args=[acme.org.slug])).content.decode()
    # No team yet: no empty "Team" select, a field that names a new one.
    assert 'name="team"' not in page and 'name="new_team"' in page
    response = clients["admin"].post(
        reverse("member_invite", args=[acme.org.slug]),
        {"email": "writer@example.com", "role": "member", "new_team": "  Content  "},
    )
    assert response.status_code == 302
    team = Team.objects.get(organization=acme.org)
    invitation = Invitation.objects.get(email="writer@example.com")
    assert team.name == "Content" and invitation.team == team
    assert AuditEvent.objects.filter(organization=acme.org, kind="team", object_id=team.pk).exists()
    follow = clients["admin"].get(reverse("member_list", args=[acme.org.slug])).content.decode()
    assert "Team Content is created; they join it when they accept." in follow
    # With a team, both are offered: choose one, or name another.
    assert 'name="team"' in follow and 'name="new_team"' in follow
    link = re.search(r"(/invite/[^/\s]+/)", services.invitation_url(invitation)).group(1)
    client.post(link, {"display_name": "Wren", "password": "a-long-unusual-passphrase", "time_zone": "UTC"})
    joined = Membership.objects.get(organization=acme.org, user__email="writer@example.com")
    assert list(joined.teams.all()) == [team]


@pytest.mark.django_db
def test_a_refused_invitation_creates_no_team(acme, clients):
    from bizops.models import Team

    url = reverse("member_invite", args=[acme.org.slug])
    existing = TeamFactory(organization=acme.org, name="Sales")
    # An existing member's address: refused, and the new team is not left behind.
    taken = clients["admin"].post(url, {"email": acme.member.user.email, "role": "member", "new_team": "Ops"})
    assert taken.status_code == 400 and "already a member" in taken.content.decode()
    # A team and a new one at once, or a new one named like an existing team: refused at the field.
    both = clients["admin"].post(
        url, {"email": "a@example.com", "role": "member", "team": existing.pk, "new_team": "Ops"}
    )
    assert both.status_code == 400 and "Choose a team or name a new one, not both." in both.content.decode()
    same = clients["admin"].post(url, {"email": "b@example.com", "role": "member", "new_team": "Sales"})
    assert same.status_code == 400 and "A team with this name exists already." in same.content.decode()
    assert 'value="b@example.com"' in same.content.decode()  # what was typed is kept
    assert list(Team.objects.filter(organization=acme.org)) == [existing]
    assert not Invitation.objects.filter(organization=acme.org).exists()
