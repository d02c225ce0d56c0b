"""A bounded load run over HTTP: gunicorn on loopback, 20 logged-in members, a mix of reads and writes.

    .venv/bin/python -m bench.load                      # 20 users, 30 s, the default mix
    .venv/bin/python -m bench.load --duration 60 --mix my_work=50,check_in=50

Starts gunicorn (bizops.wsgi with the project's ``gunicorn.conf.py``, as the Procfile does: one
single-threaded worker per core) on 127.0.0.1 with bench.settings, logs each user in through the
real login form (CSRF token and all), then runs the users as threads of this process, each on its own
connection (kept alive when the server allows it), with no think time (a closed loop: throughput is what the server gives), until ``--duration`` seconds or
``--max-requests`` requests. Then it reads the workers' peak RSS, stops gunicorn and prints
throughput, latency percentiles and errors, overall and per action. Only loopback is ever called.

The default mix: 70% reads, 25% check-ins (API POST with the CSRF header), 5% workflow actions (a step's
status changed through My work's HTMX form). Reads are what a member opens most: see ``MIX``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench.common import (
    BENCH_SLUG,
    PASSWORD,
    ROOT,
    bench_env,
    ensure_database,
    find_targets,
    load_average,
    peak_rss_mb,
    setup,
    var_dir,
    wait_for_quiet,
)
from bench.run import percentile

# action -> weight (percent). Reads 70: what a member opens most. Writes 30.
MIX = {
    "my_work": 20,  # My work: their own steps
    "key_result": 12,  # a key result they own, with its timeline
    "objective": 8,  # an objective's key results, KPIs and check-ins
    "kpi": 10,  # a KPI page: chart and history
    "plans_api": 8,  # the plans list (API)
    "plan_map": 8,  # a 180-node plan's strategy map
    "tree_api": 3,  # a 180-node plan's tree (API)
    "dashboard": 0.5,  # the organization dashboard (20 running plans, one of 5,520 nodes)
    "big_map": 0.5,  # the 5,520-node plan's strategy map
    "check_in": 25,  # POST a key-result check-in (API)
    "step_status": 5,  # POST a step's status (HTMX form on My work)
}
# Not in the default mix: ``--mix floor=100`` measures the framework floor over HTTP (a bare JSON
# view behind the app's middleware, logged in), the ceiling any mix can reach on this machine.
EXTRA_ACTIONS = {"floor"}
WRITES = {"check_in", "step_status"}


@dataclass
class User:
    email: str
    key_results: list[int]
    objectives: list[int]
    steps: list[int]
    yes_no: set[int] = field(default_factory=set)  # key results that take 0 or 1, not any number
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    slug: str
    big_plan: int
    mid_plans: list[int]
    kpis: list[int]


def choose_users(count: int) -> tuple[list[User], Plan]:
    """Members who own key results and have steps in running plans: they check in and move steps."""
    from bizops.models import Membership
    from metrics.models import KPI, KeyResult
    from planning.models import ActionStep, Objective
    from planning.models import Plan as PlanModel

    targets = find_targets(BENCH_SLUG)
    running = ["active", "approved"]
    users = []
    for m in (
        Membership.objects.filter(organization_id=targets.org_id, role="member")
        .exclude(user__email__startswith="heavy@")
        .select_related("user")
        .order_by("pk")
    ):
        krs = dict(KeyResult.objects.filter(owner=m, plan__status__in=running).values_list("pk", "kind")[:10])
        steps = list(
            ActionStep.objects.filter(assignee=m, plan__status__in=running, recurrence="none")
            .exclude(status="done")
            .values_list("pk", flat=True)[:10]
        )
        objectives = list(
            Objective.objects.filter(owner=m, plan__status__in=running).values_list("pk", flat=True)[:5]
        )
        if krs and steps and objectives:
            yes_no = {pk for pk, kind in krs.items() if kind == "yes_no"}
            users.append(User(m.user.email, list(krs), objectives, steps, yes_no))
        if len(users) == count:
            break
    mid = list(
        PlanModel.objects.filter(organization_id=targets.org_id, status__in=running)
        .exclude(pk=targets.big_plan_id)
        .values_list("pk", flat=True)
    )
    kpis = list(KPI.objects.filter(organization_id=targets.org_id).values_list("pk", flat=True))
    return users, Plan(targets.slug, targets.big_plan_id, mid, kpis)


# --- HTTP --------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive connection with a cookie jar (enough of a browser for this)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.http.request(method, path, body=body, headers=headers)
                response = self.http.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.http.close()
                self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.http.close()
        return response.status, data

    def close(self) -> None:
        self.http.close()


def log_in(port: int, user: User) -> None:
    """The real login form: GET it for the CSRF cookie and token, POST the email and password."""
    conn = Connection(port)
    status, page = conn.request("GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise SystemExit(f"login page answered {status} without a CSRF token")
    form = urlencode(
        {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
    )
    status, _ = conn.request(
        "POST", "/accounts/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 302 or "sessionid" not in conn.cookies:
        raise SystemExit(f"login of {user.email} answered {status}")
    user.cookies = conn.cookies
    conn.close()


def action_request(action: str, user: User, plan: Plan, rng: random.Random, counter: int) -> tuple:
    """(method, path, body, headers, expected status) for one action."""
    slug = plan.slug
    csrf = {"X-CSRFToken": user.cookies.get("csrftoken", "")}
    if action == "floor":
        return "GET", "/__bench__/floor/", None, {}, 200
    if action == "my_work":
        return "GET", f"/o/{slug}/my-work/", None, {}, 200
    if action == "key_result":
        return "GET", f"/o/{slug}/key-results/{rng.choice(user.key_results)}/", None, {}, 200
    if action == "objective":
        return "GET", f"/o/{slug}/objectives/{rng.choice(user.objectives)}/measures/", None, {}, 200
    if action == "kpi":
        return "GET", f"/o/{slug}/kpis/{rng.choice(plan.kpis)}/", None, {}, 200
    if action == "plans_api":
        return "GET", f"/api/v1/orgs/{slug}/plans/", None, {}, 200
    if action == "plan_map":
        return "GET", f"/o/{slug}/plans/{rng.choice(plan.mid_plans)}/", None, {}, 200
    if action == "tree_api":
        return "GET", f"/api/v1/orgs/{slug}/plans/{rng.choice(plan.mid_plans)}/tree/", None, {}, 200
    if action == "dashboard":
        return "GET", f"/o/{slug}/dashboard/", None, {}, 200
    if action == "big_map":
        return "GET", f"/o/{slug}/plans/{plan.big_plan}/", None, {}, 200
    if action == "check_in":
        key_result = rng.choice(user.key_results)
        body = {
            "target": "key_result",
            "key_result": key_result,
            "value": rng.choice("01") if key_result in user.yes_no else f"{rng.randrange(0, 500)}.5",
            "confidence": rng.choice(["on_track", "on_track", "at_risk"]),
            "note": "Load run.",
        }
        headers = {"Content-Type": "application/json", **csrf}
        return "POST", f"/api/v1/orgs/{slug}/check-ins/", json.dumps(body).encode(), headers, 201
    if action == "step_status":
        step = user.steps[counter % len(user.steps)]
        status = "doing" if (counter // len(user.steps)) % 2 == 0 else "todo"
        body = urlencode({"status": status, "csrfmiddlewaretoken": user.cookies.get("csrftoken", "")})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true", **csrf}
        return "POST", f"/o/{slug}/steps/{step}/status/", body.encode(), headers, 200
    raise ValueError(action)


@dataclass
class Sample:
    action: str
    ms: float
    ok: bool
    status: int | str


def run_user(
    port: int,
    user: User,
    plan: Plan,
    mix: dict[str, float],
    seed: int,
    deadline: float,
    budget: list[int],
    lock: threading.Lock,
    start: threading.Barrier,
    out: list[Sample],
) -> None:
    rng = random.Random(seed)
    actions, weights = list(mix), list(mix.values())
    conn = Connection(port, user.cookies)
    counters: Counter[str] = Counter()
    start.wait()
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        action = rng.choices(actions, weights)[0]
        method, path, body, headers, expected = action_request(action, user, plan, rng, counters[action])
        counters[action] += 1
        started = time.perf_counter()
        try:
            status, _ = conn.request(method, path, body, headers)
            ok = status == expected
        except (OSError, http.client.HTTPException) as exc:
            status, ok = type(exc).__name__, False
            conn.close()
            conn = Connection(port, user.cookies)
        out.append(Sample(action, (time.perf_counter() - started) * 1000, ok, status))
    conn.close()


# --- gunicorn ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int | None, threads: int | None, log_path) -> subprocess.Popen:
    """gunicorn as deployed (``gunicorn.conf.py``, read from ROOT); ``workers``/``threads`` override it."""
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "bizops.wsgi", "--bind", f"127.0.0.1:{port}"]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    log = open(log_path, "w")  # noqa: SIM115 - handed to the child, closed with it
    process = subprocess.Popen(
        command, cwd=ROOT, env=bench_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}: see {log_path}")
        try:
            status, _ = Connection(port).request("GET", "/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.25)
    stop(process)
    raise SystemExit(f"gunicorn did not answer within 60 s: see {log_path}")


def threads_configured() -> int:
    """Threads per worker as ``gunicorn.conf.py`` sets them (it reads the environment)."""
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry))
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (``utime`` + ``stime`` from ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn (the master passes SIGTERM to its workers); kill its process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- Report ------------------------------------------------------------------------------------------


def report(samples: list[Sample], elapsed: float) -> dict:
    def stats(rows: list[Sample]) -> dict:
        ms = [s.ms for s in rows] or [0.0]
        return {
            "requests": len(rows),
            "errors": sum(1 for s in rows if not s.ok),
            "p50": percentile(ms, 0.5),
            "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99),
            "max": max(ms),
        }

    by_action: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_action[s.action].append(s)
    return {
        "all": stats(samples),
        "reads": stats([s for s in samples if s.action not in WRITES]),
        "writes": stats([s for s in samples if s.action in WRITES]),
        "actions": {name: stats(rows) for name, rows in sorted(by_action.items())},
        "statuses": Counter(str(s.status) for s in samples if not s.ok),
        "elapsed": elapsed,
    }


def print_report(result: dict, mix: dict[str, float]) -> None:
    overall = result["all"]
    rate = overall["requests"] / result["elapsed"]
    total = sum(mix.values())
    header = ["action", "share", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    rows = [header]
    summary = [("ALL", overall), ("reads", result["reads"]), ("writes", result["writes"])]
    for name, s in [*summary, *result["actions"].items()]:
        share = f"{100 * mix[name] / total:.1f}%" if name in mix else ""
        rows.append(
            [
                name,
                share,
                str(s["requests"]),
                str(s["errors"]),
                f"{s['p50']:.1f}",
                f"{s['p95']:.1f}",
                f"{s['p99']:.1f}",
                f"{s['max']:.0f}",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(widths[i]) for i, c in enumerate(row) if i]
        print("| " + " | ".join(cells) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()
    print(f"throughput: {rate:.1f} req/s ({overall['requests']} requests in {result['elapsed']:.1f} s)")
    print(f"errors: {overall['errors']} {dict(result['statuses']) if result['statuses'] else ''}")
    print(
        f"{'met   ' if rate >= 150 else 'MISSED'}  mixed load >= 150 req/s: {rate:.1f} req/s\n"
        f"{'met   ' if overall['p95'] < 200 else 'MISSED'}  mixed load p95 < 200 ms: {overall['p95']:.1f} ms\n"
        f"{'met   ' if overall['errors'] == 0 else 'MISSED'}  mixed load without errors: {overall['errors']}"
    )


def parse_mix(text: str | None) -> dict[str, float]:
    if not text:
        return dict(MIX)
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in MIX and name.strip() not in EXTRA_ACTIONS:
            raise SystemExit(f"unknown action {name!r}; known: {', '.join([*MIX, *EXTRA_ACTIONS])}")
        mix[name.strip()] = float(weight)
    return mix


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (default 30)")
    parser.add_argument(
        "--max-requests", type=int, default=100_000, help="stop after this many (default 100,000)"
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--mix", help="action=weight,... (default: the module's MIX)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the users' choices")
    parser.add_argument(
        "--quiet", type=int, default=0, metavar="SECONDS", help="wait up to this long for an idle machine"
    )
    args = parser.parse_args(argv)
    if args.duration > 600 or args.users > 200:
        raise SystemExit("keep runs bounded: at most 600 s and 200 users")

    setup()
    ensure_database()
    mix = parse_mix(args.mix)
    users, plan = choose_users(args.users)
    if len(users) < args.users:
        raise SystemExit(f"only {len(users)} members fit; run `python -m bench.generate --reset`")
    from django.db import connections

    connections.close_all()  # this process only drives the load from here on
    port = free_port()
    log_path = var_dir() / "gunicorn.log"
    wait_for_quiet(args.quiet)
    print(f"load average before: {load_average()}")
    process = start_gunicorn(port, args.workers, args.threads, log_path)
    try:
        for user in users:
            log_in(port, user)
        lock = threading.Lock()
        budget = [args.max_requests]
        start = threading.Barrier(len(users) + 1)
        per_user: list[list[Sample]] = [[] for _ in users]
        deadline = time.monotonic() + args.duration
        threads = [
            threading.Thread(
                target=run_user,
                args=(
                    port,
                    user,
                    plan,
                    mix,
                    args.seed * 1000 + i,
                    deadline,
                    budget,
                    lock,
                    start,
                    per_user[i],
                ),
                daemon=True,
            )
            for i, user in enumerate(users)
        ]
        for thread in threads:
            thread.start()
        workers = worker_pids(process.pid)
        cpu_before = cpu_seconds(workers)
        start.wait()
        started = time.monotonic()
        for thread in threads:
            thread.join(timeout=args.duration + 60)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(workers) - cpu_before
        samples = [sample for rows in per_user for sample in rows]
        if worker_pids(process.pid) != workers:
            cpu = float("nan")  # a worker was replaced: its CPU is lost
        peaks = {pid: peak_rss_mb(pid) for pid in workers}
    finally:
        stop(process)
    print(f"load average after: {load_average()}\n")
    print(
        f"gunicorn {len(workers)} workers x {args.threads or threads_configured()} threads on 127.0.0.1:{port}; "
        f"{len(users)} users, "
        f"closed loop, no think time; {args.duration:.0f} s or {args.max_requests} requests\n"
    )
    result = report(samples, elapsed)
    print_report(result, mix)
    print("worker peak RSS (VmHWM): " + ", ".join(f"{mb:.0f} MB" for mb in peaks.values()))
    # CPU per request moves far less than throughput when others share the machine: compare both.
    print(f"worker CPU per request: {1000 * cpu / max(1, len(samples)):.2f} ms")


if __name__ == "__main__":
    main()
