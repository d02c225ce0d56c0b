import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, TeamFactory


@pytest.mark.django_db
def test_manager_creates_team_adds_and_removes_members(acme, clients):
    client = clients["manager"]
    response = client.post(
        reverse("team_create", args=[acme.org.slug]), {"name": "Sales", "lead": acme.manager.pk}
    )
    team = acme.org.teams.get(name="Sales")
    assert response.url == reverse("team_detail", args=[acme.org.slug, team.pk])
    assert list(team.members.all()) == [acme.manager]

    url = reverse("team_detail", args=[acme.org.slug, team.pk])

    def picker() -> str:  # the "add a member" select, not the lead's
        return client.get(url).content.decode().split('id="id_member"')[1].split("</select>")[0]

    # The picker offers who can still join: the lead is in the team already.
    assert (
        f'<option value="{acme.member.pk}"' in picker()
        and f'<option value="{acme.manager.pk}"' not in picker()
    )
    client.post(url, {"action": "add_member", "member": acme.member.pk})
    assert team.members.filter(pk=acme.member.pk).exists()
    assert f'<option value="{acme.member.pk}"' not in picker()
    client.post(url, {"action": "update", "name": "Sales EMEA", "lead": acme.member.pk})
    team.refresh_from_db()
    assert (team.name, team.lead_id) == ("Sales EMEA", acme.member.pk)
    client.post(url, {"action": "remove_member", "member": acme.member.pk})
    team.refresh_from_db()
    assert not team.members.filter(pk=acme.member.pk).exists()
    assert team.lead is None  # the lead left, so the team has none


@pytest.mark.django_db
def test_duplicate_team_name_is_refused_case_insensitively(acme, clients):
    TeamFactory(organization=acme.org, name="Sales")
    response = clients["owner"].post(reverse("team_create", args=[acme.org.slug]), {"name": "SALES"})
    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert acme.org.teams.count() == 1


@pytest.mark.django_db
def test_lead_or_member_from_another_organization_is_refused(acme, other, clients):
    response = clients["owner"].post(
        reverse("team_create", args=[acme.org.slug]), {"name": "X", "lead": other.member.pk}
    )
    assert response.status_code == 400
    team = TeamFactory(organization=acme.org)
    url = reverse("team_detail", args=[acme.org.slug, team.pk])
    response = clients["owner"].post(url, {"action": "add_member", "member": other.member.pk})
    assert response.status_code == 400
    assert not team.members.exists()


@pytest.mark.django_db
def test_delete_team(acme, clients):
    team = TeamFactory(organization=acme.org)
    response = clients["admin"].post(
        reverse("team_detail", args=[acme.org.slug, team.pk]), {"action": "delete"}
    )
    assert response.url == reverse("team_list", args=[acme.org.slug])
    assert not acme.org.teams.exists()


@pytest.mark.django_db
def test_team_list_query_count_is_flat(acme, clients, django_assert_max_num_queries):
    url = reverse("team_list", args=[acme.org.slug])
    TeamFactory.create_batch(2, organization=acme.org)
    with django_assert_max_num_queries(12) as small:
        clients["owner"].get(url)
    for team in TeamFactory.create_batch(40, organization=acme.org):
        team.lead = MembershipFactory(organization=acme.org)
        team.save()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert clients["owner"].get(url).status_code == 200
