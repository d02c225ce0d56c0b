"""Celery tasks of the metrics app: the reminder dispatcher and the workers that send batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from bizops.models import Notification, OutboundEmail
from bizops.tasks import deliver_batch
from planning.models import Plan, plan_runs

from .reminders import SENDERS, find_due, load_memberships
from .services.history import progress_backfill, progress_snapshot

log = logging.getLogger(__name__)
BATCH = 200
# Redelivered when their worker dies (acks late) and retried when the database drops the connection:
# every task here is safe to run again (claims, or one row per subject and day).
REDELIVERED_AND_RETRIED: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "max_retries": 5,
}


def _unclaimed(kind: str, periods: dict[int, str]) -> tuple[dict[int, str], list[str]]:
    """Split off the reminders claimed already, before composing them: a reminder stays due for a day
    and the dispatcher runs every few minutes, so most runs would otherwise re-render what was sent.
    (The claim in ``notify`` still guards the race; this only saves work.) Returns the unclaimed
    ones and the keys of the claimed ones. Approval nudges carry the plan in their key and are few,
    so they are left to the claim."""
    if kind not in ("checkin_due", "overdue_steps", "manager_digest"):
        return periods, []
    keys = {f"{kind}:{membership_id}:{period}": membership_id for membership_id, period in periods.items()}
    claimed = cast(  # filtered on dedupe_key__in: never null
        list[str],
        list(Notification.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True)),
    )
    done = {keys[key] for key in claimed}
    unclaimed = {
        membership_id: period for membership_id, period in periods.items() if membership_id not in done
    }
    return unclaimed, claimed


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_reminders(now: str | None = None) -> dict[str, int]:
    """Find every reminder due now and hand them to workers in batches. Safe to run twice at once:
    each reminder is claimed by its key when sent, so a second dispatcher only adds no-ops."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    due = find_due(moment, load_memberships())
    for kind, items in due.items():
        for start in range(0, len(items), BATCH):
            send_reminders.delay(kind, items[start : start + BATCH])
    counts = {kind: len(items) for kind, items in due.items()}
    if counts:
        log.info("reminders due: %s", counts)
    return counts


@shared_task(bind=True, **REDELIVERED_AND_RETRIED)
def send_reminders(self, kind: str, items: Sequence[Sequence[Any]]) -> int:
    """Compose and claim one batch of reminders of one kind, in one transaction: if the worker dies
    half-way, nothing of the batch is claimed and the redelivered task sends it whole."""
    periods = {int(membership_id): str(period) for membership_id, period in items}
    periods, claimed = _unclaimed(kind, periods)
    batch: list[int] = []
    if claimed:
        # This batch redelivered after its worker died (or a second dispatcher's): what was claimed
        # but not sent goes out now rather than at the next sweep. Each email is still claimed on
        # its own as it is sent, so none goes twice.
        batch += OutboundEmail.objects.filter(
            dedupe_key__in=claimed, status=OutboundEmail.Status.PENDING
        ).values_list("pk", flat=True)
    count = 0
    if periods:
        with transaction.atomic():
            count = SENDERS[kind](load_memberships(list(periods)), periods, batch)
    # Claimed and committed: now send them over one connection (what a dying worker leaves pending
    # is picked up by the sweep or by this task redelivered).
    deliver_batch(batch)
    return count


@shared_task(**REDELIVERED_AND_RETRIED)
def snapshot_progress(now: str | None = None) -> int:
    """Record the day just ended for every running plan (beat runs it hourly: each organization's day
    ends at its own midnight), and hand the days missing before it to ``backfill_progress`` tasks.
    Safe to run twice or to retry: one row per subject and day."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    snapshot = progress_snapshot(now=moment)
    for plan_id, since, until in snapshot.missing:
        backfill_progress.delay(plan_id, since.isoformat() if since else None, until.isoformat())
    if snapshot.written or snapshot.missing:
        log.info(
            "progress points offered: %d; plans to back-fill: %d", snapshot.written, len(snapshot.missing)
        )
    return snapshot.written


@shared_task(**REDELIVERED_AND_RETRIED)
def backfill_progress(plan_id: int, since: str | None = None, until: str | None = None) -> int:
    """Rebuild a running plan's history from ``since`` (default: its period's first day) to ``until``
    (default: the last whole day) (``progress_backfill``)."""
    plan = Plan.objects.select_related("organization").filter(pk=plan_id).first()
    if plan is None or not plan_runs(plan.status, plan.first_approved_at):
        return 0
    return progress_backfill(
        plan=plan,
        since=date.fromisoformat(since) if since else None,
        until=date.fromisoformat(until) if until else None,
    )


def enqueue_backfill(plan_id: int) -> None:
    """Planning's approval hook (``register_on_approved``): runs after the approval commits. The
    approval stands whatever happens here: with the broker down, the next hourly snapshot finds the
    plan without history and asks for its back-fill again."""
    try:
        backfill_progress.delay(plan_id)
    except Exception:  # the broker: an approval that committed must not answer 500
        log.exception("could not enqueue the progress back-fill of plan %s", plan_id)
