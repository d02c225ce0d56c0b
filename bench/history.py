"""Progress history at the bench organization's size: the daily snapshot task, the back-fill of the
5,520-node plan on approval, and the pages that read the history.

Everything runs inside a transaction that is rolled back, so the bench data stays as generated:

1. the back-fill of the 5,520-node plan (``progress_backfill``): every day of its period so far,
   rebuilt from its check-ins and completions;
2. the daily snapshot (``metrics.tasks.snapshot_progress``, run in-process) for every running plan of
   the database, whose days before are recorded (as generated, and the big plan's as just rebuilt),
   so it records one day; then the same task again (the other 23 runs of a day: nothing to record);
3. the progress page of the 5,520-node plan and the organization dashboard, with that history,
   ``--n`` times each after ``--warmup`` untimed requests.

    .venv/bin/python -m bench.history            # ~1 min
    .venv/bin/python -m bench.history --n 100
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from bench.common import BENCH_SLUG, find_targets, load_average, setup
from bizops.collector import prepare_worker


class _Rollback(Exception):
    pass


def _timed(client, url: str, n: int, warmup: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], len(queries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    setup()
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from bizops.models import Membership
    from metrics.models import ProgressPoint
    from metrics.services.history import progress_backfill, recorded_day
    from metrics.tasks import snapshot_progress
    from planning.models import Plan, running_q

    targets = find_targets(BENCH_SLUG)
    big = Plan.objects.select_related("organization").get(pk=targets.big_plan_id)
    admin = Membership.objects.get(organization_id=targets.org_id, user_id=targets.admin_user_id)
    print(f"load average before: {load_average()}")
    lines = []
    try:
        with transaction.atomic():
            day = recorded_day(big)  # the day the task records now
            # The day the task will record, for every plan; and the whole of the big plan's history.
            ProgressPoint.objects.filter(day__gte=day).delete()
            ProgressPoint.objects.filter(plan=big).delete()
            until = day - timedelta(days=1)
            days = (until - big.period_start).days + 1
            started = time.perf_counter()
            rows = progress_backfill(plan=big, until=until)
            took = time.perf_counter() - started
            lines.append(
                f"back-fill of the 5,520-node plan: {days} days, {rows:,} points, {took:.1f} s "
                f"({took / max(days, 1) * 1000:.0f} ms a day)"
            )
            running = Plan.objects.filter(running_q("")).count()
            now = timezone.now().isoformat()
            before = ProgressPoint.objects.count()
            started = time.perf_counter()
            snapshot_progress.apply(kwargs={"now": now})
            took = time.perf_counter() - started
            recorded = ProgressPoint.objects.count() - before
            lines.append(
                f"daily snapshot (all {running} running plans of the database): {recorded:,} points, {took:.2f} s"
            )
            started = time.perf_counter()
            snapshot_progress.apply(kwargs={"now": now})
            lines.append(
                f"the same task again that day (nothing left to record): "
                f"{(time.perf_counter() - started) * 1000:.0f} ms, "
                f"{ProgressPoint.objects.count() - before - recorded} points"
            )
            client = Client()
            client.force_login(admin.user)
            prepare_worker()  # as a gunicorn worker does (gunicorn.conf.py)
            for label, url in (
                ("progress page of the 5,520-node plan", f"/o/{targets.slug}/plans/{big.pk}/progress/"),
                ("organization dashboard, with history", f"/o/{targets.slug}/dashboard/"),
            ):
                p50, p95, queries = _timed(client, url, args.n, args.warmup)
                lines.append(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {queries} queries, n={args.n}")
            raise _Rollback
    except _Rollback:
        pass
    for line in lines:
        print(line)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
