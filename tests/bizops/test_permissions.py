"""Who may open which page of the company core: anonymous, outsider, then each role."""

import pytest
from django.urls import reverse

from tests.factories import InvitationFactory, TeamFactory
from tests.names import qualified

ANON = "login"  # anonymous users are sent to log in

# page name -> expected status per role, for GET
MATRIX = {
    "org_home": {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200},
    "member_list": {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200},
    "team_list": {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200},
    "team_detail": {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200},
    "outbox": {"owner": 200, "admin": 200, "manager": 403, "member": 403, "viewer": 403},
    "organization_settings": {"owner": 200, "admin": 200, "manager": 403, "member": 403, "viewer": 403},
}


def _url(name, acme, team):
    kwargs = {"org_slug": acme.org.slug}
    if name == "team_detail":
        kwargs["team_id"] = team.pk
    return reverse(qualified(name), kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("name", MATRIX)
def test_page_permission_matrix(name, acme, clients):
    team = TeamFactory(organization=acme.org)
    url = _url(name, acme, team)

    anonymous = clients["anonymous"].get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("login"))

    # The outsider belongs to another organization: Acme does not exist for them.
    assert clients["outsider"].get(url).status_code == 404

    for role, expected in MATRIX[name].items():
        assert clients[role].get(url).status_code == expected, (name, role)


@pytest.mark.django_db
def test_another_organizations_objects_answer_404(acme, other, clients):
    """Globex's team and invitation ids, used under Acme's slug, are the same as missing ones."""
    globex_team = TeamFactory(organization=other.org)
    globex_invitation = InvitationFactory(organization=other.org)
    owner = clients["owner"]
    slug = acme.org.slug

    assert owner.get(reverse("team_detail", args=[slug, globex_team.pk])).status_code == 404
    assert owner.get(reverse("team_detail", args=[slug, 999999])).status_code == 404
    response = owner.post(reverse("invitation_revoke", args=[slug, globex_invitation.pk]))
    assert response.status_code == 404
    globex_invitation.refresh_from_db()
    assert globex_invitation.revoked_at is None
    response = owner.post(reverse("member_remove", args=[slug, other.member.pk]))
    assert response.status_code == 404
    assert other.org.memberships.filter(pk=other.member.pk).exists()
    response = owner.post(reverse("member_change_role", args=[slug, other.member.pk]), {"role": "viewer"})
    assert response.status_code == 404
    other.member.refresh_from_db()
    assert other.member.role == "member"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 302), ("admin", 302), ("manager", 403), ("member", 403), ("viewer", 403)],
)
def test_only_admins_invite(role, expected, acme, clients):
    url = reverse("member_invite", args=[acme.org.slug])
    response = clients[role].post(url, {"email": "new@example.com", "role": "member"})
    assert response.status_code == expected
    assert acme.org.invitations.filter(email="new@example.com").exists() == (expected == 302)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 302), ("admin", 302), ("manager", 302), ("member", 403), ("viewer", 403)],
)
def test_managers_and_up_create_teams(role, expected, acme, clients):
    response = clients[role].post(reverse("team_create", args=[acme.org.slug]), {"name": "Sales"})
    assert response.status_code == expected
    assert acme.org.teams.filter(name="Sales").exists() == (expected == 302)


@pytest.mark.django_db
def test_members_cannot_post_team_changes(acme, clients):
    team = TeamFactory(organization=acme.org, name="Content")
    url = reverse("team_detail", args=[acme.org.slug, team.pk])
    response = clients["member"].post(url, {"action": "update", "name": "Renamed"})
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.name == "Content"


@pytest.mark.django_db
def test_navigation_hides_what_the_role_cannot_do(acme, clients):
    owner_page = clients["owner"].get(reverse("member_list", args=[acme.org.slug])).content.decode()
    viewer_page = clients["viewer"].get(reverse("member_list", args=[acme.org.slug])).content.decode()
    assert "Send invitation" in owner_page and ">Outbox<" in owner_page
    assert "Send invitation" not in viewer_page and ">Outbox<" not in viewer_page
