"""Roles, removal and the last-owner rule."""

import pytest
from django.urls import reverse

from bizops import services
from bizops.errors import Conflict, ValidationError


def change_role(client, org, membership, role):
    return client.post(reverse("member_change_role", args=[org.slug, membership.pk]), {"role": role})


@pytest.mark.django_db
def test_admin_changes_a_members_role(acme, clients):
    response = change_role(clients["admin"], acme.org, acme.member, "manager")
    assert response.status_code == 302
    acme.member.refresh_from_db()
    assert acme.member.role == "manager"


@pytest.mark.django_db
def test_the_last_owner_cannot_be_demoted_or_removed(acme, clients):
    owner_client = clients["owner"]
    change_role(owner_client, acme.org, acme.owner, "admin")
    acme.owner.refresh_from_db()
    assert acme.owner.role == "owner"
    page = owner_client.get(reverse("member_list", args=[acme.org.slug]), follow=True).content.decode()
    assert "needs an owner" in page

    owner_client.post(reverse("member_remove", args=[acme.org.slug, acme.owner.pk]))
    assert acme.org.memberships.filter(pk=acme.owner.pk).exists()


@pytest.mark.django_db
def test_with_two_owners_one_may_step_down(acme, clients):
    services.membership_change_role(actor=acme.owner, membership=acme.admin, role="owner")
    change_role(clients["owner"], acme.org, acme.owner, "member")
    acme.owner.refresh_from_db()
    assert acme.owner.role == "member"


@pytest.mark.django_db
def test_admins_cannot_touch_owners(acme):
    with pytest.raises(ValidationError):
        services.membership_change_role(actor=acme.admin, membership=acme.owner, role="viewer")
    with pytest.raises(ValidationError):
        services.membership_remove(actor=acme.admin, membership=acme.owner)
    with pytest.raises(ValidationError):
        services.membership_change_role(actor=acme.admin, membership=acme.member, role="owner")


@pytest.mark.django_db
def test_removing_the_last_owner_through_the_service_is_a_conflict(acme):
    with pytest.raises(Conflict):
        services.membership_remove(actor=acme.owner, membership=acme.owner)


@pytest.mark.django_db
def test_removed_member_loses_access(acme, clients):
    clients["admin"].post(reverse("member_remove", args=[acme.org.slug, acme.member.pk]))
    assert clients["member"].get(reverse("planning:org_home", args=[acme.org.slug])).status_code == 404


@pytest.mark.django_db
def test_bad_role_value_changes_nothing(acme, clients):
    change_role(clients["owner"], acme.org, acme.member, "emperor")
    acme.member.refresh_from_db()
    assert acme.member.role == "member"


@pytest.mark.django_db
def test_member_list_query_count_is_flat(acme, clients, django_assert_max_num_queries):
    from tests.factories import MembershipFactory, TeamFactory

    url = reverse("member_list", args=[acme.org.slug])
    team = TeamFactory(organization=acme.org)
    for membership in MembershipFactory.create_batch(3, organization=acme.org):
        team.members.add(membership)
    with django_assert_max_num_queries(12) as small:
        clients["owner"].get(url)
    for membership in MembershipFactory.create_batch(60, organization=acme.org):
        team.members.add(membership)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = clients["owner"].get(url)
    assert response.content.decode().count('<tr id="member-') >= 60
