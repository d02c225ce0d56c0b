"""Account security: log-in lockout per account and per address, the client address behind proxies,
the locked account's email, password reset limits, and what a new password or "Sign out everywhere"
ends (other sessions, API tokens, emailed one-click links)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from bizops.account_security import (
    lock_notice_key,
    password_reset_account_key,
    password_reset_address_key,
)
from bizops.authentication import api_token_create
from bizops.links import action_token
from bizops.models import OutboundEmail, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-7"
ADDRESSES = ["127.0.0.1", "10.0.0.2"] + [
    f"{net}.{i}" for net in ("198.51.100", "203.0.113", "192.0.2") for i in range(60)
]


@pytest.fixture(autouse=True)
def _forget_limits():
    """The reset limits and lock notices live in the shared cache (Redis), keyed by user id and address,
    which repeat from run to run: forget this test's before and after it."""

    def forget() -> None:
        keys = [password_reset_address_key(a) for a in ADDRESSES]
        for pk, email in User.objects.values_list("pk", "email"):
            keys += [password_reset_account_key(pk), lock_notice_key(email)]
        keys += [lock_notice_key(u) for u in AccessAttempt.objects.values_list("username", flat=True) if u]
        cache.delete_many(keys)

    cache.delete_many([password_reset_address_key(a) for a in ADDRESSES])
    yield forget
    forget()


def log_in(email: str, password: str, address: str, client: Client | None = None, **headers):
    client = client or Client()
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address, **headers
    )


def page(response) -> str:
    """The page without its CSRF tokens, which differ on every response."""
    text = response.content.decode()
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1…", text)


def lock(email: str, limit: int, addresses=None) -> None:
    """Fail ``limit`` log-ins to ``email``, each from another address by default."""
    for i in range(limit):
        log_in(email, "wrong", addresses[i] if addresses else f"198.51.100.{i + 1}")


# --- Accounts are locked, not addresses -------------------------------------------------------------


def test_an_account_is_locked_after_the_limit_from_any_number_of_addresses(settings, _forget_limits):
    UserFactory(email="mia@acme.example")
    _forget_limits()
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        # The same account however its email is spelled, each failure from another address.
        spelled = ["Mia@Acme.example", "mia@acme.example", "MIA@ACME.EXAMPLE"][i % 3]
        response = log_in(spelled, "wrong", f"198.51.100.{i + 1}")
        assert response.status_code == 200
        assert "Please enter a correct" in response.content.decode()
    assert log_in("mia@ACME.example", "wrong", f"198.51.100.{limit}").status_code == 429

    # Locked: the right password from a fresh address gets exactly what a wrong one gets.
    right_client = Client()
    right = log_in("mia@acme.example", PASSWORD, "203.0.113.10", client=right_client)
    wrong = log_in("Mia@acme.example", "still-wrong", "203.0.113.11")
    assert right.status_code == wrong.status_code == 429
    assert page(right) == page(wrong)
    assert "Too many failed log-ins" in page(right)
    assert "_auth_user_id" not in right_client.session
    # Other accounts are not locked, from those same addresses.
    UserFactory(email="sam@acme.example")
    assert log_in("sam@acme.example", PASSWORD, "198.51.100.1").status_code == 302


