import pytest
from django.core.management import call_command

from bizops.demo import DEMO_PASSWORD, DEMO_SLUG
from bizops.models import Membership, Organization, Team, User


@pytest.mark.django_db
def test_demo_loads_once(client):
    call_command("load_demo", quiet_logins=True)
    counts = (User.objects.count(), Membership.objects.count(), Team.objects.count())
    call_command("load_demo", quiet_logins=True)
    assert (User.objects.count(), Membership.objects.count(), Team.objects.count()) == counts

    org = Organization.objects.get(slug=DEMO_SLUG)
    roles = sorted(org.memberships.values_list("role", flat=True))
    assert roles == ["manager", "member", "member", "member", "owner", "viewer"]
    assert org.teams.count() == 2
    response = client.post("/accounts/login/", {"username": "mia@acme.example", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get(f"/o/{DEMO_SLUG}/").status_code == 200
