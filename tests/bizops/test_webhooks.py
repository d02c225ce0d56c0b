"""Webhooks: signed deliveries to a real local HTTP receiver, retries, pause after failures, pages."""

import contextlib
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest
from celery.exceptions import Retry
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from bizops import tasks, webhooks
from bizops.models import OutboundEmail, Webhook, WebhookDelivery
from bizops.tasks import deliver_webhook
from planning import services as planning
from planning.models import PlanStatus


class Receiver:
    """An HTTP server on loopback that records requests and answers with the next queued status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                # self.headers matches names case-insensitively, as HTTP wants.
                receiver.requests.append({"headers": self.headers, "body": self.rfile.read(length)})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def hook_for(
    acme,
    url,
    events=("plan.submitted", "plan.approved", "step.completed", "check_in.created", "kpi.status_changed"),
):
    return Webhook.objects.create(
        organization=acme.org, url=url, events=list(events), secret=webhooks.new_secret()
    )


@pytest.mark.django_db
def test_events_are_delivered_signed(acme, plan, tree, receiver, django_capture_on_commit_callbacks):
    hook = hook_for(acme, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        planning.plan_submit(actor=acme.manager, plan=plan)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = request["body"]
    assert request["headers"]["X-BizOps-Event"] == "plan.submitted"
    assert webhooks.verify(hook.secret, request["headers"]["X-BizOps-Signature"], body)
    assert not webhooks.verify("whsec_wrong", request["headers"]["X-BizOps-Signature"], body)
    assert not webhooks.verify(hook.secret, request["headers"]["X-BizOps-Signature"], body + b" ")
    document = json.loads(body)
    assert document["event"] == "plan.submitted" and document["data"]["plan"]["id"] == plan.pk
    assert WebhookDelivery.objects.get().status == "delivered"


def test_old_signatures_are_refused_as_replays():
    header = webhooks.sign("s", 1_000, b"{}")
    assert webhooks.verify("s", header, b"{}", now=1_100)
    assert not webhooks.verify("s", header, b"{}", now=1_000 + 301)
    assert not webhooks.verify("s", "garbage", b"{}")


@pytest.mark.django_db
def test_step_done_check_in_and_kpi_status_are_events(
    acme, plan, tree, key_result, leads, march, receiver, django_capture_on_commit_callbacks
):
    from metrics import services as metrics

    hook_for(acme, receiver.url)
    _, _, step = tree
    plan.status = PlanStatus.ACTIVE
    plan.save()
    step.plan = plan
    with django_capture_on_commit_callbacks(execute=True):
        planning.step_set_status(actor=acme.member, step=step, status="done")
        metrics.check_in_key_result(actor=acme.manager, key_result=key_result, value=2, confidence="on_track")
        metrics.measurement_record(actor=acme.manager, kpi=leads, period=march, value=50)  # no data → red
        metrics.measurement_record(
            actor=acme.manager, kpi=leads, period=march, value=49
        )  # still red: no event
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert events == ["step.completed", "check_in.created", "kpi.status_changed"]
    kpi_event = json.loads(receiver.requests[2]["body"])["data"]
    assert (kpi_event["from"], kpi_event["to"]) == ("none", "red")


@pytest.mark.django_db
def test_failures_retry_then_pause_and_tell_admins(acme, receiver, monkeypatch):
    hook = hook_for(acme, receiver.url, events=["plan.submitted"])
    receiver.statuses = [500] * 20
    retries = []

    def no_wait_retry(self, countdown=None, **kwargs):
        retries.append(countdown)
        raise RuntimeError("retry")

    monkeypatch.setattr(deliver_webhook, "retry", no_wait_retry.__get__(deliver_webhook))
    for n in range(webhooks.PAUSE_AFTER_FAILURES):
        delivery = WebhookDelivery.objects.create(
            organization=acme.org, webhook=hook, event="plan.submitted", payload={"n": n}
        )
        with contextlib.suppress(RuntimeError):
            deliver_webhook.run(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and delivery.response_code == 500
    assert retries[:3] == [30, 30, 30]
    hook.refresh_from_db()
    assert hook.paused_at is not None and hook.failure_count == webhooks.PAUSE_AFTER_FAILURES
    assert OutboundEmail.objects.filter(kind="webhook_paused", to_email=acme.owner.user.email).exists()
    # A paused hook gets no new deliveries.
    assert webhooks.emit(organization=acme.org, event="plan.submitted", data={}) == 0


@pytest.mark.django_db
def test_backoff_grows_and_a_success_resets_the_count(acme, receiver, monkeypatch):
    hook = hook_for(acme, receiver.url, events=["plan.submitted"])
    receiver.statuses = [503, 503, 200]
    delays = []

    def fake_retry(self, countdown=None, **kwargs):
        delays.append(countdown)
        raise RuntimeError("retry")

    monkeypatch.setattr(deliver_webhook, "retry", fake_retry.__get__(deliver_webhook))
    delivery = WebhookDelivery.objects.create(
        organization=acme.org, webhook=hook, event="plan.submitted", payload={}
    )
    for _ in range(3):
        with contextlib.suppress(RuntimeError):
            deliver_webhook.run(delivery.pk)
    delivery.refresh_from_db()
    hook.refresh_from_db()
    assert delays == [30, 60]
    assert delivery.status == "delivered" and delivery.attempts == 3 and hook.failure_count == 0
    assert deliver_webhook.run(delivery.pk) == "skipped"  # a redelivered task sends nothing twice


@pytest.mark.django_db
def test_private_addresses_are_refused_unless_allowed(acme, settings):
    from bizops.errors import ValidationError
    from bizops.services import webhook_create

    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8000/x", "http://10.1.2.3/x", "ftp://example.com/x", "http://[::1]/x"):
        with pytest.raises(ValidationError):
            webhook_create(actor=acme.admin, url=url, events=["plan.submitted"])
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_webhook_pages(acme, clients, receiver, django_capture_on_commit_callbacks):
    url = reverse("webhook_list", args=[acme.org.slug])
    assert clients["manager"].get(url).status_code == 403
    assert clients["outsider"].get(url).status_code == 404
    response = clients["admin"].post(
        url, {"url": receiver.url, "events": ["plan.approved"], "description": "CRM"}
    )
    hook = Webhook.objects.get()
    assert response.url == reverse("webhook_detail", args=[acme.org.slug, hook.pk])
    page = clients["admin"].get(response.url).content.decode()
    assert hook.secret in page
    with django_capture_on_commit_callbacks(execute=True):
        clients["admin"].post(response.url, {"action": "ping"})
    assert json.loads(receiver.requests[0]["body"])["event"] == "ping"
    clients["admin"].post(response.url, {"action": "pause"})
    hook.refresh_from_db()
    assert hook.paused_at is not None
    bad = clients["admin"].post(url, {"url": "not a url", "events": ["plan.approved"]})
    assert bad.status_code == 400 and Webhook.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_held_during_the_post_and_a_delivery_is_posted_once(acme):
    """While the POST is in flight, another connection can lock and update the delivery row, and a
    redelivered task neither posts it again nor waits for it."""
    seen: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["posts"] = seen.get("posts", 0) + 1
            try:
                with transaction.atomic():  # this thread's own database connection
                    row = WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
                    seen["status"] = row.status
                    WebhookDelivery.objects.filter(pk=row.pk).update(last_error="seen by the receiver")
                try:
                    deliver_webhook.run(delivery.pk)  # the same task, redelivered meanwhile
                except Retry:
                    seen["redelivered"] = "retries later"
            except Exception as exc:
                seen["error"] = repr(exc)
            finally:
                connection.close()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = hook_for(acme, f"http://127.0.0.1:{server.server_address[1]}/hook", events=["plan.submitted"])
        delivery = WebhookDelivery.objects.create(
            organization=acme.org, webhook=hook, event="plan.submitted", payload={"id": "evt_1"}
        )
        assert deliver_webhook.run(delivery.pk) == "delivered"
    finally:
        server.shutdown()
        server.server_close()
    assert seen == {"posts": 1, "status": "sending", "redelivered": "retries later"}
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.sending_since is None
    assert deliver_webhook.run(delivery.pk) == "skipped"


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over(acme, receiver):
    hook = hook_for(acme, receiver.url, events=["plan.submitted"])
    delivery = WebhookDelivery.objects.create(
        organization=acme.org,
        webhook=hook,
        event="plan.submitted",
        payload={},
        status="sending",
        attempts=1,
        sending_since=timezone.now() - tasks.WEBHOOK_CLAIM_STALE - timedelta(seconds=1),
    )
    assert deliver_webhook.run(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2 and len(receiver.requests) == 1
