"""Server time, queries and memory of the main pages and endpoints, against two floors.

    .venv/bin/python -m bench.run                 # every scenario, N=50 timed requests each
    .venv/bin/python -m bench.run --n 200 --only map tree
    .venv/bin/python -m bench.run --profile map   # cProfile of one scenario: the hot spots

Each scenario runs in its own child process (so its peak RSS is its own): Django on bench.settings,
a logged-in ``django.test.Client`` (in-process: no HTTP, no server; less the reference cycle it
adds to each response, see ``_client``), ``--warmup`` requests, then
``--n`` timed ones. Per scenario:

- p50/p95: wall time of ``client.request`` (the whole Django stack: middleware, view, template);
- queries: one request under ``CaptureQueriesContext`` on the large organization, and the same on the
  toy one (``bench-small``): equal numbers mean the count does not grow with the data;
- peak RSS: the child's ``ru_maxrss`` after its timed requests (startup included);
- x floor: p50 over the framework floor's p50 (a bare view returning a small JSON object, through the
  same middleware, measured in its own child in the same run);
- data floor: the same rows fetched with one raw SQL query per table and ``json.dumps``-ed, timed in
  the same child; x data = p50 over the data floor's p50.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.common import (
    BENCH_SLUG,
    PYTHON,
    ROOT,
    SMALL_SLUG,
    XL_SLUG,
    Targets,
    bench_env,
    ensure_database,
    find_targets,
    load_average,
    rss_mb,
    setup,
    wait_for_quiet,
)
from bizops.collector import prepare_worker


@dataclass
class Scenario:
    name: str
    label: str
    user: str  # "admin", "heavy", "member" (a busy member, ``_busy_member``) or "anonymous"
    # targets, iteration -> (method, path, data, content type, expected status)
    request: Callable[[Targets, int], tuple[str, str, Any, str | None, int]]
    data_floor: Callable[[Targets], str] | None = None
    slug: str = BENCH_SLUG  # the organization it reads (XL_SLUG: the 22,040-node plan's)


# --- The data floors: one raw query per table, then json.dumps ---------------------------------------


def _fetch(sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _people(org_id: int) -> dict[str, list]:
    return {
        "memberships": _fetch(
            "SELECT id, user_id, role FROM bizops_membership WHERE organization_id = %s", [org_id]
        ),
        "users": _fetch(
            "SELECT id, display_name, email FROM bizops_user WHERE id IN "
            "(SELECT user_id FROM bizops_membership WHERE organization_id = %s)",
            [org_id],
        ),
        "teams": _fetch("SELECT id, name FROM bizops_team WHERE organization_id = %s", [org_id]),
    }


def _trees(plan_ids_sql: str, params: list, org_id: int) -> dict[str, list]:
    floor_day = date.today().replace(day=1) - timedelta(days=62)
    data = {"plans": _fetch(f"SELECT * FROM planning_plan WHERE id IN ({plan_ids_sql})", params)}
    for name, table in (
        ("milestones", "planning_milestone"),
        ("objectives", "planning_objective"),
        ("steps", "planning_actionstep"),
        ("key_results", "metrics_keyresult"),
    ):
        data[name] = _fetch(
            f"SELECT * FROM {table} WHERE plan_id IN ({plan_ids_sql}) ORDER BY position, id", params
        )
    data["completions"] = _fetch(
        "SELECT step_id, period_start FROM planning_stepcompletion WHERE period_start >= %s AND step_id IN "
        f"(SELECT id FROM planning_actionstep WHERE recurrence <> 'none' AND plan_id IN ({plan_ids_sql}))",
        [floor_day, *params],
    )
    return {**data, **_people(org_id)}


def floor_tree(t: Targets) -> str:
    return json.dumps(_trees("%s", [t.big_plan_id], t.org_id), default=str)


def floor_my_work(t: Targets) -> str:
    steps_sql = (
        "SELECT {cols} FROM planning_actionstep WHERE assignee_id = %s AND plan_id IN "
        "(SELECT id FROM planning_plan WHERE organization_id = %s AND status <> 'closed') AND "
        "(status <> 'done' OR recurrence <> 'none' OR completed_at >= now() - interval '7 days')"
    )
    params = [t.heavy_membership_id, t.org_id]
    data = {
        "steps": _fetch(steps_sql.format(cols="*") + " ORDER BY due_date, position", params),
        "plans": _fetch(
            f"SELECT * FROM planning_plan WHERE id IN ({steps_sql.format(cols='plan_id')})", params
        ),
        "objectives": _fetch(
            f"SELECT * FROM planning_objective WHERE id IN ({steps_sql.format(cols='objective_id')})", params
        ),
        "completions": _fetch(
            "SELECT step_id, period_start FROM planning_stepcompletion WHERE period_start >= %s AND step_id IN "
            f"({steps_sql.format(cols='id')} AND recurrence <> 'none')",
            [date.today() - timedelta(days=31), *params],
        ),
    }
    return json.dumps(data, default=str)


RUNNING_PLANS = (
    "SELECT id FROM planning_plan WHERE organization_id = %s AND status IN "
    "('approved', 'active', 'amending', 'in_review') ORDER BY period_start DESC, title LIMIT 20"
)


def floor_dashboard(t: Targets) -> str:
    today = date.today()
    org = [t.org_id]
    data = _trees(RUNNING_PLANS, org, t.org_id)
    objectives = f"SELECT id FROM planning_objective WHERE plan_id IN ({RUNNING_PLANS})"
    data["confidence"] = _fetch(
        "SELECT objective_id, confidence FROM metrics_checkin WHERE created_at >= now() - interval '45 days' "
        f"AND objective_id IN ({objectives}) ORDER BY objective_id, created_at DESC",
        org,
    )
    data["recent"] = _fetch(
        "SELECT DISTINCT c.objective_id, k.objective_id AS kr_objective FROM metrics_checkin c "
        "LEFT JOIN metrics_keyresult k ON k.id = c.key_result_id WHERE c.created_at >= now() - interval '7 days' "
        f"AND (c.objective_id IN ({objectives}) OR k.objective_id IN ({objectives}))",
        org + org,
    )
    overdue = (
        "FROM planning_actionstep WHERE organization_id = %s AND due_date < %s AND recurrence = 'none' "
        "AND status <> 'done' AND plan_id IN (SELECT id FROM planning_plan WHERE status IN "
        "('approved', 'active', 'amending', 'in_review'))"
    )
    data["overdue"] = _fetch(f"SELECT * {overdue} ORDER BY due_date LIMIT 15", [t.org_id, today])
    data["overdue_count"] = _fetch(f"SELECT count(*) AS n {overdue}", [t.org_id, today])
    kpis = "SELECT id FROM metrics_kpi WHERE organization_id = %s ORDER BY name LIMIT 24"
    data["kpis"] = _fetch(f"SELECT * FROM metrics_kpi WHERE id IN ({kpis}) ORDER BY name", org)
    data["measurements"] = _fetch(
        f"SELECT * FROM metrics_measurement WHERE is_current AND kpi_id IN ({kpis}) AND period_start > %s",
        [t.org_id, today - timedelta(weeks=12)],
    )
    data["kpi_targets"] = _fetch(
        f"SELECT * FROM metrics_kpitarget WHERE kpi_id IN ({kpis}) AND period_start > %s",
        [t.org_id, today - timedelta(weeks=12)],
    )
    return json.dumps(data, default=str)


def floor_kpi(t: Targets) -> str:
    data = {
        "kpi": _fetch("SELECT * FROM metrics_kpi WHERE id = %s", [t.kpi_id]),
        "measurements": _fetch(
            "SELECT * FROM metrics_measurement WHERE kpi_id = %s ORDER BY period_start DESC, recorded_at DESC",
            [t.kpi_id],
        ),
        "targets": _fetch("SELECT * FROM metrics_kpitarget WHERE kpi_id = %s", [t.kpi_id]),
        "users": _fetch(
            "SELECT id, display_name FROM bizops_user WHERE id IN "
            "(SELECT recorded_by_id FROM metrics_measurement WHERE kpi_id = %s)",
            [t.kpi_id],
        ),
    }
    return json.dumps(data, default=str)


_floor_writes = itertools.count()


def floor_check_in(t: Targets) -> str:
    """The write itself: lock the key result, insert the check-in, move the key result's value."""
    from django.db import transaction

    kr_id = t.key_result_ids[next(_floor_writes) % len(t.key_result_ids)]
    with transaction.atomic():
        kr = _fetch("SELECT * FROM metrics_keyresult WHERE id = %s FOR UPDATE", [kr_id])[0]
        row = _fetch(
            "INSERT INTO metrics_checkin (organization_id, plan_id, target, key_result_id, value, "
            "previous_value, step_status, confidence, note, author_id, created_at) VALUES "
            "(%s, %s, 'key_result', %s, %s, %s, '', 'on_track', 'bench floor', %s, now()) RETURNING *",
            [t.org_id, kr["plan_id"], kr_id, 42, kr["current"], t.heavy_user_id],
        )[0]
        _fetch(
            "UPDATE metrics_keyresult SET current = %s, version = version + 1 WHERE id = %s RETURNING id",
            [42, kr_id],
        )
    return json.dumps(row, default=str)


