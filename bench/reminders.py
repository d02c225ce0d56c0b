"""Check-in reminders for 10,000 members through crashes: a real Celery worker killed mid-send, two
beats at once, Redis db 9.

    .venv/bin/python -m bench.reminders                        # 10,000 members, 2 kills, 2 beats
    .venv/bin/python -m bench.reminders --kills 0 --beats 1    # no crash, one beat
    .venv/bin/python -m bench.reminders --kill-mode worker     # kill the whole worker, start a new one

Sets up (once) the organization "bench-reminders": 10,000 members, each owning one key result in one
active plan. Each run makes their check-in due now (the organization's check-in day and hour become
the current UTC ones), forgets the reminders of earlier runs, empties Redis db 9, starts
``celery -A bizops worker`` (prefork, ``--concurrency`` processes) on the bench settings, and then:

1. starts ``--beats`` beat processes (2 by default) that do what ``celery beat`` would at the same
   instants, each in its own process so that they race: the dispatcher
   (``metrics.tasks.dispatch_reminders``) every ``--dispatch-every`` seconds and the sweep
   (``bizops.tasks.deliver_pending_emails``) every ``--sweep-every`` seconds, the production
   schedule (120 s and 60 s), all starting at the same moment;
2. while the worker sends, SIGKILLs it ``--kills`` times (2 by default): ``child`` kills the pool
   process that has a mail file open, i.e. is handing messages to the mail backend (the worker
   starts a new one; Celery redelivers its task), ``worker`` kills the worker and all its processes
   and starts a new worker (the tasks it held wait for the dispatcher and the sweep);
3. waits until no member's reminder is unclaimed or pending (with ``--wait-unknown``, also until
   the sweep has called the rows the kills left ``sending`` unknown, about 6 minutes), and then until
   both beats have run the dispatcher and the sweep once more (nothing new may be claimed or sent);
   stops the beats and the worker.

Emails go through Django's filebased backend to var/bench/mail/ (visible across processes; locmem is
not). The messages written there are what counts: duplicates are Message-IDs written more than once
(every attempt of an email carries its row's Message-ID) plus members with two different ones;
missed are members with no message written; the spread is the first to the last message's Date.
Rows the kills left ``sending`` are "in doubt" (the sweep calls them unknown after 5 minutes and the
outbox offers a Resend); each is reported with whether its message was in fact written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

from bench.common import (
    PYTHON,
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
    log = open(log_path, "a")  # noqa: SIM115 - handed to the child, closed with it
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


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of a process group (the worker and its children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        fields = _stat_fields(entry) if entry.isdigit() else None
        if fields and int(fields[2]) == pgid:  # the process group (field 5 of stat)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def sending_child(worker_pid: int, mail_dir) -> int | None:
    """A pool process of the worker that has a mail file open: it is handing messages over."""
    prefix = str(mail_dir)
    for entry in os.listdir("/proc"):
        fields = _stat_fields(entry) if entry.isdigit() else None
        if not fields or int(fields[1]) != worker_pid:  # the parent (field 4 of stat)
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}").startswith(prefix):
                    return int(entry)
        except OSError:
            continue
    return None


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def read_mail(mail_dir) -> list[dict]:
    """Every message the filebased backend wrote (several share a file): Message-ID, To, Date."""
    header = re.compile(rb"^(Message-ID|To|Date): ([^\n]*)$", re.MULTILINE)
    messages = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(SEPARATOR):
            head = chunk.split(b"\n\n", 1)[0]
            found = {name.decode(): value.decode().strip() for name, value in header.findall(head)}
            if found:
                messages.append(found)
    return messages


def statuses(org_id: int) -> dict[str, int]:
    from django.db.models import Count

    from bizops.models import OutboundEmail

    emails = OutboundEmail.objects.filter(organization_id=org_id, kind="checkin_due")
    return dict(emails.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def wait_drained(r, timeout: float, *, unacked: bool = True) -> bool:
    """True once the queue is empty (and nothing unacknowledged), three checks in a row."""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        waiting, held = queue_depth(r)
        calm = calm + 1 if waiting == 0 and (held == 0 or not unacked) else 0
        if calm >= 3:
            return True
        time.sleep(0.5)
    return False


# --- A beat process -------------------------------------------------------------------------------


def beat(args) -> None:
    """What ``celery beat`` triggers, run here at the same instants as the other beat process: the
    dispatcher and the sweep. Prints one JSON line per run; stops on SIGTERM."""
    setup()
    from django.db import connection

    from bizops.tasks import deliver_pending_emails
    from metrics.tasks import dispatch_reminders

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    tick = 0
    while not stopping:
        moment = args.start_at + tick
        while time.time() < moment and not stopping:
            time.sleep(min(0.05, moment - time.time()))
        if stopping:
            break
        for name, every, run in (
            ("dispatch", args.dispatch_every, lambda: dispatch_reminders()),
            ("sweep", args.sweep_every, lambda: deliver_pending_emails()),
        ):
            if tick % every == 0:
                started = time.perf_counter()
                result = run()
                print(
                    json.dumps(
                        {
                            "beat": args.beat,
                            "run": name,
                            "at": round(time.time() - args.start_at, 2),
                            "seconds": round(time.perf_counter() - started, 2),
                            "result": result,
                        }
                    ),
                    flush=True,
                )
        connection.close()
        tick += 1


def start_beat(number: int, start_at: float, args, log_path) -> subprocess.Popen:
    command = [
        PYTHON,
        "-m",
        "bench.reminders",
        "--beat",
        str(number),
        "--start-at",
        repr(start_at),
        "--dispatch-every",
        str(args.dispatch_every),
        "--sweep-every",
        str(args.sweep_every),
    ]
    log = open(log_path, "w")  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(command, cwd=ROOT, env=bench_env(), stdout=log, stderr=subprocess.STDOUT)


def beat_runs(paths) -> list[dict]:
    runs = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                runs.append(json.loads(line))
    return sorted(runs, key=lambda run: (run["at"], run["beat"]))


# --- The run --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000, help="members due now (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=3, help="worker processes (default 3)")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs while sending (default 2)")
    parser.add_argument(
        "--kill-mode",
        choices=["child", "worker"],
        default="child",
        help="kill the pool process that is sending (default), or the whole worker and start a new one",
    )
    parser.add_argument("--beats", type=int, default=2, help="beat processes racing (default 2)")
    parser.add_argument("--dispatch-every", type=int, default=120, help="seconds (default 120, as beat)")
    parser.add_argument("--sweep-every", type=int, default=60, help="seconds (default 60, as beat)")
    parser.add_argument(
        "--wait-unknown",
        action="store_true",
        help="keep the beats running until the sweep has called the rows left sending unknown (~6 min)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="give up after this many seconds (default 600)"
    )
    parser.add_argument(
        "--quiet", type=int, default=0, metavar="SECONDS", help="wait up to this long for an idle machine"
    )
    parser.add_argument("--beat", type=int, help=argparse.SUPPRESS)  # run as a beat process
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.beat is not None:
        beat(args)
        return

    setup()
    ensure_database()
    from django.conf import settings
    from django.db import connection

    from bizops.models import OutboundEmail

    org_id = ensure_members(args.members)
    make_due_now(org_id)
    mail_dir = var_dir() / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir(parents=True)
    r = redis_client()
    r.flushdb()  # Redis db 9 (bench.settings refuses db 0): stale tasks of an earlier run must not count
    others_before = OutboundEmail.objects.exclude(organization_id=org_id).count()
    log_path = var_dir() / "celery-worker.log"
    log_path.write_text("")
    wait_for_quiet(args.quiet)
    print(f"load average before: {load_average()}")
    worker = start_worker(args.concurrency, log_path)
    beats: list[subprocess.Popen] = []
    beat_logs = [var_dir() / f"beat-{n}.log" for n in range(args.beats)]
    kills: list[str] = []
    kill_at = [args.members * (k + 1) // (args.kills + 1) for k in range(args.kills)]
    worker_cpu = 0.0
    try:
        wait_ready(worker, log_path)
        connection.close()  # nothing of this process's set-up is held open during the run
        start_at = time.time() + 3  # the beats' Django set-up takes a second or two
        beats = [start_beat(n, start_at, args, beat_logs[n]) for n in range(args.beats)]
        while time.time() < start_at:
            time.sleep(0.05)
        started = time.perf_counter()
        settled_at = None
        calm = 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            counts = statuses(org_id)
            claimed = sum(counts.values())
            done = counts.get("sent", 0) + counts.get("failed", 0)
            if kill_at and done >= kill_at[0]:
                victim = sending_child(worker.pid, mail_dir)
                if victim is not None:
                    kill_at.pop(0)
                    elapsed = time.perf_counter() - started
                    if args.kill_mode == "child":
                        os.kill(victim, signal.SIGKILL)
                        kills.append(f"{elapsed:.1f} s: pool process {victim} (after {done:,} sent)")
                    else:
                        worker_cpu += group_cpu_seconds(worker.pid)
                        os.killpg(worker.pid, signal.SIGKILL)
                        worker.wait(timeout=10)
                        worker = start_worker(args.concurrency, log_path)
                        wait_ready(worker, log_path)
                        kills.append(
                            f"{elapsed:.1f} s: the worker (after {done:,} sent), a new one ready after "
                            f"{time.perf_counter() - started - elapsed:.1f} s"
                        )
                    continue
            settled = claimed >= args.members and counts.get("pending", 0) == 0
            calm = calm + 1 if settled and not kill_at else 0
            if calm >= 3:
                settled_at = time.perf_counter() - started
                break
            time.sleep(0.2)
        if settled_at is not None:
            if args.wait_unknown:  # until the sweep has called every row left ``sending`` unknown
                while statuses(org_id).get("sending") and time.monotonic() < deadline:
                    time.sleep(1)
            # One more dispatcher and sweep from every beat after that: nothing may move.
            wait_until = time.perf_counter() - started + max(args.dispatch_every, args.sweep_every) + 5
            while time.perf_counter() - started < wait_until:
                time.sleep(0.5)
        for process in beats:
            process.send_signal(signal.SIGTERM)
        for process in beats:
            process.wait(timeout=120)
        drained = wait_drained(r, 120, unacked=args.kill_mode == "child")
        worker_cpu += group_cpu_seconds(worker.pid)
        total_time = time.perf_counter() - started
    finally:
        for process in beats:
            if process.poll() is None:
                process.kill()
        stop_worker(worker)
    print(f"load average after: {load_average()}\n")

    from bizops.models import OutboundEmail

    counts = statuses(org_id)
    rows = OutboundEmail.objects.filter(organization_id=org_id, kind="checkin_due")
    members_domain = "@" + email_domain(REMINDERS_SLUG)
    messages = [m for m in read_mail(mail_dir) if m.get("To", "").endswith(members_domain)]
    written = Counter(m["Message-ID"] for m in messages)
    ids_per_member: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        ids_per_member[m["To"]].add(m["Message-ID"])
    duplicates = sum(n - 1 for n in written.values())
    duplicates += sum(len(ids) - 1 for ids in ids_per_member.values())
    missed = args.members - len(ids_per_member)
    dates = sorted(parsedate_to_datetime(m["Date"]) for m in messages)
    spread = (dates[-1] - dates[0]).total_seconds() if dates else None
    doubt = [
        (email.pk, email.message_id in written)
        for email in rows.filter(status__in=["sending", "unknown"]).order_by("pk")
    ]
    runs = beat_runs(beat_logs)
    others = OutboundEmail.objects.exclude(organization_id=org_id).count() - others_before

    def runs_of(name):
        return [run for run in runs if run["run"] == name]

    def describe(run):
        result = run["result"]
        if isinstance(result, dict):
            result = ", ".join(f"{k} {v:,}" for k, v in sorted(result.items())) or "nothing due"
        else:
            result = f"{result:,} emails handed out again"
        return f"beat {run['beat']} at {run['at']:.0f} s: {result} ({run['seconds']:.2f} s)"

    table = [
        ("members due now", f"{args.members:,}"),
        ("worker", f"celery prefork, {args.concurrency} processes, broker {settings.CELERY_BROKER_URL}"),
        (
            "beats",
            f"{args.beats}, each running the dispatcher every {args.dispatch_every} s and the sweep "
            f"every {args.sweep_every} s, at the same instants",
        ),
        ("kills (SIGKILL while sending)", "; ".join(kills) or "none"),
        *((f"dispatcher run {i + 1}", describe(run)) for i, run in enumerate(runs_of("dispatch"))),
        *((f"sweep run {i + 1}", describe(run)) for i, run in enumerate(runs_of("sweep"))),
        (
            "all reminders settled after",
            f"{settled_at:.1f} s (none unclaimed or pending)" if settled_at else "not within the timeout",
        ),
        ("first to last message written", f"{spread:.0f} s (their Date headers)" if dates else "none"),
        ("worker CPU", f"{worker_cpu:.1f} s (user + system, all its processes, whole run)"),
        ("rows", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))),
        (
            "messages written to these members",
            f"{len(messages):,}, {len(written):,} distinct Message-IDs, {len(ids_per_member):,} members",
        ),
        (
            "in doubt (sending/unknown)",
            ", ".join(f"#{pk} {'written' if was else 'NOT written'}" for pk, was in doubt) or "none",
        ),
        ("queue drained at the end", "yes" if drained else "NO"),
        ("whole run", f"{total_time:.0f} s"),
        ("duplicates", f"{duplicates}"),
        ("missed", f"{missed}"),
        (
            "other organizations' emails meanwhile",
            f"{others:,} (e.g. the bench org's daily overdue-step reminders)",
        ),
    ]
    width = max(len(k) for k, _ in table)
    for key, value in table:
        print(f"{key.ljust(width)}  {value}")
    print()
    marks = [
        (duplicates == 0, f"no duplicates (Message-IDs in the mail files): {duplicates}"),
        (missed == 0, f"none missed: {missed}"),
        (spread is not None and spread <= 120, f"the last sent within 2 minutes of the first: {spread} s"),
        (
            settled_at is not None and settled_at < 60,
            f"reminders for {args.members:,} members sent in under 60 s",
        ),
    ]
    for ok, text in marks:
        print(f"{'met   ' if ok else 'MISSED'}  {text}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
