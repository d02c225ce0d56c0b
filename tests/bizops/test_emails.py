"""Email delivery: stored first, sent once, retried on SMTP errors, readable in the outbox."""

import smtplib

import pytest
from django.core import mail
from django.urls import reverse

from bizops.emails import email_enqueue
from bizops.models import OutboundEmail
from bizops.tasks import MAX_ATTEMPTS, deliver_email


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
