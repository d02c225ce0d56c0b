"""Celery tasks of the core: they take ids, load, and call a service."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .models import OutboundEmail

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


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
    """Send one stored email unless it was sent already.

    The row is locked while sending so two deliveries of the same task (a redelivery after a killed
    worker, or the sweep racing a late task) cannot both send it.
    """
    error: Exception | None = None
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return "skipped"
        email.attempts += 1
        message = EmailMultiAlternatives(email.subject, email.body_text, to=[email.to_email])
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            error = exc
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
        else:
            email.status = OutboundEmail.Status.SENT
            email.sent_at = timezone.now()
        # Saved in the same transaction as the lock, so the attempt is recorded even when we retry.
        email.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if error is not None:
        if email.status == OutboundEmail.Status.FAILED:
            log.error("email %s failed for good: %s", email_id, email.last_error)
            return "failed"
        raise error  # autoretry_for schedules the next try with backoff
    return "sent"


@shared_task
def deliver_pending_emails() -> int:
    """Sweep: enqueue emails still pending a while after creation (e.g. the broker was down)."""
    cutoff = timezone.now() - timedelta(minutes=2)
    ids = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS
        ).values_list("pk", flat=True)[:500]
    )
    for email_id in ids:
        deliver_email.delay(email_id)
    return len(ids)
