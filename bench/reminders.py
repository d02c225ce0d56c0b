"""Check-in reminders for 10,000 members: the real dispatcher, a real Celery worker, Redis db 9.

    .venv/bin/python -m bench.reminders                  # 10,000 members, a worker of 3 processes
    .venv/bin/python -m bench.reminders --concurrency 2

Sets up (once) the organization "bench-reminders": 10,000 members, each owning one key result in one
active plan. Each run makes their check-in due now (the organization's check-in day and hour become
the current UTC ones), forgets the reminders of earlier runs, empties Redis db 9, starts
``celery -A bizops worker`` (prefork, ``--concurrency`` processes) on the bench settings, and then:

1. runs the dispatcher once (``metrics.tasks.dispatch_reminders``, here, as beat would trigger it),
   which hands batches to the worker (``send_reminders``: compose, claim, enqueue ``deliver_email``);
2. waits until every member's reminder is sent (``OutboundEmail`` rows with status sent; emails go to
   files under var/bench/mail, which are counted too: the filebased backend works across processes);
3. runs the dispatcher a second time and waits for the queue to drain: nothing new may be claimed or
   delivered (duplicates 0), and no member may be without an email (missed 0).

Then it stops the worker. Target: all 10,000 sent in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.common import (
    REMINDERS_SLUG,
    ROOT,
    bench_env,
    email_domain,
    ensure_database,
    load_average,
    setup,
    var_dir,
    wait_for_quiet,
)

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the filebased backend writes after each message


def ensure_members(count: int) -> int:
    """The reminders organization with ``count`` members, each owning a key result; its id."""
    from django.db import transaction

    from bench.generate import drop_organization, password_hash
    from bizops.models import Membership, Organization, User
    from metrics.models import KeyResult
    from planning.models import Milestone, Objective, Plan

    org = Organization.objects.filter(slug=REMINDERS_SLUG).first()
    if org is not None and Membership.objects.filter(organization=org).count() == count:
        return org.pk
    if org is not None:
        drop_organization(REMINDERS_SLUG)
    started = time.perf_counter()
    today = datetime.now(UTC).date()
    domain = email_domain(REMINDERS_SLUG)
    hashed = password_hash()
    with transaction.atomic():
        org = Organization.objects.create(name="Bench Reminders", slug=REMINDERS_SLUG, time_zone="UTC")
        users = User.objects.bulk_create(
            (
                User(email=f"member{i:05d}@{domain}", display_name=f"Member {i:05d}", password=hashed)
                for i in range(count)
            ),
            batch_size=2000,
        )
        members = Membership.objects.bulk_create(
            (Membership(organization=org, user=user, role="member") for user in users), batch_size=2000
        )
        plan = Plan.objects.create(
            organization=org,
            title="Reminders plan",
            ultimate_goal="Everyone checks in.",
            period_start=today - timedelta(days=100),
            period_end=today + timedelta(days=265),
            status="active",
        )
        milestone = Milestone.objects.create(organization=org, plan=plan, title="Check in weekly")
        per_objective = 100
        objectives = Objective.objects.bulk_create(
            Objective(organization=org, plan=plan, milestone=milestone, title=f"Objective {j}", position=j)
            for j in range((count + per_objective - 1) // per_objective)
        )
        KeyResult.objects.bulk_create(
            (
                KeyResult(
                    organization=org,
                    plan=plan,
                    objective=objectives[i // per_objective],
                    title=f"Key result of member {i:05d}",
                    target=Decimal(100),
                    current=Decimal(i % 100),
                    owner=member,
                    position=i % per_objective,
                )
                for i, member in enumerate(members)
            ),
            batch_size=2000,
        )
    print(f"set up {count:,} members with a key result each in {time.perf_counter() - started:.1f} s")
    return org.pk


def make_due_now(org_id: int) -> datetime:
    """Due now: the organization's check-in day and hour are this UTC day and hour; earlier claims go."""
    from bizops.models import Notification, Organization, OutboundEmail

    now = datetime.now(UTC)
    Organization.objects.filter(pk=org_id).update(checkin_weekday=now.weekday(), checkin_hour=now.hour)
    OutboundEmail.objects.filter(organization_id=org_id).delete()
    Notification.objects.filter(organization_id=org_id).delete()
    return now


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queue_depth(r) -> tuple[int, int]:
    """Messages waiting in the default queue, and delivered but not yet acknowledged (acks_late)."""
    return r.llen("celery"), r.hlen("unacked")


