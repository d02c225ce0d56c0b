"""Sending email: every message is a row first (the outbox), then a Celery task delivers it after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from .models import OutboundEmail

if TYPE_CHECKING:
    from .models import Organization, User

log = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def email_render(template: str, context: dict) -> Rendered:
    """``emails/<template>.txt`` (its first line is the subject) and ``.html`` when it exists."""
    ctx = {"site_url": settings.SITE_URL, **context}
    text = render_to_string(f"emails/{template}.txt", ctx).strip()
    subject, _, body = text.partition("\n")
    try:
        html = get_template(f"emails/{template}.html").render(ctx)
    except TemplateDoesNotExist:
        html = ""
    return Rendered(subject.strip()[:250], body.strip() + "\n", html)


def email_enqueue(
    *,
    to: User | str,
    template: str,
    context: dict,
    kind: str,
    organization: Organization | None = None,
    dedupe_key: str | None = None,
    rendered: Rendered | None = None,
    batch: list[int] | None = None,
) -> OutboundEmail | None:
    """Store the message and deliver it after commit.

    With a ``dedupe_key`` the row is the claim: a second call with the same key (a retried task, a
    second dispatcher) sends nothing and returns ``None``. With ``batch`` the new row's id is added
    to that list instead of scheduling a task per email (see ``bizops.tasks.deliver_batch``).
    """
    to_email = to if isinstance(to, str) else to.email
    recipient = None if isinstance(to, str) else to
    if rendered is None:
        rendered = email_render(template, {"recipient": recipient, "organization": organization, **context})
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                organization=organization,
                recipient=recipient,
                to_email=to_email,
                kind=kind,
                dedupe_key=dedupe_key,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        log.info("email %s already claimed, not sending again", dedupe_key)
        return None
    if batch is not None:
        batch.append(email.pk)  # the caller delivers the batch itself, over one connection
    else:
        transaction.on_commit(lambda: _schedule_delivery(email.pk))
    return email


def _schedule_delivery(email_id: int) -> None:
    from .tasks import deliver_email

    try:
        deliver_email.delay(email_id)
    except Exception:  # the broker is down: the periodic sweep delivers it later
        log.exception("could not enqueue email %s; the sweep will retry", email_id)
