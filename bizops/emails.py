"""Sending email: every message is a row first (the outbox), then a Celery task delivers it after commit."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from .models import OutboundEmail

if TYPE_CHECKING:
    from .models import Organization, User

log = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def email_enqueue(
    *,
    to: User | str,
    template: str,
    context: dict,
    kind: str,
    organization: Organization | None = None,
    dedupe_key: str | None = None,
) -> OutboundEmail | None:
    """Render ``emails/<template>.{txt,html}``, store the message and deliver it after commit.

    The first line of the text template is the subject. With a ``dedupe_key`` the row is the claim:
    a second call with the same key sends nothing and returns ``None``.
    """
    to_email = to if isinstance(to, str) else to.email
    recipient = None if isinstance(to, str) else to
    ctx = {"site_url": settings.SITE_URL, "recipient": recipient, "organization": organization, **context}
    text = render_to_string(f"emails/{template}.txt", ctx).strip()
    subject, _, body = text.partition("\n")
    html = render_to_string(f"emails/{template}.html", ctx) if _has_html(template) else ""
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                organization=organization,
                recipient=recipient,
                to_email=to_email,
                kind=kind,
                dedupe_key=dedupe_key,
                subject=subject.strip()[:250],
                body_text=body.strip() + "\n",
                body_html=html,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        log.info("email %s already claimed, not sending again", dedupe_key)
        return None
    transaction.on_commit(lambda: _schedule_delivery(email.pk))
    return email


def _schedule_delivery(email_id: int) -> None:
    from .tasks import deliver_email

    try:
        deliver_email.delay(email_id)
    except Exception:  # the broker is down: the periodic sweep delivers it later
        log.exception("could not enqueue email %s; the sweep will retry", email_id)


def _has_html(template: str) -> bool:
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        get_template(f"emails/{template}.html")
    except TemplateDoesNotExist:
        return False
    return True