def floor_plans(t: Targets) -> str:
    org = [t.org_id]
    data = {
        "plans": _fetch(
            "SELECT * FROM planning_plan WHERE organization_id = %s ORDER BY period_start DESC, title LIMIT 50",
            org,
        )
    }
    for name in ("milestone", "objective", "actionstep"):
        data[name] = _fetch(
            f"SELECT plan_id, count(*) FROM planning_{name} WHERE organization_id = %s GROUP BY plan_id", org
        )
    data["owners"] = _fetch(
        "SELECT m.id, u.display_name FROM bizops_membership m JOIN bizops_user u ON u.id = m.user_id "
        "WHERE m.id IN (SELECT owner_id FROM planning_plan WHERE organization_id = %s)",
        org,
    )
    return json.dumps(data, default=str)


# --- The scenarios -----------------------------------------------------------------------------------


def _get(path: str) -> Callable[[Targets, int], tuple]:
    return lambda t, i: ("GET", path.format(t=t), None, None, 200)


def _check_in_api(t: Targets, i: int) -> tuple:
    body = {
        "target": "key_result",
        "key_result": t.key_result_ids[i % len(t.key_result_ids)],
        "value": f"{100 + i % 50}.5",
        "confidence": "on_track",
        "note": "Bench check-in.",
    }
    return ("POST", f"/api/v1/orgs/{t.slug}/check-ins/", json.dumps(body), "application/json", 201)


