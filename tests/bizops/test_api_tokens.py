"""Personal API tokens: made and revoked on the profile page, shown once, stored hashed, bound to one
organization; the bearer authentication, the rate limit, and If-Match on the tree's structural edits."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from bizops.api import rate_key
from bizops.authentication import api_token_create
from bizops.models import ApiToken, Membership
from bizops.roles import Role
from planning.models import Milestone
from tests.factories import MembershipFactory
from tests.names import qualified
from tests.planning.factories import MilestoneFactory, ObjectiveFactory, PlanFactory, StepFactory

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"bzp_[A-Za-z0-9_-]{32}")


def make_token(membership: Membership, **kwargs) -> tuple[ApiToken, str]:
    kwargs.setdefault("name", "Reporting script")
    return api_token_create(user=membership.user, organization=membership.organization, **kwargs)


def bearer(secret: str, **kwargs) -> Client:
    """A client that sends the token and nothing else (no session, CSRF checked as for browsers)."""
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}", **kwargs)


def plans_url(slug: str = "acme") -> str:
    return reverse("planning_api:api_plan_list", args=[slug])


def logged_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def assert_error_body(response, code: str) -> None:
    body = response.json()
    assert set(body) >= {"detail", "code", "fields"}, body
    assert body["code"] == code, body


# --- Made on the profile page, shown once, stored hashed --------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_digest(acme):
    client = logged_in(acme.manager)

    response = client.post(
        reverse("profile_token_create"),
        {"name": " Reporting script ", "organization": acme.org.pk, "expires_on": ""},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    secrets_shown = SECRET.findall(page)
    assert len(set(secrets_shown)) == 1, "the new token is on the page, once"
    secret = secrets_shown[0]
    token = ApiToken.objects.get()
    assert (token.user, token.organization, token.name) == (acme.manager.user, acme.org, "Reporting script")
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12]
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(value) for value in row.values()), "the secret is not stored"
    assert not any(secret[12:20] in str(value) for value in row.values())

    again = client.get(reverse("profile")).content.decode()
    assert secret not in again
    assert not SECRET.search(again)
    assert f"{token.prefix}…" in again
    assert "Reporting script" in again and "Acme" in again


def test_the_profile_page_lists_tokens_with_their_status_and_no_secrets(acme, other):
    user = acme.manager.user
    MembershipFactory(organization=other.org, user=user, role=Role.VIEWER)
    _, secret1 = make_token(acme.manager, name="Active one")
    expired, secret2 = make_token(acme.manager, name="Old one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_on=date(2020, 1, 1))
    revoked, secret3 = make_token(Membership.objects.get(user=user, organization=other.org), name="Gone")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    make_token(acme.owner, name="Someone else's")

    page = logged_in(acme.manager).get(reverse("profile")).content.decode()

    for name in ("Active one", "Old one", "Gone"):
        assert name in page
    assert "Someone else" not in page
    assert not any(secret in page for secret in (secret1, secret2, secret3))
    assert page.count("Revoke<span") == 2  # the revoked one has no button
    assert "Expired" in page and "Revoked" in page and "Active" in page
    # The organizations to choose from are the user's own.
    assert f'<option value="{acme.org.pk}"' in page and f'<option value="{other.org.pk}"' in page


def test_the_token_list_costs_the_same_queries_for_one_token_and_ten(acme, django_assert_num_queries):
    client = logged_in(acme.manager)
    make_token(acme.manager)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("profile")).status_code == 200
    for n in range(9):
        make_token(acme.manager, name=f"Script {n}")

    with django_assert_num_queries(len(one)):
        page = client.get(reverse("profile")).content.decode()
    assert page.count("Revoke<span") == 10


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"organization": "other"}, "organization"),  # not one of the user's
        ({"organization": "999999"}, "organization"),
        ({"expires_on": "2020-01-01"}, "expires_on"),  # already over
        ({"expires_on": "soon"}, "expires_on"),
    ],
)
def test_bad_token_input_shows_the_form_again_and_makes_nothing(acme, other, data, field):
    form = {"name": "Script", "organization": acme.org.pk, "expires_on": "", **data}
    if form["organization"] == "other":
        form["organization"] = other.org.pk

    response = logged_in(acme.manager).post(reverse("profile_token_create"), form)

    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    page = response.content.decode()
    assert f'id="id_token_{field}_error"' in page
    assert not SECRET.search(page)


def test_tokens_are_for_logged_in_people_only(client, acme):
    response = client.post(reverse("profile_token_create"), {"name": "x", "organization": acme.org.pk})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_revoke_a_token_from_the_profile_page(acme):
    token, secret = make_token(acme.manager)
    assert bearer(secret).get(plans_url()).status_code == 200
    client = logged_in(acme.manager)

    response = client.post(reverse("profile_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get(plans_url()).status_code == 401
    assert "Revoked" in client.get(reverse("profile")).content.decode()


def test_nobody_revokes_another_persons_token(acme):
    token, _ = make_token(acme.manager)

    response = logged_in(acme.owner).post(reverse("profile_token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert logged_in(acme.manager).get(reverse("profile_token_revoke", args=[token.pk])).status_code == 405


# --- Authentication -----------------------------------------------------------------------------------


def test_a_token_acts_as_its_user_with_their_role(acme):
    plan = PlanFactory(organization=acme.org, owner=acme.manager)
    _, manager_secret = make_token(acme.manager)
    _, viewer_secret = make_token(acme.viewer)

    response = bearer(manager_secret).get(plans_url())
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [plan.pk]
    assert not response.cookies, "a token request starts no session"

    # A token needs no CSRF token (it is not sent by the browser on its own), a session does.
    new = {"title": "Next", "ultimate_goal": "Grow", "period_start": "2030-01-01", "period_end": "2030-12-31"}
    created = bearer(manager_secret).post(plans_url(), new, content_type="application/json")
    assert created.status_code == 201, created.content
    assert bearer(viewer_secret).post(plans_url(), new, content_type="application/json").status_code == 403
    session = Client(enforce_csrf_checks=True)
    session.force_login(acme.manager.user)
    assert session.post(plans_url(), new, content_type="application/json").status_code == 403


def test_last_used_is_written_at_most_once_a_minute(acme):
    token, secret = make_token(acme.member)
    assert token.last_used_at is None
    client = bearer(secret)

    with time_machine.travel(datetime(2030, 5, 1, 9, 0, tzinfo=UTC), tick=False):
        client.get(plans_url())
        token.refresh_from_db()
        assert token.last_used_at == datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2030, 5, 1, 9, 0, 59, tzinfo=UTC), tick=False):
        client.get(plans_url())
        token.refresh_from_db()
        assert token.last_used_at == datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2030, 5, 1, 9, 1, 30, tzinfo=UTC), tick=False):
        client.get(plans_url())
        token.refresh_from_db()
        assert token.last_used_at == datetime(2030, 5, 1, 9, 1, 30, tzinfo=UTC)


def _revoked(m):
    token, secret = make_token(m)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    return secret


def _expired(m):
    token, secret = make_token(m)
    ApiToken.objects.filter(pk=token.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    return secret


def _forged(m):
    make_token(m)
    return "bzp_" + "A" * 32


def _tampered(m):
    _, secret = make_token(m)
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def _disabled_user(m):
    _, secret = make_token(m)
    type(m.user).objects.filter(pk=m.user_id).update(is_active=False)
    return secret


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_revoked, "token_revoked"),
        (_expired, "token_expired"),
        (_forged, "token_invalid"),
        (_tampered, "token_invalid"),
        (lambda m: "not-even-a-token", "token_invalid"),
        (lambda m: "bzp_" + "é" * 10, "token_invalid"),
        (_disabled_user, "user_inactive"),
    ],
)
def test_bad_tokens_are_401_with_a_bearer_challenge(acme, make, code):
    secret = make(acme.manager)

    response = bearer(secret).get(plans_url())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert_error_body(response, code)


def test_a_malformed_bearer_header_is_401_and_a_session_does_not_rescue_it(acme):
    client = logged_in(acme.manager)
    assert client.get(plans_url()).status_code == 200

    for header in ("Bearer", "Bearer two parts", "bearer bzp_nope"):
        response = client.get(plans_url(), HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert_error_body(response, "token_invalid")


def test_without_credentials_it_is_still_403_without_a_challenge(client, acme):
    response = client.get(plans_url())

    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert_error_body(response, "not_authenticated")


def test_a_token_expires_at_the_end_of_its_last_day_in_its_users_time_zone(acme):
    user = acme.member.user
    user.time_zone = "Pacific/Kiritimati"  # UTC+14
    user.save()
    with time_machine.travel(datetime(2030, 1, 1, 0, 0, tzinfo=UTC), tick=False):
        _, secret = make_token(acme.member, expires_on=date(2030, 1, 1))
    # 09:59 UTC is 23:59 on the 1st in Kiritimati; 10:00 UTC is already the 2nd there.
    with time_machine.travel(datetime(2030, 1, 1, 9, 59, tzinfo=UTC), tick=False):
        assert bearer(secret).get(plans_url()).status_code == 200
    with time_machine.travel(datetime(2030, 1, 1, 10, 0, tzinfo=UTC), tick=False):
        assert bearer(secret).get(plans_url()).status_code == 401


# --- One organization per token ---------------------------------------------------------------------


def test_a_token_works_in_its_own_organization_only(acme, other):
    """The user belongs to both organizations; the token was made for Acme: Globex does not exist for it,
    on every kind of endpoint, while the same user's session still reaches Globex."""
    user = acme.manager.user
    MembershipFactory(organization=other.org, user=user, role=Role.MANAGER)
    globex_plan = PlanFactory(organization=other.org, owner=other.owner)
    _, secret = make_token(acme.manager)
    client = bearer(secret)

    assert client.get(plans_url("acme")).status_code == 200
    for url in (
        plans_url("globex"),
        reverse("planning_api:api_plan_detail", args=["globex", globex_plan.pk]),
        reverse("planning_api:api_plan_tree", args=["globex", globex_plan.pk]),
        reverse("planning_api:api_review_queue", args=["globex"]),
        reverse("metrics_api:api_kpi_list", args=["globex"]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert_error_body(response, "not_found")
    new = {"title": "Sneaky", "ultimate_goal": "x", "period_start": "2030-01-01", "period_end": "2030-12-31"}
    assert client.post(plans_url("globex"), new, content_type="application/json").status_code == 404
    assert logged_in(acme.manager).get(plans_url("globex")).status_code == 200


def test_a_token_stops_working_when_its_user_leaves_the_organization(acme):
    _, secret = make_token(acme.member)
    Membership.objects.filter(pk=acme.member.pk).delete()

    assert bearer(secret).get(plans_url()).status_code == 404


# --- The rate limit ---------------------------------------------------------------------------------


def test_over_the_rate_a_token_gets_429_with_retry_after(acme, settings):
    settings.API_RATE = "3/min"
    token, secret = make_token(acme.manager)
    other_token, other_secret = make_token(acme.manager, name="Another script")
    client = bearer(secret)
    start = datetime(2030, 5, 1, 9, 0, 20, tzinfo=UTC)
    # The counts live in the shared cache (Redis): forget any a quick rerun with the same ids left there.
    windows = [int(start.timestamp()) // 60 + n for n in (0, 1)]
    idents = [f"token:{token.pk}", f"token:{other_token.pk}", f"user:{acme.manager.user_id}"]
    cache.delete_many([rate_key(ident, 60, window) for ident in idents for window in windows])

    with time_machine.travel(start, tick=False):
        assert [client.get(plans_url()).status_code for _ in range(3)] == [200, 200, 200]
        response = client.get(plans_url())
        assert response.status_code == 429
        assert response["Retry-After"] == "40"  # the rest of this minute
        assert_error_body(response, "throttled")
        # Counted per token, and a session counts for its user.
        assert bearer(other_secret).get(plans_url()).status_code == 200
        session = logged_in(acme.manager)
        assert [session.get(plans_url()).status_code for _ in range(4)] == [200, 200, 200, 429]
    with time_machine.travel(datetime(2030, 5, 1, 9, 1, 0, tzinfo=UTC), tick=False):
        assert client.get(plans_url()).status_code == 200


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("django.core.cache.backends.redis.RedisCache", marks=pytest.mark.redis),
        "django.core.cache.backends.locmem.LocMemCache",
    ],
)
def test_the_rate_counter_counts_on_redis_and_in_memory(settings, backend):
    """Django's cache API (incr, add) on Redis and in the memory cache of ``make run``; on Redis the
    counter expires after its window."""
    from django.core.cache import caches

    from bizops.api import _count

    location = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15") if "Redis" in backend else ""
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": location}}
    key = f"api-rate:test-counter:{backend}"
    caches["default"].delete(key)
    assert [_count(key, 30) for _ in range(3)] == [1, 2, 3]
    if backend.endswith("RedisCache"):
        import redis

        redis_key = caches["default"].make_and_validate_key(key)
        assert 0 < redis.Redis.from_url(location).ttl(redis_key) <= 30
    caches["default"].delete(key)


def test_an_empty_rate_turns_the_limit_off(acme, settings):
    settings.API_RATE = ""
    _, secret = make_token(acme.manager)
    client = bearer(secret)

    assert {client.get(plans_url()).status_code for _ in range(5)} == {200}


# --- If-Match on the tree's structural edits ----------------------------------------------------------


@pytest.fixture
def nodes(acme):
    plan = PlanFactory(organization=acme.org, owner=acme.manager)
    m1 = MilestoneFactory(plan=plan, position=0)
    MilestoneFactory(plan=plan, position=1)
    objective = ObjectiveFactory(milestone=m1, position=0)
    ObjectiveFactory(milestone=m1, position=1)
    step = StepFactory(objective=objective, position=0)
    StepFactory(objective=objective, position=1)
    return {"milestone": m1, "objective": objective, "step": step}


@pytest.mark.parametrize("kind", ["milestone", "objective", "step"])
def test_deleting_or_moving_a_node_without_if_match_is_428(acme, nodes, kind):
    node = nodes[kind]
    _, secret = make_token(acme.manager)
    client = bearer(secret)
    detail = reverse(qualified(f"api_{kind}_detail"), args=["acme", node.pk])
    move = reverse(qualified(f"api_{kind}_move"), args=["acme", node.pk])

    response = client.delete(detail)
    assert response.status_code == 428
    assert_error_body(response, "precondition_required")
    response = client.post(move, {"direction": "down"}, content_type="application/json")
    assert response.status_code == 428
    assert_error_body(response, "precondition_required")
    node.refresh_from_db()
    assert node.position == 0  # nothing moved

    # A stale ETag is 412, the current one (or *) goes through.
    stale = client.post(move, {"direction": "down"}, content_type="application/json", HTTP_IF_MATCH='"v9"')
    assert stale.status_code == 412
    moved = client.post(move, {"direction": "down"}, content_type="application/json", HTTP_IF_MATCH='"v1"')
    assert moved.status_code == 200, moved.content
    assert moved.json()["position"] == 1
    assert client.delete(detail, HTTP_IF_MATCH='"v9"').status_code == 412
    assert client.delete(detail, HTTP_IF_MATCH=moved["ETag"]).status_code == 204
    assert not type(node).objects.filter(pk=node.pk).exists()


def test_if_match_star_deletes_whatever_is_current(acme, nodes):
    _, secret = make_token(acme.manager)
    Milestone.objects.filter(pk=nodes["milestone"].pk).update(version=7)

    response = bearer(secret).delete(
        reverse("planning_api:api_milestone_detail", args=["acme", nodes["milestone"].pk]), HTTP_IF_MATCH="*"
    )

    assert response.status_code == 204


def test_a_session_caller_needs_if_match_too(acme, nodes):
    response = logged_in(acme.manager).delete(
        reverse("planning_api:api_step_detail", args=["acme", nodes["step"].pk])
    )
    assert response.status_code == 428


# --- The schema -------------------------------------------------------------------------------------


def test_the_schema_documents_the_bearer_scheme_and_the_428s():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"]["type"] == "http" and schemes["apiToken"]["scheme"] == "bearer"
    operations = {
        op["operationId"]: op
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/orgs/")
        for op in ops.values()
    }
    assert all({"apiToken": []} in op["security"] for op in operations.values())
    for kind in ("milestone", "objective", "step"):
        for operation_id in (f"{kind}_destroy", f"{kind}_move"):
            op = operations[operation_id]
            assert {"412", "428"} <= set(op["responses"]), operation_id
            if_match = next(p for p in op["parameters"] if p["name"] == "If-Match")
            assert if_match["required"] is True, operation_id
    assert "428" not in operations["plan_destroy"]["responses"]
    assert {"InvalidToken", "TooManyRequests"} <= set(schema["components"]["responses"])


# --- Plumbing the fuzzer found wanting --------------------------------------------------------------


def test_a_huge_limit_is_cut_to_the_maximum_not_a_server_error(acme):
    """Found by schemathesis: ``?limit=4263…`` reached PostgreSQL as an out-of-range LIMIT (500)."""
    PlanFactory(organization=acme.org, owner=acme.manager)
    _, secret = make_token(acme.manager)

    response = bearer(secret).get(plans_url(), {"limit": "426328585406472215592960"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_an_api_url_no_route_matches_answers_the_json_error_body(acme):
    """Found by schemathesis: ``/plans/abc/`` (the int converter refuses it) answered the HTML 404 page."""
    _, secret = make_token(acme.manager)

    response = bearer(secret).get("/api/v1/orgs/acme/plans/not-a-number/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_body(response, "not_found")
    assert "text/html" in Client().get("/no-such-page/")["Content-Type"]
