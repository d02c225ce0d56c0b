"""Reminders: due in each person's time zone, across daylight saving, exactly once, end to end."""

import smtplib
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bizops.links import action_token
from bizops.models import Membership, Notification, OutboundEmail
from metrics.models import KeyResult
from metrics.reminders import due_date
from metrics.tasks import dispatch_reminders, send_reminders
from planning.models import PlanStatus
from tests.concurrency import run_in_threads

LONDON = ZoneInfo("Europe/London")
MONDAY = 0


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_due_date_in_the_persons_time_zone():
    # Monday 22 March 2027, 09:00 in London is 09:00 UTC (winter time).
    assert due_date(utc(2027, 3, 22, 8, 59), LONDON, 9, MONDAY) is None or due_date(
        utc(2027, 3, 22, 8, 59), LONDON, 9, MONDAY
    ) != date(2027, 3, 22)
    assert due_date(utc(2027, 3, 22, 9, 0), LONDON, 9, MONDAY) == date(2027, 3, 22)
    # New York is five hours behind: not due there yet.
    assert due_date(utc(2027, 3, 22, 9, 0), ZoneInfo("America/New_York"), 9, MONDAY) != date(2027, 3, 22)
    # A day late is still due (a dispatcher was down); more than a day late is given up.
    assert due_date(utc(2027, 3, 23, 8, 59), LONDON, 9, MONDAY) == date(2027, 3, 22)
    assert due_date(utc(2027, 3, 23, 9, 1), LONDON, 9, MONDAY) is None


def test_daylight_saving_neither_skips_nor_repeats():
    # Summer time starts Sunday 28 March 2027: Monday 29 March 09:00 London is 08:00 UTC.
    assert due_date(utc(2027, 3, 29, 7, 59), LONDON, 9, MONDAY) is None
    assert due_date(utc(2027, 3, 29, 8, 0), LONDON, 9, MONDAY) == date(2027, 3, 29)
    assert due_date(utc(2027, 3, 29, 9, 30), LONDON, 9, MONDAY) == date(2027, 3, 29)  # same key: no repeat
    # A reminder at 01:30 on the night the clocks jump from 01:00 to 02:00 still happens once.
    assert due_date(utc(2027, 3, 28, 2, 0), LONDON, 1, 6) == date(2027, 3, 28)
    # Winter time returns Sunday 31 October 2027; 01:30 happens twice, the reminder once (same date).
    first = due_date(utc(2027, 10, 31, 0, 31), LONDON, 1, 6)
    second = due_date(utc(2027, 10, 31, 1, 31), LONDON, 1, 6)
    assert first == second == date(2027, 10, 31)


@pytest.fixture
def running(acme, plan, key_result, tree):
    """An active plan in which the member owns a key result and the manager an objective."""
    plan.status = PlanStatus.ACTIVE
    plan.save()
    key_result.owner = acme.member
    key_result.save()
    for membership, tz in ((acme.member, "Europe/London"), (acme.manager, "America/New_York")):
        membership.user.time_zone = tz
        membership.user.save()
        membership.cadence = Membership.Cadence.CUSTOM
        membership.checkin_weekday = MONDAY
        membership.checkin_hour = 9
        membership.save()
    return plan


def emails(kind):
    return list(OutboundEmail.objects.filter(kind=kind).select_related("recipient"))


