"""Email delivery: stored first, sent at most once past the handoff, retried on SMTP errors before it,
readable (and, when in doubt, resent) in the outbox."""

import html
import re
import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bizops.emails import SENDING_TIMEOUT, SWEEP_GRACE, backoff, email_enqueue, email_resend
from bizops.errors import Conflict
from bizops.models import OutboundEmail
from bizops.tasks import (
    MAX_ATTEMPTS,
    deliver_batch,
    deliver_email,
    deliver_emails,
    deliver_pending_emails,
)
from tests.concurrency import run_in_threads
from tests.factories import MembershipFactory


@pytest.fixture
def queued(acme):
    return email_enqueue(
        to=acme.member.user,
        template="invitation",
        kind="test",
        organization=acme.org,
        context={
            "invitation": acme.org.invitations.model(email="x@example.com", role="member"),
            "inviter": acme.owner.user,
            "url": "/x/",
        },
    )


@pytest.mark.django_db
def test_delivery_sends_once_however_often_it_runs(queued, mailoutbox):
    assert deliver_email.run(queued.pk) == "sent"
    assert deliver_email.run(queued.pk) == "skipped"
    assert len(mailoutbox) == 1
    queued.refresh_from_db()
    assert queued.status == "sent" and queued.attempts == 1


@pytest.mark.django_db
def test_a_dedupe_key_is_claimed_once(acme):
    def send():
        return email_enqueue(
            to="a@example.com",
            template="invitation",
            kind="k",
            dedupe_key="k:1",
            context={
                "inviter": acme.owner.user,
                "invitation": acme.org.invitations.model(email="a@example.com", role="member"),
                "url": "/",
            },
        )

    assert send() is not None
    assert send() is None
    assert OutboundEmail.objects.filter(dedupe_key="k:1").count() == 1


