"""Outgoing webhooks: organization admins subscribe URLs to events; Celery delivers signed payloads.

Each delivery is a row first (the log), then a task POSTs it after commit, with retries and backoff.
The body is signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` using the hook's secret, sent as
``X-BizOps-Signature: t=<timestamp>,v1=<hex>``; receivers recompute it and refuse timestamps older
than five minutes (replays). A hook that keeps failing is paused and its admins are told.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .compiled import CompiledQuery
from .errors import ValidationError

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import Webhook

EVENTS: dict[str, str] = {
    "plan.submitted": "A plan is submitted for review",
    "plan.approved": "A plan is approved",
    "plan.changes_requested": "An approver requests changes",
    "check_in.created": "Someone checks in",
    "step.completed": "A step is marked done",
    "kpi.status_changed": "A KPI changes status (on track, at risk, off track)",
}
PAUSE_AFTER_FAILURES = 10
TIMEOUT_SECONDS = 5


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and what the tests do): check the signature and the timestamp's age."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def check_url(url: str) -> None:
    """Only http(s) URLs, and (unless allowed for local use) never to private or loopback addresses:
    a webhook must not become a way to reach the servers behind the firewall."""
    try:
        # ``port`` raises ValueError past 65535, ``urlsplit`` on a broken IPv6 literal ("http://[::1").
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(
            {"url": "Enter a valid address: the port must be between 1 and 65535."}
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Enter an http:// or https:// address."})
    if port == 0:
        raise ValidationError({"url": "Enter a valid address: the port must be between 1 and 65535."})
    if len(url) > 500:
        raise ValidationError({"url": "Keep the address under 500 characters."})
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        return
    try:
        # A host name resolves to IPv4 and IPv6 addresses: each one's address is a string.
        addresses = {cast(str, info[4][0]) for info in socket.getaddrinfo(parts.hostname, port or 443)}
    except (OSError, UnicodeError):  # UnicodeError: a name IDNA cannot encode ("a..example")
        raise ValidationError({"url": "This host name does not resolve."}) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise ValidationError({"url": "Webhooks cannot call private or local addresses."})


def payload(event: str, organization_slug: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "event": event,
        "organization": organization_slug,
        "created_at": timezone.now().isoformat(),
        "data": data,
    }


def encode(document: dict) -> bytes:
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def _active_hooks(organization_id: int) -> QuerySet[Webhook]:
    from .models import Webhook

    return Webhook.objects.filter(organization_id=organization_id, paused_at__isnull=True)


# Every check-in and status change asks: compiled once (bizops.compiled).
_ACTIVE_HOOKS = CompiledQuery(_active_hooks)


def emit(*, organization, event: str, data: dict[str, Any]) -> int:
    """Record a delivery for each active hook of the organization subscribed to ``event`` and deliver
    them after commit. Returns how many deliveries were created (one query when nobody listens)."""
    from .models import WebhookDelivery

    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    hooks = [h for h in _ACTIVE_HOOKS(organization_id=organization.pk) if event in h.events]
    if not hooks:
        return 0
    document = payload(event, organization.slug, data)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(organization=organization, webhook=hook, event=event, payload=document)
        for hook in hooks
    )
    ids = [d.pk for d in deliveries]

    def enqueue() -> None:
        from .tasks import deliver_webhook

        for delivery_id in ids:
            deliver_webhook.delay(delivery_id)

    transaction.on_commit(enqueue)
    return len(ids)