@pytest.mark.django_db
def test_dispatcher_sends_in_each_time_zone_once(
    acme, running, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(utc(2027, 3, 22, 9, 5)), django_capture_on_commit_callbacks(execute=True):
        dispatch_reminders.run()
    assert [e.recipient for e in emails("checkin_due")] == [
        acme.member.user
    ]  # 09:05 in London, 05:05 in New York
    body = mailoutbox[0].body
    assert "Clients signed" in body and "/act/" in body and "preferences" in body
    with time_machine.travel(utc(2027, 3, 22, 9, 35)), django_capture_on_commit_callbacks(execute=True):
        dispatch_reminders.run()
    assert len(emails("checkin_due")) == 1  # not again
    with time_machine.travel(utc(2027, 3, 22, 13, 5)), django_capture_on_commit_callbacks(execute=True):
        dispatch_reminders.run()  # 09:05 in New York
    assert {e.recipient for e in emails("checkin_due")} == {acme.member.user, acme.manager.user}
    assert Notification.objects.filter(kind="checkin_due").count() == 2


@pytest.mark.django_db
def test_dispatcher_across_the_spring_change(acme, running):
    for moment in (
        utc(2027, 3, 29, 7, 55),
        utc(2027, 3, 29, 8, 5),
        utc(2027, 3, 29, 9, 5),
        utc(2027, 3, 29, 10, 5),
    ):
        with time_machine.travel(moment):
            dispatch_reminders.run()
    sent = [e for e in emails("checkin_due") if e.recipient == acme.member.user]
    assert len(sent) == 1 and sent[0].dedupe_key.endswith("2027-03-29")


@pytest.mark.django_db
def test_preferences_turn_kinds_off_or_in_app(acme, running, mailoutbox, django_capture_on_commit_callbacks):
    member = acme.member
    member.notification_prefs = {"checkin_due": "in_app"}
    member.save()
    with time_machine.travel(utc(2027, 3, 22, 9, 5)), django_capture_on_commit_callbacks(execute=True):
        dispatch_reminders.run()
    assert Notification.objects.filter(recipient=member.user, kind="checkin_due").count() == 1
    assert not emails("checkin_due") and not mailoutbox
    member.notification_prefs = {"checkin_due": "off"}
    member.cadence = Membership.Cadence.OFF
    member.save()
    with time_machine.travel(utc(2027, 3, 29, 8, 5)):
        dispatch_reminders.run()
    assert Notification.objects.filter(recipient=member.user, kind="checkin_due").count() == 1


@pytest.mark.django_db
def test_overdue_steps_once_a_day_and_approval_nudges(acme, running, tree):
    _, _, step = tree
    step.due_date = date(2027, 3, 1)
    step.save()
    for moment in (utc(2027, 3, 22, 9, 5), utc(2027, 3, 22, 12, 0), utc(2027, 3, 23, 9, 5)):
        with time_machine.travel(moment):
            dispatch_reminders.run()
    overdue = sorted(
        (e for e in emails("overdue_steps") if e.recipient == acme.member.user), key=lambda e: e.pk
    )
    assert [e.dedupe_key.rsplit(":", 1)[1] for e in overdue] == ["2027-03-22", "2027-03-23"]
    assert "Reach out to leads" in overdue[0].body_text


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_one_email(acme, running):
    barrier = threading.Barrier(2)

    def dispatch():
        barrier.wait(timeout=5)
        # The moment is the task's argument, not time_machine: it patches the clock of the whole
        # process, and two threads entering and leaving it at once leave the clock to chance.
        dispatch_reminders.run(utc(2027, 3, 22, 9, 5).isoformat())

    run_in_threads(dispatch, dispatch)
    assert len([e for e in emails("checkin_due") if e.recipient_id == acme.member.user_id]) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_a_reminder_end_to_end(acme, running, mailoutbox, settings):
    from celery.contrib.testing.worker import start_worker

    from bizops.celery import app

    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        dispatch_reminders.delay(utc(2027, 3, 22, 9, 5).isoformat())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if OutboundEmail.objects.filter(kind="checkin_due", status="sent").exists():
                break
            time.sleep(0.2)
    sent = emails("checkin_due")
    assert len(sent) == 1 and sent[0].status == "sent"
    assert [m.to for m in mailoutbox] == [[acme.member.user.email]]


@pytest.mark.django_db
def test_smtp_round_trip(acme, settings):
    """A real SMTP conversation with a local server (aiosmtpd)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    import socket

    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        from bizops.emails import email_enqueue
        from bizops.tasks import deliver_email

        email = email_enqueue(
            to=acme.member.user,
            template="approval_waiting",
            kind="t",
            organization=acme.org,
            context={
                "plan": type("P", (), {"title": "Plan <b>X</b>", "submitted_by": None, "waiting_days": 2})(),
                "path": "/x/",
                "prefs_url": "/p/",
            },
        )
        assert deliver_email.run(email.pk) == "sent"
    finally:
        controller.stop()
    assert len(received) == 1
    assert received[0]["To"] == acme.member.user.email
    from email.header import decode_header, make_header

    assert "Plan <b>X</b>" in str(make_header(decode_header(received[0]["Subject"])))
    # A refused connection is recorded and retried, not lost.
    settings.EMAIL_PORT = 1
    email = email_enqueue(
        to="x@example.com",
        template="approval_waiting",
        kind="t",
        organization=acme.org,
        context={
            "plan": type("P", (), {"title": "Y", "submitted_by": None, "waiting_days": 1})(),
            "path": "/",
            "prefs_url": "/",
        },
    )
    with pytest.raises((smtplib.SMTPException, OSError)):
        deliver_email.run(email.pk)
    email.refresh_from_db()
    assert email.status == "pending" and email.attempts == 1 and email.last_error


@pytest.mark.django_db
def test_signed_links_valid_expired_forged_and_someone_elses(acme, client, tree, running):
    _, _, step = tree
    token = action_token(
        user_id=acme.member.user_id, organization_id=acme.org.pk, action="step_done", object_id=step.pk
    )
    url = reverse("metrics_public:action_link", args=[token])
    page = client.get(url)  # a mail scanner's GET changes nothing
    assert page.status_code == 200 and "Mark this step done?" in page.content.decode()
    step.refresh_from_db()
    assert step.status == "todo"
    assert client.post(url).status_code == 200
    step.refresh_from_db()
    assert step.status == "done"

    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(reverse("metrics_public:action_link", args=[forged])).status_code == 400
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        assert client.get(url).status_code == 410
    client.force_login(acme.admin.user)
    response = client.post(url)
    assert response.status_code == 403 and "for someone else" in response.content.decode()

    kr_token = action_token(
        user_id=acme.admin.user_id,
        organization_id=acme.org.pk,
        action="check_in",
        object_id=KeyResult.objects.get().pk,
        value="3",
    )
    redirect = client.get(reverse("metrics_public:action_link", args=[kr_token]))
    assert redirect.status_code == 302 and redirect.url.endswith("?value=3")


@pytest.mark.django_db
def test_bell_list_and_mark_read(acme, clients):
    for i in range(3):
        Notification.objects.create(
            organization=acme.org,
            recipient=acme.member.user,
            kind="mention",
            title=f"Hello {i}",
            url="/o/acme/",
        )
    home = clients["member"].get(reverse("planning:org_home", args=["acme"])).content.decode()
    assert "Notifications: 3 unread" in home
    assert "Hello 2" in clients["member"].get(reverse("notification_list", args=["acme"])).content.decode()
    first = Notification.objects.first()
    assert clients["member"].get(reverse("notification_open", args=["acme", first.pk])).url == "/o/acme/"
    clients["member"].post(reverse("notification_list", args=["acme"]))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert clients["admin"].get(reverse("notification_open", args=["acme", first.pk])).status_code == 404


@pytest.mark.django_db
def test_preferences_page(acme, clients):
    url = reverse("notification_preferences", args=["acme"])
    data = {
        "cadence": "custom",
        "checkin_weekday": 4,
        "checkin_hour": 16,
        **{
            f"kind_{k}": "email"
            for k in (
                "checkin_due",
                "overdue_steps",
                "approval_request",
                "approval_waiting",
                "approval_decision",
                "assignment",
                "mention",
                "manager_digest",
                "score_request",
            )
        },
    }
    data["kind_mention"] = "off"
    assert clients["member"].post(url, data).status_code == 302
    acme.member.refresh_from_db()
    assert acme.member.checkin_schedule() == (4, 16)
    assert acme.member.notification_prefs["mention"] == "off"
    bad = clients["member"].post(url, {**data, "checkin_hour": 99})
    assert bad.status_code == 400


class WorkerKilled(BaseException):
    """A SIGKILL seen from inside: nothing after it runs."""


@pytest.mark.django_db
def test_a_batch_redelivered_after_its_worker_died_sends_what_it_had_claimed(
    acme, running, mailoutbox, monkeypatch
):
    items = [[acme.member.pk, "2027-03-22"]]

    def killed(email_ids):
        raise WorkerKilled

    with time_machine.travel(utc(2027, 3, 22, 9, 5)):
        monkeypatch.setattr("metrics.tasks.deliver_batch", killed)
        with pytest.raises(WorkerKilled):
            send_reminders.run("checkin_due", items)  # composed and claimed, then the worker died
        monkeypatch.undo()
        (email,) = emails("checkin_due")
        assert email.status == "pending" and not mailoutbox
        # Celery redelivers the batch (acks_late, reject_on_worker_lost): it composes nothing again
        # but sends what it had claimed, without waiting for the sweep.
        assert send_reminders.run("checkin_due", items) == 0
        email.refresh_from_db()
        assert email.status == "sent" and len(mailoutbox) == 1
        send_reminders.run("checkin_due", items)
    assert len(mailoutbox) == 1 and len(emails("checkin_due")) == 1