def start_worker(concurrency: int, log_path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "bizops",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "--hostname",
        "bench-reminders@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    log = open(log_path, "w")  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(
        command, cwd=ROOT, env=bench_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(worker: subprocess.Popen, log_path, timeout: float = 60) -> None:
    from bizops.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}: see {log_path}")
        if app.control.ping(timeout=0.5):
            return
    raise SystemExit(f"the worker did not answer within {timeout:.0f} s: see {log_path}")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of a process group (the worker and its children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # the process group (field 5 of stat)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def delivered(mail_dir) -> tuple[int, int]:
    """Messages the filebased backend wrote (several can share a file): to the reminders members, all."""
    to_members = re.compile(rb"^To: [^\n]*@" + re.escape(email_domain(REMINDERS_SLUG).encode()), re.MULTILINE)
    mine = total = 0
    for path in mail_dir.iterdir():
        content = path.read_bytes()
        total += content.count(SEPARATOR)
        mine += len(to_members.findall(content))
    return mine, total


def counts(org_id: int) -> dict[str, int]:
    from django.db.models import Count

    from bizops.models import Notification, OutboundEmail

    emails = OutboundEmail.objects.filter(organization_id=org_id, kind="checkin_due")
    per_status = dict(emails.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "claimed": emails.count(),
        "sent": per_status.get("sent", 0),
        "pending": per_status.get("pending", 0),
        "failed": per_status.get("failed", 0),
        "recipients_sent": emails.filter(status="sent").values("recipient").distinct().count(),
        "notifications": Notification.objects.filter(organization_id=org_id, kind="checkin_due").count(),
    }


def wait_drained(r, timeout: float) -> bool:
    """True once the queue is empty and nothing is unacknowledged, three checks in a row."""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        calm = calm + 1 if queue_depth(r) == (0, 0) else 0
        if calm >= 3:
            return True
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000, help="members due now (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=3, help="worker processes (default 3)")
    parser.add_argument(
        "--timeout", type=float, default=300, help="give up after this many seconds (default 300)"
    )
    parser.add_argument(
        "--quiet", type=int, default=0, metavar="SECONDS", help="wait up to this long for an idle machine"
    )
    args = parser.parse_args(argv)

    setup()
    ensure_database()
    from django.conf import settings
    from django.db import connection

    from bizops.models import OutboundEmail
    from metrics.tasks import dispatch_reminders

    org_id = ensure_members(args.members)
    now = make_due_now(org_id)
    mail_dir = var_dir() / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir(parents=True)
    r = redis_client()
    r.flushdb()  # Redis db 9 (bench.settings refuses db 0): stale tasks of an earlier run must not count
    others_before = OutboundEmail.objects.exclude(organization_id=org_id).count()
    log_path = var_dir() / "celery-worker.log"
    wait_for_quiet(args.quiet)
    print(f"load average before: {load_average()}")
    worker = start_worker(args.concurrency, log_path)
    try:
        wait_ready(worker, log_path)
        connection.close()  # nothing of this process's set-up is held open during the run

        started = time.perf_counter()
        due = dispatch_reminders(now=now.isoformat())
        dispatched = time.perf_counter() - started
        claimed_at = sent_at = None
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            c = counts(org_id)
            elapsed = time.perf_counter() - started
            if claimed_at is None and c["claimed"] >= args.members:
                claimed_at = elapsed
            if c["sent"] + c["failed"] >= args.members:
                sent_at = elapsed
                break
            time.sleep(0.25)
        first = counts(org_id)
        first_cpu = group_cpu_seconds(worker.pid)
        wait_drained(r, 60)
        first_delivered = delivered(mail_dir)

        second_started = time.perf_counter()
        due_again = dispatch_reminders(now=datetime.now(UTC).isoformat())
        drained = wait_drained(r, 120)
        second_time = time.perf_counter() - second_started
        second = counts(org_id)
        second_delivered = delivered(mail_dir)
        others = OutboundEmail.objects.exclude(organization_id=org_id).count() - others_before
        second_cpu = group_cpu_seconds(worker.pid) - first_cpu
    finally:
        stop_worker(worker)
    print(f"load average after: {load_average()}\n")

    duplicates = (second["claimed"] - first["claimed"]) + max(0, second_delivered[0] - second["sent"])
    duplicates += second["sent"] - second["recipients_sent"]
    missed = args.members - second["recipients_sent"]
    rows = [
        ("members due now", f"{args.members:,}"),
        ("worker", f"celery prefork, {args.concurrency} processes, broker {settings.CELERY_BROKER_URL}"),
        ("first dispatch: due found", ", ".join(f"{k} {v:,}" for k, v in sorted(due.items()))),
        ("first dispatch: dispatcher time", f"{dispatched:.2f} s"),
        ("all reminders claimed after", f"{claimed_at:.1f} s" if claimed_at else "not within the timeout"),
        ("all reminders sent after", f"{sent_at:.1f} s" if sent_at else "not within the timeout"),
        ("worker CPU until all were sent", f"{first_cpu:.1f} s (user + system, all its processes)"),
        (
            "emails sent (status sent)",
            f"{first['sent']:,} (failed {first['failed']}, pending {first['pending']})",
        ),
        (
            "emails written by the backend",
            f"{first_delivered[0]:,} to these members ({first_delivered[1]:,} in all)",
        ),
        ("in-app notifications", f"{first['notifications']:,}"),
        ("second dispatch: due found", ", ".join(f"{k} {v:,}" for k, v in sorted(due_again.items()))),
        ("second dispatch: drained in", f"{second_time:.1f} s" + ("" if drained else " (NOT drained)")),
        ("second dispatch: worker CPU", f"{second_cpu:.1f} s, to find that everything was sent already"),
        ("second dispatch: new claims", f"{second['claimed'] - first['claimed']}"),
        ("second dispatch: new emails written", f"{second_delivered[1] - first_delivered[1]}"),
        ("duplicates", f"{duplicates}"),
        ("missed", f"{missed}"),
        (
            "other organizations' emails meanwhile",
            f"{others:,} (e.g. the bench org's daily overdue-step reminders)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    ok = sent_at is not None and sent_at < 60
    print()
    print(f"{'met   ' if ok else 'MISSED'}  reminders for {args.members:,} members sent in under 60 s")
    print(f"{'met   ' if duplicates == 0 else 'MISSED'}  no duplicates: {duplicates}")
    print(f"{'met   ' if missed == 0 else 'MISSED'}  none missed: {missed}")


if __name__ == "__main__":
    main()
