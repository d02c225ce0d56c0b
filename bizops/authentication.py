"""Personal API tokens: issuing and revoking them, and the DRF authentication that accepts them.

A token is ``bzp_`` and 32 random URL-safe characters. Only its SHA-256 digest is stored: the secret is
high-entropy, so a fast hash is enough (there is nothing to brute-force) and one indexed lookup finds it.
The caller sees the secret once, in the response to the form that made it.

A token is bound to one organization. ``require_token_organization`` is the one check that keeps it
there; ``bizops.rest.OrgApi`` (the base of every ``/api/v1/orgs/<org_slug>/`` endpoint, planning's
and metrics') calls it before it resolves the caller's membership, so another organization's slug
answers 404, as it would for a non-member.

Challenges: a request that sends a bad bearer token gets 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` (RFC 6750 §3.1). A request with no credentials at all still gets 403, as it did
before tokens existed: DRF takes the challenge from the first authentication class, and answering such
requests with a Bearer challenge would change what every browser (session) client sees.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import date, timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .audit import audit_record, display
from .errors import ValidationError
from .models import ApiToken, Membership, Organization, User

TOKEN_PREFIX = "bzp_"
SECRET_CHARS = 32  # URL-safe base64 characters: 192 random bits
SHOWN_CHARS = 8  # of the secret, kept in ``ApiToken.prefix`` to tell tokens apart
LAST_USED_PRECISION = timedelta(minutes=1)  # write ``last_used_at`` at most this often


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- Services -------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, user: User, organization: Organization, name: str, expires_on: date | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` in one of their organizations; returns it and its secret (shown once)."""
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = "Give the token a name, e.g. where it is used."
    if not Membership.objects.filter(user=user, organization=organization).exists():
        errors["organization"] = "Choose one of your organizations."
    if expires_on is not None and expires_on < timezone.localdate(timezone=_zone(user)):
        errors["expires_on"] = "Choose today or a later day."
    if errors:
        raise ValidationError(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_CHARS * 3 // 4)
    token = ApiToken.objects.create(
        user=user,
        organization=organization,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + SHOWN_CHARS],
        digest=token_digest(raw),
        expires_on=expires_on,
    )
    _audit(token, user, "created", expires_on=[None, display(expires_on)])  # never the secret
    return token, raw


def _audit(token: ApiToken, user: User, action: str, **changes: list) -> None:
    audit_record(
        organization_id=token.organization_id,
        actor=user,
        kind="api_token",
        action=action,
        obj=token,
        title=f"{token.name} ({token.prefix}…)",
        changes={name: values for name, values in changes.items() if values != [None, None]},
    )


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (another's id is a 404); revoking twice changes nothing."""
    try:
        token = (
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=token_id, user=user)
        )
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit(token, user, "revoked")
    return token


def api_token_authenticate(raw: str) -> ApiToken:
    """The live token whose secret is ``raw``, or ``AuthenticationFailed`` saying why not."""
    token = None
    if raw.startswith(TOKEN_PREFIX) and len(raw) <= 100:
        token = (
            ApiToken.objects.select_related("user", "organization").filter(digest=token_digest(raw)).first()
        )
    if token is None:
        raise exceptions.AuthenticationFailed("This API token is not valid.", code="token_invalid")
    if token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API token was revoked.", code="token_revoked")
    now = timezone.now()
    if token.is_expired(now):
        raise exceptions.AuthenticationFailed("This API token has expired.", code="token_expired")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("This account is disabled.", code="user_inactive")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional, so concurrent requests write it once; at most one write a minute a token.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USED_PRECISION).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token


def _zone(user: User) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(user.time_zone)


# --- DRF --------------------------------------------------------------------------------------------


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer bzp_…``: sets ``request.user`` to the token's user and ``request.auth``
    to the token. Requests without a bearer header are left to the session authentication."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”.", code="token_invalid"
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "This API token is not valid.", code="token_invalid"
            ) from None
        token = api_token_authenticate(raw)
        return token.user, token

    def authenticate_header(self, request: Request) -> str | None:
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == self.keyword:
            return 'Bearer realm="api", error="invalid_token"'
        return None  # no token sent: 403 as before (see the module's docstring)


def require_token_organization(request: Request, org_slug: str) -> None:
    """A token works in its own organization only: any other slug is a 404, even for one of its user's
    other organizations, exactly as if the user were not a member there."""
    token = request.auth
    if isinstance(token, ApiToken) and token.organization.slug != org_slug:
        raise Http404("No such organization.")


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The bearer scheme in the OpenAPI schema (drf-spectacular finds it by ``target_class``)."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="bzp_…"
        )
        scheme["description"] = (
            "A personal API token (`bzp_…`) made on your profile page. It acts as you, with your role, "
            "in the one organization it was made for; any other organization's URLs answer 404."
        )
        return scheme
