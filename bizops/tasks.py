"""Celery tasks of the core: they take ids, load, and call a service."""

from __future__ import annotations

import logging
import smtplib
import time
import urllib.error
import urllib.request
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import webhooks
from .emails import (
    MAX_ATTEMPTS,
    email_deliver,
    email_enqueue,
    emails_claim_due,
    emails_expire_sending,
)
from .errors import ValidationError
from .models import OutboundEmail

log = logging.getLogger(__name__)
# The sweep runs every minute (settings.CELERY_BEAT_SCHEDULE); what it cannot take in one run it
# takes in the next, oldest first.
SWEEP_LIMIT = 5000
SWEEP_BATCH = 200


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=MAX_ATTEMPTS - 1,
)
def deliver_email(self, email_id: int) -> str:
    """Send one stored email unless it was sent (or is being sent) already; see ``bizops.emails``.

    A failure before the handoff is recorded and raised again, for Celery's retry with backoff. The
    retry does not wait for the row's own ``next_attempt_at``: that is the sweep's, later still, in
    case this task's retry is lost.
    """
    outcomes = email_deliver([email_id], due_only=False)
    if not outcomes:
        return "skipped"
    outcome = outcomes[0]
    if outcome.status == OutboundEmail.Status.PENDING:
        assert outcome.error is not None  # pending again only after a failure (emails._failure)
        raise outcome.error  # autoretry_for schedules the next try with backoff
    return outcome.status


def deliver_batch(email_ids: list[int]) -> int:
    """Send stored emails over one connection (the reminder batches: a task per email costs more
    than the email); returns how many were sent. Those that fail before the handoff wait for their
    backoff and the sweep; one never reached (the worker died) stays pending for the sweep too."""
    return sum(1 for outcome in email_deliver(email_ids) if outcome.status == OutboundEmail.Status.SENT)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_emails(email_ids: list[int]) -> int:
    """A batch of the sweep's; redelivered after a killed worker, it sends only what is still pending."""
    return deliver_batch(email_ids)


@shared_task
def deliver_pending_emails() -> int:
    """Sweep: call ``unknown`` what dead workers left ``sending``, then claim the emails still pending
    past their grace or backoff (the broker was down, the worker died) and hand them out in batches."""
    expired = emails_expire_sending()
    ids = emails_claim_due(limit=SWEEP_LIMIT)
    for start in range(0, len(ids), SWEEP_BATCH):
        deliver_emails.delay(ids[start : start + SWEEP_BATCH])
    if ids or expired:
        log.info("sweep: %s emails handed out again, %s now unknown", len(ids), expired)
    return len(ids)


# --- Webhooks -------------------------------------------------------------------------------------

WEBHOOK_MAX_ATTEMPTS = 6


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer, not an invitation
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; a network failure raises OSError."""
    # Checked again at every delivery, not only when the hook was saved: the name may now resolve
    # somewhere private (DNS rebinding).
    webhooks.check_url(url)
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=webhooks.TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=WEBHOOK_MAX_ATTEMPTS)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one delivery, signed; on failure retry with backoff (30 s doubling, at most 10 minutes).

    The delivery is claimed (``sending``) in one short transaction, posted outside any transaction,
    and its result recorded in a second one: a redelivered task finds it claimed and leaves it alone
    while the POST may still be in flight. A hook that keeps failing is paused and its
    organization's admins are told.
    """
    claim = webhook_claim(delivery_id)
    if isinstance(claim, timedelta):
        # Claimed by a task that may still be posting: look again once that claim has gone stale,
        # so a delivery whose worker died mid-POST is not left ``sending`` for ever.
        raise self.retry(countdown=max(1, int(claim.total_seconds())))
    if claim is None:
        return "skipped"
    if claim.status == claim.Status.FAILED:
        return "paused"
    hook = claim.webhook
    body = webhooks.encode(claim.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "BizOps-Planner-Webhooks/1",
        "X-BizOps-Event": claim.event,
        "X-BizOps-Delivery": str(claim.payload.get("id", claim.pk)),
        "X-BizOps-Signature": webhooks.sign(hook.secret, int(time.time()), body),
    }
    try:
        code = _post(hook.url, body, headers)
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except (OSError, ValidationError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        code, error = None, f"{type(exc).__name__}: {message}"[:500]
    retry_in = webhook_record(claim, code=code, error=error)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)
    return "delivered" if not error else "failed"


