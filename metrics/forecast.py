"""Where a plan, an objective or a key result will land at its due date, at its recent pace.

Pure rules over a series of (day, progress) points, so they are tested on known series: the history
comes from ``ProgressPoint`` rows (the daily snapshot) and the last point is today's live figure.

The pace is the straight line through the progress at the start of a window (the last four weeks,
or since the history began when it is younger) and today's; carried on to the due date, clamped to
0-100%. A week of history is the least a pace is read from: fewer days say too little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PACE_DAYS = 28  # "the last 4 weeks"
MIN_DAYS = 7  # a pace read from fewer days is noise
# The dashboard calls an objective at risk when, at its recent pace, it lands below this by its due date.
AT_RISK_BELOW = 0.7


@dataclass(frozen=True)
class Forecast:
    value: float | None  # progress at the due date, 0..1; None when there is no forecast
    due: date | None
    rule: str  # the rule in words: "At the pace of the last 4 weeks: 72% by 30 Jun."
    short: str = ""  # "72% by 30 Jun", for tables; "" when there is no forecast

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(self.value * 100)

    @property
    def falls_short(self) -> bool:
        """Lands below ``AT_RISK_BELOW`` by its due date: the dashboard's "at risk by forecast"."""
        return self.value is not None and self.value < AT_RISK_BELOW


def day_label(day: date, today: date) -> str:
    """ "30 Jun", with the year when it is not this year's."""
    return f"{day.day} {day:%b}" + ("" if day.year == today.year else f" {day.year}")


def expected(day: date, start: date, end: date) -> float:
    """The expected pace: a straight line from 0% on the first day to 100% on the last."""
    span = max((end - start).days, 1)
    return min(1.0, max(0.0, (day - start).days / span))


def forecast(series: Sequence[tuple[date, float]], *, today: date, due: date | None) -> Forecast:
    """The forecast from ``series`` (oldest first, its last point today's figure) for ``due``."""
    if not series:
        return Forecast(None, due, "No progress recorded yet.")
    now_day, now = series[-1]
    if now >= 0.999:
        return Forecast(1.0, due, "Done.", "done")
    if due is None:
        return Forecast(None, None, "No due date, so no forecast.")
    if due < today:
        return Forecast(
            None, due, f"Its due date, {day_label(due, today)}, has passed: it stands at {round(now * 100)}%."
        )
    since = today - timedelta(days=PACE_DAYS)
    window = [(day, value) for day, value in series if since <= day <= now_day]
    first_day, first = window[0] if window else series[-1]
    days = (now_day - first_day).days
    if days < MIN_DAYS:
        return Forecast(
            None,
            due,
            f"Not enough history yet: a forecast reads the pace of at least {MIN_DAYS} days ({days} so far).",
        )
    pace = (now - first) / days
    landing = min(1.0, max(0.0, now + pace * (due - now_day).days))
    short = f"{round(landing * 100)}% by {day_label(due, today)}"
    if first_day <= since:
        rule = (
            f"No progress in the last 4 weeks: {short}."
            if pace <= 0
            else f"At the pace of the last 4 weeks: {short}."
        )
    else:
        started = day_label(first_day, today)
        rule = (
            f"No progress since {started}: {short}."
            if pace <= 0
            else f"At the pace since {started}: {short}."
        )
    return Forecast(landing, due, rule, short)
