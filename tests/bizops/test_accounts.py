"""Sign-up, log-in lockout, profile and the organization switcher."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from bizops.account_security import password_reset_account_key, password_reset_address_key
from bizops.models import Membership, Organization, User
from tests.factories import PASSWORD, MembershipFactory, UserFactory


@pytest.mark.django_db
def test_signup_creates_user_and_organization_with_them_as_owner(client):
    response = client.post(
        reverse("signup"),
        {
            "display_name": "Ada Lovelace",
            "email": "Ada@Example.com",
            "password": "a-long-unusual-passphrase",
            "organization_name": "Analytical Engines",
            "time_zone": "Europe/London",
        },
    )
    org = Organization.objects.get(name="Analytical Engines")
    assert response.status_code == 302
    assert response.url == reverse("planning:org_home", args=[org.slug])
    user = User.objects.get(email="ada@example.com")
    assert Membership.objects.get(user=user, organization=org).role == "owner"
    assert client.get(response.url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "123", "too short"),
        ("email", "not-an-email", "valid email"),
        ("organization_name", "", "required"),
        ("time_zone", "Mars/Olympus", "valid choice"),
    ],
)
def test_signup_with_bad_input_shows_the_form_again_and_saves_nothing(client, field, value, message):
    data = {
        "display_name": "Ada",
        "email": "ada@example.com",
        "password": "a-long-unusual-passphrase",
        "organization_name": "Engines",
        "time_zone": "UTC",
        field: value,
    }
    response = client.post(reverse("signup"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_signup_with_an_existing_email_is_refused(client):
    UserFactory(email="ada@example.com")
    response = client.post(
        reverse("signup"),
        {
            "display_name": "Ada",
            "email": "ADA@example.com",
            "password": "a-long-unusual-passphrase",
            "organization_name": "Engines",
            "time_zone": "UTC",
        },
    )
    assert "exists already" in response.content.decode()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_login_with_email_is_case_insensitive(client):
    UserFactory(email="ada@example.com")
    response = client.post(reverse("login"), {"username": "ADA@example.com", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_out(client, settings):
    user = UserFactory(email="ada@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct" in response.content.decode()
    # The last allowed failure locks; from then on even the right password is refused, saying why.
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 429
    # Locked now, even with the right password, and the page says why.
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_also_covers_the_admin_login(client, settings):
    UserFactory(email="staff@example.com", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": "staff@example.com", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.django_db
def test_admin_is_for_staff_only(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


@pytest.mark.django_db
def test_profile_update_and_bad_time_zone(client):
    user = UserFactory(display_name="Ada")
    client.force_login(user)
    response = client.post(reverse("profile"), {"display_name": "Ada L.", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("Ada L.", "Asia/Tokyo")

    response = client.post(reverse("profile"), {"display_name": "", "time_zone": "Nowhere/Here"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"


@pytest.mark.django_db
def test_password_reset_sends_an_email(client, mailoutbox):
    user = UserFactory(email="ada@example.com")
    # The reset limits count in the shared cache, by user id and address, which repeat between runs.
    cache.delete_many([password_reset_account_key(user.pk), password_reset_address_key("127.0.0.1")])
    response = client.post(reverse("password_reset"), {"email": "ada@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


@pytest.mark.django_db
def test_switcher_lists_each_organization_and_home_remembers_the_last(client):
    user = UserFactory()
    first = MembershipFactory(user=user, organization__name="Alpha", organization__slug="alpha")
    second = MembershipFactory(user=user, organization__name="Beta", organization__slug="beta")
    client.force_login(user)
    page = client.get(reverse("planning:org_home", args=["beta"])).content.decode()
    assert "Alpha" in page and "Beta" in page
    assert client.get(reverse("home")).url == reverse("planning:org_home", args=[second.organization.slug])
    client.get(reverse("planning:org_home", args=[first.organization.slug]))
    assert client.get(reverse("home")).url == reverse("planning:org_home", args=["alpha"])


@pytest.mark.django_db
def test_user_without_organization_is_asked_to_create_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.url == reverse("organization_create")
    response = client.post(reverse("organization_create"), {"name": "New Co"})
    org = Organization.objects.get(name="New Co")
    assert response.url == reverse("planning:org_home", args=[org.slug])


@pytest.mark.django_db
def test_a_used_session_is_saved_again_only_once_its_last_save_is_old(acme, client, settings):
    """Idle expiry counts from the last activity, without a session write on every request."""
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bizops.middleware import SessionRefreshMiddleware

    client.force_login(acme.member.user)
    home = reverse("planning:org_home", args=[acme.org.slug])
    client.get(home)  # the first request after login stamps the session

    def writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(home).status_code == 200
        return sum(q["sql"].startswith('UPDATE "django_session"') for q in queries.captured_queries)

    assert writes() == 0
    session = client.session
    session[SessionRefreshMiddleware.KEY] = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session.save()
    assert writes() == 1
    assert writes() == 0