def _check_in_page(t: Targets, i: int) -> tuple:
    form = {"form": "check_in", "value": f"{100 + i % 50}.5", "confidence": "at_risk", "note": "Bench."}
    kr = t.key_result_ids[i % len(t.key_result_ids)]
    return ("POST", f"/o/{t.slug}/key-results/{kr}/", form, None, 302)


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("floor", "framework floor (bare JSON view)", "anonymous", _get("/__bench__/floor/")),
        Scenario("floor_session", "framework floor, logged in", "admin", _get("/__bench__/floor/")),
        Scenario(
            "map",
            "strategy map, 5,520-node plan",
            "admin",
            _get("/o/{t.slug}/plans/{t.big_plan_id}/"),
            floor_tree,
        ),
        Scenario(
            "tree",
            "tree API, 5,520-node plan",
            "admin",
            _get("/api/v1/orgs/{t.slug}/plans/{t.big_plan_id}/tree/"),
            floor_tree,
        ),
        Scenario("my_work", "My work (500 steps)", "heavy", _get("/o/{t.slug}/my-work/"), floor_my_work),
        Scenario(
            "dashboard", "organization dashboard", "admin", _get("/o/{t.slug}/dashboard/"), floor_dashboard
        ),
        Scenario(
            "kpi", "KPI page (104 weekly values)", "admin", _get("/o/{t.slug}/kpis/{t.kpi_id}/"), floor_kpi
        ),
        Scenario("check_in", "check-in on a key result (API POST)", "heavy", _check_in_api, floor_check_in),
        Scenario(
            "check_in_page", "check-in on a key result (page POST)", "heavy", _check_in_page, floor_check_in
        ),
        Scenario("plans", "plans list API", "admin", _get("/api/v1/orgs/{t.slug}/plans/"), floor_plans),
        Scenario("check_in_form", "check-in page (a member's week)", "member", _get("/o/{t.slug}/check-in/")),
        Scenario(
            "review",
            "review page (5,520-node plan, vs baseline)",
            "admin",
            _get("/o/{t.slug}/plans/{t.big_plan_id}/review/"),
        ),
        # Search over the bench organization: a typical query, a word in every step's title (9,350
        # matches to rank: the worst case), and the API.
        Scenario(
            "search", "search page, 'pricing review'", "admin", _get("/o/{t.slug}/search/?q=pricing+review")
        ),
        Scenario(
            "search_broad",
            "search page, 'step' (in every step's title)",
            "admin",
            _get("/o/{t.slug}/search/?q=step"),
        ),
        Scenario(
            "search_api", "search API, 'growth'", "admin", _get("/api/v1/orgs/{t.slug}/search/?q=growth")
        ),
        # The same two reads of a plan four times the size (its own organization): how they grow.
        Scenario(
            "map_xl",
            "strategy map, 22,040-node plan",
            "admin",
            _get("/o/{t.slug}/plans/{t.big_plan_id}/"),
            floor_tree,
            slug=XL_SLUG,
        ),
        Scenario(
            "tree_xl",
            "tree API, 22,040-node plan",
            "admin",
            _get("/api/v1/orgs/{t.slug}/plans/{t.big_plan_id}/tree/"),
            floor_tree,
            slug=XL_SLUG,
        ),
        Scenario(
            "visual",
            "visual map, 5,520-node plan (opened at its milestones)",
            "admin",
            _get("/o/{t.slug}/plans/{t.big_plan_id}/visual/"),
        ),
        # Every running plan as one tree: the company plan (5,520 nodes) and the 25 plans serving it.
        Scenario("alignment", "alignment view (26 running plans)", "admin", _get("/o/{t.slug}/alignment/")),
        # Beyond the targets' list: pages the load mix opens often, and the big map's lazy fragment.
        Scenario(
            "objective_steps",
            "extra: big map, one objective's steps (lazy fragment)",
            "admin",
            _get("/o/{t.slug}/plans/{t.big_plan_id}/objectives/{t.objective_id}/steps/"),
        ),
        Scenario(
            "key_result_page",
            "extra: key result page",
            "heavy",
            _get("/o/{t.slug}/key-results/{t.key_result_ids[0]}/"),
        ),
        Scenario(
            "objective_page",
            "extra: objective measures page",
            "heavy",
            _get("/o/{t.slug}/objectives/{t.objective_id}/measures/"),
        ),
        Scenario(
            "mid_map",
            "extra: strategy map, 180-node plan",
            "admin",
            _get("/o/{t.slug}/plans/{t.mid_plan_id}/"),
        ),
    ]
}
EXTRA = {"objective_steps", "key_result_page", "objective_page", "mid_map"}
GROWTH = {"map_xl", "tree_xl"}
# Pages with a p95 budget (ms) of their own instead of "<= 12 queries": the review page reads the whole
# plan, its baseline, the review rounds, comments and history; search asks each kind's source (people,
# plans, milestones...) once; the alignment view reads every running plan's tree and the objectives
# serving them. A fixed number of queries all the same: checked on the toy organization.
OWN_BUDGET = {
    "review": 300,
    "search": 100,
    "search_broad": 100,
    "search_api": 100,
    "alignment": 300,
    "visual": 300,
}
# Pages allowed more than 12 queries (still fixed): the dashboard reads the plans' progress history
# too (one query: each plan's days and each objective's start of the forecast window). A plan that
# other plans serve reads the objectives serving it (alignment): the organization's links, the serving
# plans, their objectives, steps counted and key results, five queries for one level of plans below.
QUERY_BUDGET = {"dashboard": 18, "map": 13}