@pytest.mark.django_db
def test_smtp_failure_is_recorded_and_gives_up_after_the_limit(queued, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("server went away")

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", refuse)
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(smtplib.SMTPServerDisconnected):
            deliver_email.run(queued.pk)
    assert deliver_email.run(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == "failed"
    assert queued.attempts == MAX_ATTEMPTS
    assert "server went away" in queued.last_error


@pytest.mark.django_db
def test_outbox_lists_and_shows_the_organizations_emails_only(queued, acme, other, clients):
    foreign = email_enqueue(
        to="z@example.com",
        template="invitation",
        kind="test",
        organization=other.org,
        context={
            "inviter": other.owner.user,
            "invitation": other.org.invitations.model(email="z@example.com", role="member"),
            "url": "/",
        },
    )
    page = clients["admin"].get(reverse("outbox", args=[acme.org.slug])).content.decode()
    assert queued.subject in page
    assert "z@example.com" not in page
    assert clients["admin"].get(reverse("outbox_detail", args=[acme.org.slug, queued.pk])).status_code == 200
    assert clients["admin"].get(reverse("outbox_detail", args=[acme.org.slug, foreign.pk])).status_code == 404


@pytest.mark.django_db
def test_outbox_query_count_is_flat(acme, clients, django_assert_max_num_queries):
    def make(n):
        for i in range(n):
            OutboundEmail.objects.create(
                organization=acme.org, to_email=f"p{i}@example.com", kind="t", subject=f"S{i}", body_text="b"
            )

    url = reverse("outbox", args=[acme.org.slug])
    make(3)
    with django_assert_max_num_queries(12) as small:
        clients["owner"].get(url)
    make(120)
    with django_assert_max_num_queries(len(small.captured_queries)):
        clients["owner"].get(url)


# --- Exactly once through crashes, a bad header, two sweeps, the unknown state ---------------------


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no ``except Exception`` sees it."""


class RecordingBackend(BaseEmailBackend):
    """Keeps every message it is handed (built as a real backend builds it); after delivering one
    whose subject is in ``kill_after`` the worker "dies"; one in ``refuse`` is refused before."""

    delivered: list = []
    kill_after: set[str] = set()
    refuse: set[str] = set()

    def send_messages(self, email_messages):
        for message in email_messages:
            if message.subject in self.refuse:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such user")})
            built = message.message()
            type(self).delivered.append((built["Message-ID"], message.subject, message.to[0]))
            if message.subject in self.kill_after:
                raise WorkerKilled
        return len(email_messages)


@pytest.fixture
def recording(settings):
    settings.EMAIL_BACKEND = "tests.bizops.test_emails.RecordingBackend"
    RecordingBackend.delivered = []
    RecordingBackend.kill_after = set()
    RecordingBackend.refuse = set()
    return RecordingBackend


def make_emails(acme, n, subject="Email"):
    return [
        OutboundEmail.objects.create(
            organization=acme.org,
            recipient=acme.member.user,
            to_email=f"p{i}@example.com",
            kind="test",
            subject=f"{subject} {i}",
            body_text="b",
        )
        for i in range(n)
    ]


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return deliver_pending_emails.run()


@pytest.mark.django_db
def test_a_worker_killed_between_the_handoff_and_marking_sent_never_sends_twice(acme, recording):
    first, killed, left = make_emails(acme, 3)
    recording.kill_after = {killed.subject}
    with pytest.raises(WorkerKilled):
        deliver_batch([first.pk, killed.pk, left.pk])
    for email in (first, killed, left):
        email.refresh_from_db()
    assert [first.status, killed.status, left.status] == ["sent", "sending", "pending"]

    now = timezone.now()
    assert sweep_at(now + timedelta(minutes=1)) == 1  # the one never reached goes out
    sweep_at(now + SENDING_TIMEOUT + timedelta(minutes=1))  # the one in doubt becomes unknown
    sweep_at(now + timedelta(hours=3))  # and stays so
    for email in (first, killed, left):
        email.refresh_from_db()
    assert [first.status, killed.status, left.status] == ["sent", "unknown", "sent"]
    assert "may or may not have arrived" in killed.last_error
    message_ids = [message_id for message_id, _, _ in recording.delivered]
    assert sorted(message_ids) == sorted([first.message_id, killed.message_id, left.message_id])
    # Redelivered tasks send nothing either.
    assert deliver_email.run(killed.pk) == "skipped"
    assert deliver_batch([killed.pk]) == 0
    assert len(recording.delivered) == 3


@pytest.mark.django_db
def test_every_attempt_carries_the_rows_message_id(acme, recording):
    (email,) = make_emails(acme, 1)
    recording.refuse = {email.subject}
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver_email.run(email.pk)
    recording.refuse = set()
    assert deliver_email.run(email.pk) == "sent"
    email.refresh_from_db()
    assert email.attempts == 2
    assert re.fullmatch(rf"<{email.pk}\.[0-9a-f]{{16}}@[^>]+>", email.message_id)
    assert recording.delivered == [(email.message_id, email.subject, email.to_email)]
    assert email.message_id != make_emails(acme, 1)[0].message_id


@pytest.mark.django_db
def test_a_carriage_return_fails_its_email_and_the_rest_of_the_batch_goes_out(acme, mailoutbox):
    eve = MembershipFactory(organization=acme.org, user__display_name="Eve\rBcc: all@example.com").user
    batch: list[int] = []
    for inviter in (acme.owner.user, eve, acme.admin.user):
        email_enqueue(
            to="new@example.com",
            template="invitation",
            kind="invitation",
            organization=acme.org,
            batch=batch,
            context={
                "invitation": acme.org.invitations.model(email="new@example.com", role="member"),
                "inviter": inviter,
                "url": "/x/",
            },
        )
    assert deliver_batch(batch) == 2
    good_1, bad, good_2 = (OutboundEmail.objects.get(pk=pk) for pk in batch)
    assert (good_1.status, bad.status, good_2.status) == ("sent", "failed", "sent")
    assert "BadHeaderError" in bad.last_error
    assert len(mailoutbox) == 2
    # Never picked up again: not by the sweep, not by a redelivered task.
    assert sweep_at(timezone.now() + timedelta(hours=2)) == 0
    assert deliver_email.run(bad.pk) == "skipped"
    bad.refresh_from_db()
    assert bad.status == "failed" and bad.attempts == 1 and len(mailoutbox) == 2


@pytest.mark.django_db
def test_a_failure_before_the_handoff_retries_after_its_backoff(acme, recording):
    ok, refused = make_emails(acme, 2)
    recording.refuse = {refused.subject}
    assert deliver_batch([ok.pk, refused.pk]) == 1
    refused.refresh_from_db()
    assert refused.status == "pending" and refused.attempts == 1 and "no such user" in refused.last_error
    recording.refuse = set()
    now = timezone.now()
    assert sweep_at(now + timedelta(seconds=20)) == 0  # still waiting for its backoff
    assert sweep_at(now + backoff(1) + SWEEP_GRACE + timedelta(seconds=1)) == 1
    refused.refresh_from_db()
    assert refused.status == "sent" and refused.attempts == 2
    assert [subject for _, subject, _ in recording.delivered] == [ok.subject, refused.subject]


@pytest.mark.postgres  # two connections claiming rows (SKIP LOCKED): PostgreSQL's row locks
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_take_different_rows(acme, monkeypatch):
    emails = make_emails(acme, 10)
    OutboundEmail.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.setattr("bizops.tasks.SWEEP_LIMIT", 6)
    first_claimed = threading.Event()
    second_done = threading.Event()
    handed: dict[str, list[int]] = {}

    def hand_out(email_ids):
        sweep = threading.current_thread().name.split("-")[0]  # run_in_threads names it after its target
        handed.setdefault(sweep, []).extend(email_ids)
        if sweep == "first":
            first_claimed.set()
            second_done.wait(timeout=10)  # keep the first sweep's transaction open meanwhile

    monkeypatch.setattr(deliver_emails, "delay", hand_out)

    def first():
        with transaction.atomic():  # the claim's locks are held until this commits
            deliver_pending_emails.run()

    def second():
        try:
            assert first_claimed.wait(timeout=10)
            deliver_pending_emails.run()
        finally:
            second_done.set()

    run_in_threads(first, second)
    assert len(handed["first"]) == 6 and len(handed["second"]) == 4
    assert set(handed["first"]).isdisjoint(handed["second"])
    assert set(handed["first"]) | set(handed["second"]) == {e.pk for e in emails}
    # Claimed: a third sweep right after takes none of them.
    assert deliver_pending_emails.run() == 0


@pytest.mark.django_db
def test_outbox_shows_unknown_and_an_admin_resends_it(
    acme, clients, mailoutbox, django_capture_on_commit_callbacks
):
    (email,) = make_emails(acme, 1, subject="Your invitation")
    OutboundEmail.objects.filter(pk=email.pk).update(
        status="unknown", attempts=1, sending_since=timezone.now() - timedelta(hours=1)
    )
    detail = reverse("outbox_detail", args=[acme.org.slug, email.pk])
    listing = clients["owner"].get(reverse("outbox", args=[acme.org.slug])).content.decode()
    assert "Unknown" in listing
    page = clients["admin"].get(detail).content.decode()
    assert "Unknown" in page and 'value="resend"' in page and html.escape(email.message_id) in page
    for role, status in (("viewer", 403), ("member", 403), ("manager", 403), ("outsider", 404)):
        assert clients[role].post(detail, {"action": "resend"}).status_code == status
    email.refresh_from_db()
    assert email.status == "unknown" and not mailoutbox

    with django_capture_on_commit_callbacks(execute=True):
        response = clients["admin"].post(detail, {"action": "resend"})
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.status == "sent" and email.resent_by == acme.admin.user and email.resent_at
    assert [m.extra_headers["Message-ID"] for m in mailoutbox] == [email.message_id]
    assert "Sent again" in clients["admin"].get(detail).content.decode()
    # Sent now: Resend is refused and offered no more.
    with django_capture_on_commit_callbacks(execute=True):
        clients["admin"].post(detail, {"action": "resend"})
    assert len(mailoutbox) == 1
    assert 'value="resend"' not in clients["admin"].get(detail).content.decode()


@pytest.mark.django_db
def test_resend_refuses_what_is_not_unknown_or_failed(acme):
    pending, sending, sent = make_emails(acme, 3)
    OutboundEmail.objects.filter(pk=sending.pk).update(status="sending", sending_since=timezone.now())
    OutboundEmail.objects.filter(pk=sent.pk).update(status="sent")
    for email in (pending, sending, sent):
        with pytest.raises(Conflict):
            email_resend(actor=acme.owner, email=email)
    OutboundEmail.objects.filter(pk=sent.pk).update(status="failed", attempts=MAX_ATTEMPTS)
    with pytest.raises(PermissionDenied):
        email_resend(actor=acme.manager, email=sent)
    resent = email_resend(actor=acme.owner, email=sent)
    assert resent.status == "pending" and resent.attempts == 0 and resent.resent_by == acme.owner.user


@pytest.mark.django_db
def test_a_resend_is_on_the_audit_trail_with_the_status_it_had(acme):
    from bizops.models import AuditEvent

    (email,) = make_emails(acme, 1, subject="Your invitation")
    OutboundEmail.objects.filter(pk=email.pk).update(status="unknown")
    email_resend(actor=acme.owner, email=email)
    event = AuditEvent.objects.get(organization=acme.org, kind="email")
    assert (event.action, event.actor_id, event.object_id) == ("resent", acme.owner.user_id, email.pk)
    assert event.changes == {"status": ["Unknown", "Pending"]}
