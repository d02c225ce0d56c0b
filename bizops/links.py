"""One-click links in emails: signed (they cannot be forged), bound to one person, and expiring."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.urls import reverse

SALT = "bizops.action-link"
MAX_AGE = timedelta(days=7)


class LinkInvalid(Exception):
    def __init__(self, reason: str) -> None:  # "forged" or "expired"
        super().__init__(reason)
        self.reason = reason


def action_token(*, user_id: int, organization_id: int, action: str, object_id: int, value: str = "") -> str:
    payload = {"u": user_id, "o": organization_id, "a": action, "i": object_id}
    if value:
        payload["v"] = value
    return signing.dumps(payload, salt=SALT, compress=True)


def action_url(**kwargs) -> str:
    return reverse("action_link", args=[action_token(**kwargs)])


def read_action_token(token: str, max_age: timedelta = MAX_AGE) -> dict:
    try:
        return signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkInvalid("expired") from None
    except signing.BadSignature:
        raise LinkInvalid("forged") from None
