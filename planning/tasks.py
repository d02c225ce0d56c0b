"""Celery tasks of the planning app: take ids, load, call a service."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from .models import Plan, PlanStatus
from .services.running import plan_activate_if_begun

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def activate_begun_plans(now: str | None = None) -> int:
    """Activate the approved plans whose period has begun (approved before their first day).

    Beat runs it every hour: an organization's day starts at its own time zone's midnight, so the
    candidates are the plans starting up to tomorrow in UTC, and the service decides by the
    organization's date. Safe to run twice: each plan is re-checked under its row lock."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    latest_start = moment.date() + timedelta(days=1)
    ids = list(
        Plan.objects.filter(status=PlanStatus.APPROVED, period_start__lte=latest_start)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    activated = sum(plan_activate_if_begun(plan_id=plan_id, now=moment) for plan_id in ids)
    if activated:
        log.info("plans activated as their period began: %d", activated)
    return activated