def query_budget(name: str) -> int:
    return QUERY_BUDGET.get(name, 12)


# --- The child: measure one scenario -----------------------------------------------------------------


def _client(targets: Targets, who: str):
    from django.test import Client

    from bizops.models import User

    class WorkerLikeClient(Client):
        """The test client without the one reference cycle it adds to every response
        (``response.json``, a ``partial`` holding the response): with it, each response and its data
        waited for the collector's next full pass, which no gunicorn worker does."""

        def request(self, **request):
            response = super().request(**request)
            del response.json
            return response

    client = WorkerLikeClient()
    if who != "anonymous":
        if who == "member":
            user_id = _busy_member(targets)
        else:
            user_id = targets.admin_user_id if who == "admin" else targets.heavy_user_id
        client.force_login(User.objects.get(pk=user_id))
    return client


def _busy_member(targets: Targets) -> int:
    """The user id of the member (role member, not heavy@) who owns the most key results in the
    running plans: a realistic, busy week for the check-in page (heavy@'s 500 steps are not one)."""
    from django.db.models import Count

    from metrics.models import KeyResult
    from planning.models import RUNNING_STATUSES

    busiest = (
        KeyResult.objects.filter(
            organization_id=targets.org_id, plan__status__in=list(RUNNING_STATUSES), owner__role="member"
        )
        .exclude(owner_id=targets.heavy_membership_id)
        .values("owner__user_id")
        .annotate(owned=Count("pk"))
        .order_by("-owned", "owner__user_id")
        .first()
    )
    return busiest["owner__user_id"] if busiest else targets.heavy_user_id


