"""The review page of the 5,520-node plan at its heaviest: an amendment resubmitted after an approver
asked for changes, opened by that approver, who may now decide.

The page then diffs the plan against its baseline, against the round in which changes were asked
for and against this round's submission (a KPI moved since), and names the content it shows (the
digest an approval sends back). ``bench.run``'s "review" scenario is the running plan's page (one
diff); this one sets the review rounds up inside a transaction, times the page, and rolls back, so
the bench data stays as generated.

    .venv/bin/python -m bench.review_rounds            # N=50 after 5 warm-ups
    .venv/bin/python -m bench.review_rounds --n 100
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import BENCH_SLUG, find_targets, load_average, setup
from bizops.collector import prepare_worker


class _Rollback(Exception):
    pass


def _rounds(plan, approver, submitter) -> None:
    """Round 1 was submitted with the baseline's content and sent back by ``approver``; round 2, the
    fix, is in review; after it was submitted an objective was renamed (as a KPI's line moving)."""
    from django.utils import timezone

    from planning.baselines import digest
    from planning.models import Approval, Baseline, PlanApprover, PlanStatus, Submission

    baseline = Baseline.objects.get(plan=plan, number=1)
    now = timezone.now()
    first = baseline.snapshot
    second = {**first, "nodes": [dict(n, fields=dict(n["fields"])) for n in first["nodes"]]}
    for node in second["nodes"][1:400:40]:
        node["fields"]["title"] = f"{node['fields'].get('title') or node['fields'].get('name')} (fixed)"
    for number, snap in ((1, first), (2, second)):
        Submission.objects.create(
            organization_id=plan.organization_id,
            plan=plan,
            round=number,
            snapshot=snap,
            digest=digest(snap),
            submitted_by=submitter.user,
            submitted_at=now,
        )
        PlanApprover.objects.create(
            organization_id=plan.organization_id, plan=plan, round=number, membership=approver
        )
    Approval.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        round=1,
        approver=approver.user,
        decision=Approval.Decision.CHANGES_REQUESTED,
        comment="Sharper titles, please.",
    )
    baseline.round = 0  # approved before the amendment's rounds
    baseline.save(update_fields=["round"])
    plan.status = PlanStatus.IN_REVIEW
    plan.review_round = 2
    plan.submitted_by = submitter.user
    plan.submitted_at = now
    plan.save(update_fields=["status", "review_round", "submitted_by", "submitted_at"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    setup()
    from django.db import transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bizops.models import Membership
    from planning.models import Plan

    targets = find_targets(BENCH_SLUG)
    plan = Plan.objects.get(pk=targets.big_plan_id)
    approver = Membership.objects.get(organization_id=targets.org_id, user_id=targets.admin_user_id)
    submitter = (
        Membership.objects.filter(organization_id=targets.org_id, role="manager").order_by("pk").first()
    )
    url = f"/o/{targets.slug}/plans/{plan.pk}/review/"
    print(f"load average before: {load_average()}")
    try:
        with transaction.atomic():
            _rounds(plan, approver, submitter)
            client = Client()
            client.force_login(approver.user)
            for _ in range(args.warmup):
                response = client.get(url)
                assert response.status_code == 200, response.status_code
            page = response.content.decode()
            for needed in ("Changed since your request", "Changed since it was submitted", 'name="seen"'):
                assert needed in page, f"the page does not show {needed!r}"
            prepare_worker()  # as a gunicorn worker does (gunicorn.conf.py)
            times = []
            for _ in range(args.n):
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(transaction.get_connection()) as queries:
                client.get(url)
            raise _Rollback
    except _Rollback:
        pass
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(
        f"review page of the 5,520-node plan in review (baseline, changes asked, resubmitted, moved since): "
        f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, {len(queries)} queries, n={args.n}"
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
