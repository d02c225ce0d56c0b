"""Webhook management for an organization's admins: register, pause, resume, rotate, delete, test.

Delivery itself lives in ``bizops.tasks``; the signing and the events in ``bizops.webhooks``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .. import webhooks
from ..access import require
from ..audit import audit_record
from ..errors import ValidationError
from ..models import Membership, Webhook, WebhookDelivery


def _audit(actor: Membership, hook: Webhook, action: str, **changes: list) -> None:
    audit_record(
        organization_id=hook.organization_id,
        actor=actor,
        kind="webhook",
        action=action,
        obj=hook,
        title=hook.url,
        changes=changes,
    )


def _locked(actor: Membership, hook: Webhook) -> Webhook:
    require(actor, "webhooks_manage")
    current = (
        Webhook.objects.select_for_update().filter(pk=hook.pk, organization_id=actor.organization_id).first()
    )
    if current is None:
        raise ValidationError("No such webhook in this organization.")
    return current


@transaction.atomic
def webhook_create(*, actor: Membership, url: str, events: list[str], description: str = "") -> Webhook:
    require(actor, "webhooks_manage")
    webhooks.check_url(url)
    unknown = set(events) - set(webhooks.EVENTS)
    if unknown or not events:
        raise ValidationError({"events": "Choose at least one of the events."})
    hook = Webhook.objects.create(
        organization_id=actor.organization_id,
        url=url,
        events=sorted(events),
        description=(description or "").strip(),
        secret=webhooks.new_secret(),
        created_by=actor.user,
    )
    _audit(actor, hook, "created", url=[None, url], events=[None, sorted(events)])  # never the secret
    return hook


@transaction.atomic
def webhook_pause(*, actor: Membership, hook: Webhook) -> Webhook:
    current = _locked(actor, hook)
    if current.paused_at is None:
        current.paused_at = timezone.now()
        current.save(update_fields=["paused_at"])
        _audit(actor, current, "paused")
    return current


@transaction.atomic
def webhook_resume(*, actor: Membership, hook: Webhook) -> Webhook:
    current = _locked(actor, hook)
    if current.paused_at is not None or current.failure_count:
        current.paused_at = None
        current.failure_count = 0
        current.save(update_fields=["paused_at", "failure_count"])
        _audit(actor, current, "resumed")
    return current


@transaction.atomic
def webhook_rotate_secret(*, actor: Membership, hook: Webhook) -> Webhook:
    current = _locked(actor, hook)
    current.secret = webhooks.new_secret()
    current.save(update_fields=["secret"])
    _audit(actor, current, "rotated the signing secret of")  # the fact, never the secret
    return current


@transaction.atomic
def webhook_delete(*, actor: Membership, hook: Webhook) -> None:
    current = _locked(actor, hook)
    _audit(actor, current, "deleted", url=[current.url, None])
    current.delete()


@transaction.atomic
def webhook_ping(*, actor: Membership, hook: Webhook) -> bool:
    """Send a ``ping`` through the real delivery path (signed, logged, retried); False when paused."""
    from ..tasks import deliver_webhook

    require(actor, "webhooks_manage")
    if hook.organization_id != actor.organization_id:
        raise ValidationError("No such webhook in this organization.")
    if hook.paused_at is not None:
        return False
    delivery = WebhookDelivery.objects.create(
        organization_id=hook.organization_id,
        webhook=hook,
        event="ping",
        payload=webhooks.payload("ping", actor.organization.slug, {"message": "Hello from BizOps Planner"}),
    )
    transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return True