def _send(client, spec: tuple) -> int:
    method, path, data, content_type, _ = spec
    if method == "GET":
        return client.get(path).status_code
    if content_type:
        return client.post(path, data=data, content_type=content_type).status_code
    return client.post(path, data=data).status_code


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# Transaction control, counted apart from the queries proper (they are round trips all the same).
TX_STATEMENTS = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def measure(name: str, n: int, warmup: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scenario = SCENARIOS[name]
    large, small = find_targets(scenario.slug), find_targets(SMALL_SLUG)
    client = _client(large, scenario.user)
    baseline = rss_mb()
    iteration = 0
    for _ in range(warmup):
        spec = scenario.request(large, iteration)
        status = _send(client, spec)
        if status != spec[4]:
            raise SystemExit(f"{name}: {spec[0]} {spec[1]} answered {status}, expected {spec[4]}")
        iteration += 1
    # As a gunicorn worker does once Django is loaded (gunicorn.conf.py, ``post_worker_init``).
    prepare_worker()
    times = []
    for _ in range(n):
        spec = scenario.request(large, iteration)
        started = time.perf_counter()
        status = _send(client, spec)
        times.append((time.perf_counter() - started) * 1000)
        if status != spec[4]:
            raise SystemExit(f"{name}: {spec[0]} {spec[1]} answered {status}, expected {spec[4]}")
        iteration += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with CaptureQueriesContext(connection) as large_queries:
        _send(client, scenario.request(large, iteration))
    # Read it now: the next request outside a capture clears the connection's query log.
    large_captured = list(large_queries.captured_queries)
    small_client = _client(small, scenario.user)
    _send(small_client, scenario.request(small, 0))  # its first request sets up the session
    with CaptureQueriesContext(connection) as small_queries:
        _send(small_client, scenario.request(small, 1))

    def split(captured) -> tuple[int, int]:
        tx = sum(1 for q in captured if q["sql"].split(" ", 1)[0].upper() in TX_STATEMENTS)
        return len(captured) - tx, tx

    (queries, tx), (queries_small, tx_small) = (
        split(large_captured),
        split(small_queries.captured_queries),
    )
    result = {
        "name": name,
        "path": scenario.request(large, 0)[1],
        "method": scenario.request(large, 0)[0],
        "n": n,
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
        "queries": queries,
        "tx": tx,
        "queries_small": queries_small,
        "tx_small": tx_small,
        "query_sql": [q["sql"][:160] for q in large_captured],
        "baseline_rss": baseline,
        "peak_rss": peak,
        "nodes": large.big_plan_nodes,
    }
    if scenario.data_floor is not None:
        for _ in range(warmup):
            scenario.data_floor(large)
        floor_times = []
        for _ in range(n):
            started = time.perf_counter()
            payload = scenario.data_floor(large)
            floor_times.append((time.perf_counter() - started) * 1000)
        result["data_floor_p50"] = statistics.median(floor_times)
        result["data_floor_bytes"] = len(payload)
    return result


def profile(name: str, n: int, warmup: int, limit: int) -> None:
    import cProfile
    import pstats

    scenario = SCENARIOS[name]
    large = find_targets(BENCH_SLUG)
    client = _client(large, scenario.user)
    for i in range(warmup):
        _send(client, scenario.request(large, i))
    prepare_worker()  # as in measure()
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        _send(client, scenario.request(large, warmup + i))
    profiler.disable()
    stats = (
        pstats.Stats(profiler).strip_dirs() if os.environ.get("BENCH_STRIP_DIRS") else pstats.Stats(profiler)
    )
    print(f"cProfile of {n} requests: {scenario.label}\n")
    for order in ("tottime", "cumulative"):
        print(f"--- top {limit} by {order}")
        stats.sort_stats(order).print_stats(limit)


# --- The parent: run the children, print the table ---------------------------------------------------


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        total = int(meminfo.readline().split()[1]) // 1024
    import django

    return (
        f"{os.cpu_count()} CPUs ({model}), {total:,} MB RAM, Python {platform.python_version()}, "
        f"Django {django.__version__}"
    )


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [PYTHON, "-m", "bench.run", "--child", name, "--n", str(args.n), "--warmup", str(args.warmup)]
    done = subprocess.run(command, cwd=ROOT, env=bench_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"scenario {name} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, Any]], floor_p50: float) -> str:
    header = [
        "scenario",
        "p50 ms",
        "p95 ms",
        "queries",
        "+tx",
        "small org",
        "RSS MB start/peak",
        "x framework floor",
        "data floor ms",
        "x data floor",
    ]
    rows = [header]
    for r in results:
        data_floor = r.get("data_floor_p50")
        rows.append(
            [
                SCENARIOS[r["name"]].label,
                f"{r['p50']:.2f}",
                f"{r['p95']:.2f}",
                str(r["queries"]),
                f"+{r['tx']}",
                f"{r['queries_small']}+{r['tx_small']}",
                f"{r['baseline_rss']:.0f}/{r['peak_rss']:.0f}",
                f"{r['p50'] / floor_p50:.1f}" if floor_p50 else "-",
                f"{data_floor:.2f}" if data_floor else "-",
                f"{r['p50'] / data_floor:.1f}" if data_floor else "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(widths[i]) for i, cell in enumerate(row) if i]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def verdicts(by_name: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    checks = []
    # The XL reads are there for their growth against the large ones (below), not for the query
    # budgets (they read what the large ones do).
    pages = [r for name, r in by_name.items() if not name.startswith("floor") and name not in GROWTH]
    extra = [r for r in pages if r["name"] in EXTRA and r["queries"] != r["queries_small"]]
    own = [r for r in pages if r["name"] in OWN_BUDGET]
    pages = [r for r in pages if r["name"] not in EXTRA | set(OWN_BUDGET)]
    if pages:
        worst = max(pages, key=lambda r: r["queries"])
        fixed = all((r["queries"], r["tx"]) == (r["queries_small"], r["tx_small"]) for r in pages)
        over = [r for r in pages if r["queries"] > query_budget(r["name"])]
        checks.append(
            (
                "every page/endpoint a fixed number of queries (<= 12; the company map 13, the dashboard 18)",
                f"max {worst['queries']} + {worst['tx']} BEGIN/COMMIT ({SCENARIOS[worst['name']].label}); "
                f"over budget: {', '.join(r['name'] for r in over) or 'none'}; "
                + (
                    "the same on the toy organization"
                    if fixed
                    else "different on the toy organization: "
                    + ", ".join(
                        f"{r['name']} ({r['queries']} vs {r['queries_small']})"
                        for r in pages
                        if (r["queries"], r["tx"]) != (r["queries_small"], r["tx_small"])
                    )
                ),
                not over and fixed,
            )
        )
    if extra:
        names = ", ".join(f"{r['name']} ({r['queries']} vs {r['queries_small']})" for r in extra)
        checks.append(("(extra pages) a fixed number of queries", f"grows with the data: {names}", False))
    if "tree" in by_name and by_name["tree"].get("data_floor_p50"):
        ratio = by_name["tree"]["p50"] / by_name["tree"]["data_floor_p50"]
        checks.append(("tree API <= 2x the data floor", f"{ratio:.1f}x", ratio <= 2))
    if "map" in by_name:
        checks.append(
            ("strategy map p95 < 300 ms", f"{by_name['map']['p95']:.0f} ms", by_name["map"]["p95"] < 300)
        )
        checks.append(
            (
                "a process serving the 5,000-node map < 150 MB",
                f"{by_name['map']['peak_rss']:.0f} MB peak RSS",
                by_name["map"]["peak_rss"] < 150,
            )
        )
    for name, label in (("tree", "tree API"), ("map", "strategy map")):
        if name in by_name and f"{name}_xl" in by_name:
            small, large = by_name[name], by_name[f"{name}_xl"]
            nodes = large["nodes"] / small["nodes"]
            ratio = large["p50"] / small["p50"]
            checks.append(
                (
                    f"{label} grows no faster than the plan ({small['nodes']:,} -> {large['nodes']:,} nodes, "
                    f"{nodes:.2f}x)",
                    f"p50 {small['p50']:.0f} -> {large['p50']:.0f} ms: {ratio:.2f}x",
                    ratio <= nodes,
                )
            )
    if "check_in" in by_name:
        p95 = by_name["check_in"]["p95"]
        checks.append(("creating a check-in p95 < 50 ms", f"{p95:.1f} ms (API)", p95 < 50))
    for r in own:
        fixed = (r["queries"], r["tx"]) == (r["queries_small"], r["tx_small"])
        checks.append(
            (
                f"{SCENARIOS[r['name']].label}: p95 < {OWN_BUDGET[r['name']]} ms, a fixed number of queries",
                f"{r['p95']:.0f} ms, {r['queries']} queries ({r['queries_small']} on the toy organization)",
                r["p95"] < OWN_BUDGET[r["name"]] and fixed,
            )
        )
    return checks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50, help="timed requests per scenario (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first (default 5)")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), help="these scenarios only")
    parser.add_argument("--profile", choices=list(SCENARIOS), help="cProfile one scenario instead")
    parser.add_argument("--limit", type=int, default=35, help="rows of the profile (default 35)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be idle (1-minute load average < 0.5)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        setup()
        print(json.dumps(measure(args.child, args.n, args.warmup)))
        return
    if args.profile:
        setup()
        profile(args.profile, args.n, args.warmup, args.limit)
        return

    setup()
    ensure_database()  # a migration added since the data was generated is applied first
    large = find_targets(BENCH_SLUG)
    wait_for_quiet(args.quiet)
    print(f"machine: {machine()}")
    print(f"load average before: {load_average()}")
    print(
        f"data: organization {large.slug!r} generated for {large.anchor}; the map's plan has "
        f"{large.big_plan_nodes:,} nodes; the KPI {large.kpi_measurements} measurements"
    )
    print(f"each scenario: {args.warmup} warm-up + {args.n} timed requests in its own process\n")
    names = args.only or list(SCENARIOS)
    if "floor" not in names:
        names = ["floor", *names]
    results = []
    for name in names:
        started = time.perf_counter()
        results.append(run_child(name, args))
        print(f"  {name}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(f"load average after: {load_average()}\n")
    by_name = {r["name"]: r for r in results}
    floor_p50 = by_name["floor"]["p50"]
    print(table(results, floor_p50))
    print()
    for target, measured, ok in verdicts(by_name):
        print(f"{'met   ' if ok else 'MISSED'}  {target}: {measured}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine(), "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