def test_an_address_trying_many_accounts_is_locked(settings):
    UserFactory(email="lee@acme.example")
    spray = "198.51.100.77"
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        assert log_in(f"person{i}@acme.example", "Summer2026!", spray).status_code == 200
    assert log_in("last@acme.example", "Summer2026!", spray).status_code == 429
    # The address is locked for every account, with the right password too; the account is not.
    assert log_in("lee@acme.example", PASSWORD, spray).status_code == 429
    assert log_in("lee@acme.example", PASSWORD, "203.0.113.5").status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_at_its_own_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(email="mia@acme.example")
    UserFactory(email="sam@acme.example")
    proxy = "10.0.0.2"  # every request reaches the app from the proxy
    # The guesser forges the left of X-Forwarded-For; the proxy appends the address it really saw.
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT + 2):
        log_in("mia@acme.example", "wrong", proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.7")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}

    # A colleague through the same proxy logs in; Mia's account and the guesser's address stay locked.
    assert log_in("sam@acme.example", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.44").status_code == 302
    assert log_in("mia@acme.example", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.45").status_code == 429
    assert log_in("sam@acme.example", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0  # the default
    UserFactory(email="lee@acme.example")
    guesser = "198.51.100.9"
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        log_in(f"person{i}@acme.example", "wrong", guesser, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {guesser}
    fresh_header = log_in("lee@acme.example", PASSWORD, guesser, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert fresh_header.status_code == 429


# --- The owner of a locked account is told, once a lock --------------------------------------------


def test_the_owner_of_a_locked_account_gets_one_email_with_a_way_to_reset(
    settings, mailoutbox, django_capture_on_commit_callbacks, _forget_limits
):
    user = UserFactory(email="mia@acme.example", display_name="Mia Wong")
    _forget_limits()
    limit = settings.AXES_FAILURE_LIMIT
    with django_capture_on_commit_callbacks(execute=True):
        lock("Mia@Acme.example", limit)
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # still locked: no more emails
            log_in("mia@acme.example", PASSWORD, address)
            log_in("mia@acme.example", "wrong", address)
        lock("nobody@acme.example", limit)  # an account that does not exist: locked, nobody told

    email = OutboundEmail.objects.get(kind="account_locked")
    assert (email.recipient, email.to_email) == (user, "mia@acme.example")
    assert "paused" in email.subject
    assert "http://testserver/accounts/password_reset/" in email.body_text
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["mia@acme.example"]
    assert "http://testserver/accounts/password_reset/" in mailoutbox[0].body

    # After the cool-off Mia logs in; a later lock is a new one, and she is told again.
    with time_machine.travel(datetime.now(UTC) + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert log_in("mia@acme.example", PASSWORD, "192.0.2.50").status_code == 302
        lock("mia@acme.example", limit)
    assert OutboundEmail.objects.filter(kind="account_locked", recipient=user).count() == 2


def test_a_new_password_ends_the_lock(settings, mailoutbox, _forget_limits):
    UserFactory(email="mia@acme.example")
    _forget_limits()
    lock("mia@acme.example", settings.AXES_FAILURE_LIMIT)
    assert log_in("mia@acme.example", PASSWORD, "192.0.2.59").status_code == 429
    reset_by_email(Client(), "mia@acme.example", mailoutbox)
    assert log_in("mia@acme.example", NEW_PASSWORD, "192.0.2.60").status_code == 302


# --- Password reset limits --------------------------------------------------------------------------


def test_password_reset_emails_are_limited_per_account(settings, mailoutbox, _forget_limits):
    UserFactory(email="ada@example.com")
    _forget_limits()
    for i in range(settings.PASSWORD_RESET_EMAILS_PER_ACCOUNT + 3):
        response = Client().post(
            reverse("password_reset"), {"email": "ADA@example.com"}, REMOTE_ADDR=f"203.0.113.{i + 1}"
        )
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mailoutbox) == settings.PASSWORD_RESET_EMAILS_PER_ACCOUNT
    # Past the limit the page reads as always.
    done = Client().get(reverse("password_reset_done")).content.decode()
    assert "If an account uses that address" in done


def test_password_reset_requests_are_limited_per_address(settings, mailoutbox, _forget_limits):
    limit = settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS
    emails = [UserFactory(email=f"person{i}@example.com").email for i in range(limit + 2)]
    _forget_limits()
    client = Client()
    for email in emails:
        response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR="198.51.100.20")
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mailoutbox) == limit
    # Another address is not held back.
    client.post(reverse("password_reset"), {"email": emails[-1]}, REMOTE_ADDR="198.51.100.21")
    assert len(mailoutbox) == limit + 1


# --- A new password and "Sign out everywhere" end sessions, tokens and links -----------------------


@pytest.fixture
def credentials(acme, key_result):
    """The member's other logged-in browser, an API token and an emailed one-click link."""
    member = acme.member
    other_browser = Client()
    other_browser.force_login(member.user)
    _, secret = api_token_create(user=member.user, organization=acme.org, name="Reporting script")
    token = action_token(
        user_id=member.user_id, organization_id=acme.org.pk, action="check_in", object_id=key_result.pk
    )
    script = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    link = reverse("metrics_public:action_link", args=[token])
    profile = reverse("profile")
    # All of them work to begin with.
    assert other_browser.get(profile).status_code == 200
    assert script.get(reverse("planning_api:api_plan_list", args=[acme.org.slug])).status_code == 200
    assert Client().get(link).status_code == 302
    return other_browser, script, link


def assert_all_ended(acme, credentials) -> None:
    other_browser, script, link = credentials
    response = other_browser.get(reverse("profile"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    api = script.get(reverse("planning_api:api_plan_list", args=[acme.org.slug]))
    assert api.status_code == 401 and api.json()["code"] == "token_revoked"
    refused = Client().get(link)
    assert refused.status_code == 410 and "This link no longer works" in refused.content.decode()


def test_changing_the_password_on_the_profile_page_ends_the_rest(acme, credentials):
    me = Client()
    me.force_login(acme.member.user)
    response = me.post(
        reverse("profile_password"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_all_ended(acme, credentials)
    profile = me.get(reverse("profile"))  # this browser stays signed in
    assert profile.status_code == 200
    assert "Revoked" in profile.content.decode()


def reset_by_email(client: Client, email: str, mailoutbox) -> None:
    """Ask for a reset link, follow it and choose ``NEW_PASSWORD``."""
    client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR="192.0.2.200")
    url = re.search(r"https?://testserver(/accounts/reset/\S+)", mailoutbox[-1].body).group(1)
    form = client.get(url)  # Django swaps the token for a session and redirects to .../set-password/
    assert form.status_code == 302
    done = client.post(form.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")


def test_a_password_reset_ends_sessions_tokens_and_links(acme, credentials, mailoutbox):
    reset_by_email(Client(), acme.member.user.email, mailoutbox)
    assert_all_ended(acme, credentials)
    assert log_in(acme.member.user.email, NEW_PASSWORD, "192.0.2.61").status_code == 302


def test_sign_out_everywhere_ends_other_sessions_tokens_and_links(acme, credentials):
    me = Client()
    me.force_login(acme.member.user)
    assert "Sign out everywhere" in me.get(reverse("profile")).content.decode()
    assert me.get(reverse("profile_sign_out_everywhere")).status_code == 405  # a POST only
    response = me.post(reverse("profile_sign_out_everywhere"), follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "signed out on every other device" in text and "1 API token revoked" in text
    assert_all_ended(acme, credentials)
    assert me.get(reverse("profile")).status_code == 200
    # The password still works, and a new session is a normal one.
    assert log_in(acme.member.user.email, PASSWORD, "192.0.2.62").status_code == 302


def test_links_made_after_a_rotation_work(acme, key_result):
    me = Client()
    me.force_login(acme.member.user)
    me.post(reverse("profile_sign_out_everywhere"))
    token = action_token(
        user_id=acme.member.user_id, organization_id=acme.org.pk, action="check_in", object_id=key_result.pk
    )
    assert Client().get(reverse("metrics_public:action_link", args=[token])).status_code == 302
