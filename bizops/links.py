"""One-click links in emails: signed (they cannot be forged), bound to one person, and expiring.

A link also carries a digest of its person's security stamp: once the stamp rotates (a password
change, "Sign out everywhere": ``bizops.account_security``) links made before read as revoked.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .navigation import link

SALT = "bizops.action-link"
MAX_AGE = timedelta(days=7)


class LinkInvalid(Exception):
    def __init__(self, reason: str) -> None:  # "forged", "expired" or "revoked"
        super().__init__(reason)
        self.reason = reason


def stamp_digest(stamp: str) -> str:
    """What a link carries of the stamp: enough to tell an old one, without the stamp in a URL."""
    return salted_hmac(f"{SALT}.stamp", stamp, algorithm="sha256").hexdigest()[:16]


def action_token(
    *,
    user_id: int,
    organization_id: int,
    action: str,
    object_id: int,
    value: str = "",
    stamp: str | None = None,
) -> str:
    """``stamp`` is the person's ``User.security_stamp``: pass it when the user is loaded already,
    or it is read from the database (a query per link)."""
    if stamp is None:
        from .models import User

        stamp = User.objects.values_list("security_stamp", flat=True).get(pk=user_id)
    payload = {"u": user_id, "o": organization_id, "a": action, "i": object_id, "s": stamp_digest(stamp)}
    if value:
        payload["v"] = value
    return signing.dumps(payload, salt=SALT, compress=True)


def action_url(**kwargs) -> str:
    # The page that acts on the link belongs to the app that sends such links (metrics answers it).
    url = link("action_link", action_token(**kwargs))
    if not url:
        raise LookupError("No installed app answers the link 'action_link' (bizops.navigation).")
    return url


def read_action_token(token: str, max_age: timedelta = MAX_AGE) -> dict:
    try:
        return signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkInvalid("expired") from None
    except signing.BadSignature:
        raise LinkInvalid("forged") from None


def require_current_stamp(data: dict, stamp: str) -> None:
    """``LinkInvalid("revoked")`` unless the link was made with the person's current stamp (links
    from before stamps were carried have none, and are refused too)."""
    if not constant_time_compare(str(data.get("s", "")), stamp_digest(stamp)):
        raise LinkInvalid("revoked")