# A POST lasts at most a few TIMEOUT_SECONDS (connect, send, read): a claim older than this has no
# live task behind it, and another may take the delivery over.
WEBHOOK_CLAIM_STALE = timedelta(seconds=60)


def webhook_claim(delivery_id: int):
    """Claim a pending delivery for one POST: the delivery (``sending``, committed), ``None`` when
    there is nothing to send, or how long until another task's fresh claim goes stale. A paused hook
    fails the delivery instead (returned ``failed``)."""
    from .models import WebhookDelivery

    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook", "organization")
            .filter(
                pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]
            )
            .first()
        )
        if delivery is None:
            return None
        if delivery.status == WebhookDelivery.Status.SENDING:
            assert delivery.sending_since is not None  # a claim sets both (below)
            stale_at = delivery.sending_since + WEBHOOK_CLAIM_STALE
            if stale_at > now:
                return stale_at - now
        if delivery.webhook.paused_at is not None:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = "The webhook is paused."
            delivery.sending_since = None
            delivery.save(update_fields=["status", "last_error", "sending_since"])
            return delivery
        delivery.status = WebhookDelivery.Status.SENDING
        delivery.sending_since = now
        delivery.attempts += 1
        delivery.save(update_fields=["status", "sending_since", "attempts"])
    return delivery


def webhook_record(delivery, *, code: int | None, error: str) -> int | None:
    """Record a POST's result on its claimed delivery; returns the seconds until a retry, or None."""
    from .models import Membership, Webhook, WebhookDelivery
    from .roles import Role

    retry_in: int | None = None
    with transaction.atomic():
        # Only this task's own claim: one that went stale was taken over and is the other's to record.
        claimed = (
            WebhookDelivery.objects.select_for_update()
            .filter(
                pk=delivery.pk, status=WebhookDelivery.Status.SENDING, sending_since=delivery.sending_since
            )
            .exists()
        )
        if not claimed:
            return None
        hook = delivery.webhook
        delivery.response_code = code
        delivery.last_error = error
        delivery.sending_since = None
        hooks = Webhook.objects.filter(pk=hook.pk)
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            hooks.update(failure_count=0)
        else:
            # Counters move in the database, never from this task's copy: a Pause or Resume clicked
            # while the request was in flight stays as the admin left it.
            hooks.update(failure_count=F("failure_count") + 1)
            if delivery.attempts >= WEBHOOK_MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.status = WebhookDelivery.Status.PENDING
                retry_in = min(30 * 2 ** (delivery.attempts - 1), 600)
            paused_now = timezone.now()
            paused = hooks.filter(
                paused_at__isnull=True, failure_count__gte=webhooks.PAUSE_AFTER_FAILURES
            ).update(paused_at=paused_now)
            if paused:
                delivery.status = WebhookDelivery.Status.FAILED
                retry_in = None
                hook.refresh_from_db()
                admins = Membership.objects.filter(
                    organization=hook.organization_id, role__in=[Role.OWNER, Role.ADMIN]
                ).select_related("user")
                for admin in admins:
                    email_enqueue(
                        to=admin.user,
                        template="webhook_paused",
                        kind="webhook_paused",
                        organization=delivery.organization,
                        dedupe_key=f"webhook-paused:{hook.pk}:{paused_now:%Y%m%d%H%M%S}:{admin.user_id}",
                        context={"hook": hook, "error": error},
                    )
        delivery.save(
            update_fields=[
                "response_code",
                "last_error",
                "status",
                "delivered_at",
                "sending_since",
            ]
        )
    return retry_in
