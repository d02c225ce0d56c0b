"""Sending email: every message is a row first (the outbox), then a Celery task delivers it after commit.

Delivery (``email_deliver``, which every sending task calls) is **at most once past the SMTP
handoff**. Before a message goes to the mail server its row is committed as ``sending``, and only
``pending`` rows are ever sent; so once a message may have reached the server, no retry, sweep or
redelivered task sends it again. A worker that dies between the handoff and recording the result
leaves its row ``sending``; after ``SENDING_TIMEOUT`` the sweep marks it ``unknown`` and the outbox
offers admins a Resend: a person decides, rather than a silent duplicate. Every attempt of a row
carries the same Message-ID (``OutboundEmail.message_id``), so a receiving server or a reader can
tell a repeat.

A failure before the handoff (no connection, a refused recipient) puts the row back to ``pending``
with a backoff; a message whose headers cannot be built (a ``\r`` in a subject: ``BadHeaderError``,
like any ``ValueError`` from building or sending one message) fails for good at once, and the rest of
its batch goes on. SMTP leaves one window open that no client can close: a connection lost after the
message's last line but before the server's reply (RFC 1047). It is retried like any failure before
the handoff, with the same Message-ID.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from .audit import audit_record
from .errors import Conflict
from .models import OutboundEmail
from .roles import can

if TYPE_CHECKING:
    from .models import Membership, Organization, User

log = logging.getLogger(__name__)
Status = OutboundEmail.Status

MAX_ATTEMPTS = 5
# Longer than any one message can take: EMAIL_TIMEOUT bounds each socket operation of the exchange.
# A row still ``sending`` after this has no live worker behind it.
SENDING_TIMEOUT = timedelta(minutes=5)
# A pending row younger than this (or claimed by a sweep more recently) is still in a worker's hands.
SWEEP_GRACE = timedelta(seconds=30)


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


# --- Delivery -------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after a failed attempt: 30 s doubling, at most 30 minutes (as the task's retries)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


class _BuiltOnce(EmailMultiAlternatives):
    """Builds its MIME message once, before the claim: a header that cannot be built fails the email
    without claiming it, and the claim is followed at once by the handoff (a worker dying in
    between is what leaves an email unknown, so that gap is kept short)."""

    _built = None

    def message(self, *args, **kwargs):
        if self._built is None:
            self._built = super().message(*args, **kwargs)
        return self._built


def email_message(email: OutboundEmail, connection=None) -> EmailMultiAlternatives:
    message = _BuiltOnce(
        email.subject,
        email.body_text,
        to=[email.to_email],
        connection=connection,
        headers={"Message-ID": email.message_id},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


@dataclass
class Outcome:
    """What one attempt did to one email; recorded on its row."""

    email: OutboundEmail
    status: str  # sent, pending (tries again later), failed, unknown
    error: BaseException | None = None
    claimed_at: datetime | None = None  # None: never claimed (no connection, a header that cannot be built)


def _error_text(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000] if exc is not None else ""


def _claim(email: OutboundEmail, now: datetime, due_only: bool) -> bool:
    rows = OutboundEmail.objects.filter(pk=email.pk, status=Status.PENDING)
    if due_only:
        rows = rows.filter(next_attempt_at__lte=now)
    if not rows.update(status=Status.SENDING, sending_since=now, attempts=F("attempts") + 1):
        return False  # someone else took it, or it is no longer pending
    email.attempts += 1
    return True


def _failure(email: OutboundEmail, exc: BaseException, claimed_at: datetime | None) -> Outcome:
    """A failure before the handoff: pending again with a backoff, or failed once out of attempts."""
    attempts = email.attempts + (1 if claimed_at is None else 0)
    status = Status.FAILED if attempts >= MAX_ATTEMPTS else Status.PENDING
    return Outcome(email, status, exc, claimed_at)


def _record(outcomes: list[Outcome]) -> None:
    now = timezone.now()
    for outcome in outcomes:
        rows = OutboundEmail.objects.filter(pk=outcome.email.pk)
        fields: dict = {"status": outcome.status}
        if outcome.claimed_at is None:
            rows = rows.filter(status=Status.PENDING)
            fields["attempts"] = F("attempts") + 1
        else:
            # Only this attempt's own claim: the sweep may have called it unknown meanwhile (this
            # worker knows better), but a Resend and a new claim since then are someone else's.
            rows = rows.filter(status__in=[Status.SENDING, Status.UNKNOWN], sending_since=outcome.claimed_at)
        if outcome.status == Status.SENT:
            fields.update(sent_at=now, sending_since=None)
        elif outcome.status == Status.UNKNOWN:
            fields["last_error"] = _error_text(outcome.error)
        else:
            fields.update(last_error=_error_text(outcome.error), sending_since=None)
            if outcome.status == Status.PENDING:
                attempts = outcome.email.attempts + (1 if outcome.claimed_at is None else 0)
                fields["next_attempt_at"] = now + backoff(attempts)
        rows.update(**fields)


def _close(connection) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def _send(email: OutboundEmail, message: EmailMultiAlternatives, claimed_at: datetime) -> Outcome:
    try:
        sent = message.send()
    except ValueError as exc:
        # Raised while preparing the message (an address that cannot be encoded), before anything
        # is handed over; sending it again would fail the same way.
        return Outcome(email, Status.FAILED, exc, claimed_at)
    except (smtplib.SMTPException, OSError) as exc:
        _close(message.connection)  # the next message opens a fresh connection
        return _failure(email, exc, claimed_at)
    except Exception as exc:
        # Nobody knows how far this one got: never sent again without a person deciding.
        log.exception("email %s: unexpected error while sending", email.pk)
        _close(message.connection)
        return Outcome(email, Status.UNKNOWN, exc, claimed_at)
    if sent == 0:
        return Outcome(
            email, Status.FAILED, ValueError("The mail backend accepted no recipient."), claimed_at
        )
    return Outcome(email, Status.SENT, None, claimed_at)


def email_deliver(email_ids: list[int], *, due_only: bool = True) -> list[Outcome]:
    """Send these emails, those still pending (and, with ``due_only``, not waiting for a backoff),
    over one connection; returns what happened to each one attempted.

    Each row is claimed (``sending``, committed) just before its message is sent, so a worker dying
    half-way leaves the rest ``pending`` for the sweep or a redelivered task. The result of one
    message is recorded in the same transaction as the claim of the next: one commit per email.
    Call it outside any transaction: the claim must be committed before the handoff.
    """
    rows = OutboundEmail.objects.filter(pk__in=list(email_ids), status=Status.PENDING)
    if due_only:
        rows = rows.filter(next_attempt_at__lte=timezone.now())
    emails = list(rows.order_by("pk"))
    outcomes: list[Outcome] = []
    unrecorded: list[Outcome] = []
    if not emails:
        return outcomes
    connection = get_connection()
    try:
        for index, email in enumerate(emails):
            try:
                message = email_message(email, connection)
                message.message()
            except ValueError as exc:  # BadHeaderError: a \r or \n in the subject, say
                unrecorded.append(Outcome(email, Status.FAILED, exc))
                continue
            try:
                connection.open()  # a no-op while the connection is open
            except (smtplib.SMTPException, OSError) as exc:
                # Nothing more can be handed over: the rest tries again after its backoff.
                unrecorded += [_failure(e, exc, None) for e in emails[index:]]
                break
            claimed_at = timezone.now()
            with transaction.atomic():
                _record(unrecorded)
                outcomes += unrecorded
                unrecorded = []
                claimed = _claim(email, claimed_at, due_only)
            if claimed:
                unrecorded.append(_send(email, message, claimed_at))
    finally:
        _close(connection)
        # Results already known are kept whatever stopped the loop; a message cut off mid-send
        # stays ``sending`` and becomes ``unknown``.
        if unrecorded:
            with transaction.atomic():
                _record(unrecorded)
            outcomes += unrecorded
    for outcome in outcomes:
        if outcome.status == Status.FAILED:
            log.error("email %s failed for good: %s", outcome.email.pk, _error_text(outcome.error))
    return outcomes


def emails_claim_due(*, limit: int, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` pending emails nobody has touched for ``SWEEP_GRACE``, for the sweep.

    The rows are locked with SKIP LOCKED and their ``next_attempt_at`` moved to now before commit,
    so two sweeps at once take different rows, and a row is taken again only when its worker has
    not sent it within the grace (on SQLite, which has no row locks, the single writer serialises).
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboundEmail.objects.filter(pk__in=ids).update(next_attempt_at=now)
    return ids


def emails_expire_sending(*, now: datetime | None = None) -> int:
    """Call ``unknown`` the emails a dead worker left ``sending``: they may or may not have arrived."""
    now = now or timezone.now()
    count = OutboundEmail.objects.filter(
        status=Status.SENDING, sending_since__lt=now - SENDING_TIMEOUT
    ).update(
        status=Status.UNKNOWN,
        last_error="The worker stopped while handing this email to the mail server: it may or may "
        "not have arrived. Resend it from the outbox if it did not.",
    )
    if count:
        log.warning("%s emails left sending by a stopped worker are now unknown", count)
    return count


@transaction.atomic
def email_resend(*, actor: Membership, email: OutboundEmail) -> OutboundEmail:
    """Queue again an email whose delivery is unknown or failed: an admin's decision, recorded on the
    row. It keeps its Message-ID, so a copy that did arrive the first time shows as a repeat."""
    if not can(actor.role, "outbox_view") or email.organization_id != actor.organization_id:
        raise PermissionDenied("Your role does not allow this.")
    now = timezone.now()
    # The row as it is now, locked: its status decides, and the audit trail says what it was.
    current = (
        OutboundEmail.objects.select_for_update()
        .filter(pk=email.pk, status__in=[Status.UNKNOWN, Status.FAILED])
        .only("status")
        .first()
    )
    if current is None:
        raise Conflict("Only an email whose delivery is unknown or failed can be sent again.")
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        sending_since=None,
        resent_at=now,
        resent_by=actor.user,
    )
    log.info("email %s resent by user %s", email.pk, actor.user_id)
    audit_record(
        organization_id=email.organization_id,
        actor=actor,
        kind="email",
        action="resent",
        obj=email,
        title=f"{email.subject} to {email.to_email}",
        changes={"status": [current.get_status_display(), Status.PENDING.label]},
    )
    transaction.on_commit(lambda: _schedule_delivery(email.pk))
    email.refresh_from_db()
    return email
