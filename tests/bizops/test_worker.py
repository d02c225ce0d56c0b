"""A real Celery worker, consuming from the real broker (Redis in the test command), delivers an email."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from bizops.celery import app
from bizops.emails import email_enqueue
from bizops.models import OutboundEmail


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_an_enqueued_email(acme, mailoutbox):
    if settings.REDIS_URL:  # the test command always sets it: the worker must go through Redis
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            email = email_enqueue(
                to=acme.member.user,
                template="invitation",
                kind="test",
                organization=acme.org,
                context={
                    "invitation": acme.org.invitations.model(email="x@example.com", role="member"),
                    "inviter": acme.owner.user,
                    "url": "/invite/x/",
                },
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            email.refresh_from_db()
            if email.status not in (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING):
                break
            time.sleep(0.1)
    assert email.status == OutboundEmail.Status.SENT
    assert [m.to for m in mailoutbox] == [[acme.member.user.email]]
