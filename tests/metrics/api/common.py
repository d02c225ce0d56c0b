"""Helpers the metrics API tests share: URLs in Acme, months back from today, a KPI's payload, and
what is saved (to show a refused request saved nothing)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone

from metrics.models import KPI, CheckIn, KeyResult, Measurement
from metrics.rules import period_start, previous_period
from tests.names import qualified


def url(name: str, *args: int) -> str:
    return reverse(qualified(name), args=["acme", *args])


def month(ago: int) -> date:
    """The first day of the month ``ago`` months before this one."""
    start = period_start("monthly", timezone.localdate())
    for _ in range(ago):
        start = previous_period("monthly", start)
    return start


def kpi_payload(**change) -> dict:
    return {
        "name": "Revenue",
        "unit": "currency",
        "currency": "eur",
        "direction": "increase",
        "target": "1000",
        "amber_threshold": 900,
        "red_threshold": "700.5",
        "frequency": "monthly",
        **change,
    }


def saved() -> tuple[int, int, int, int]:
    return (
        KPI.objects.count(),
        Measurement.objects.count(),
        KeyResult.objects.count(),
        CheckIn.objects.count(),
    )
