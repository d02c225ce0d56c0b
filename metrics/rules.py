"""Pure rules of measurement: periods, KPI status from direction and thresholds, key-result progress.

No database here: these functions are tested exhaustively and called in bulk by the selectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .models import HIGHER_IS_BETTER, LOWER_IS_BETTER, Direction, Frequency, KeyResultKind, Unit

# --- Periods ----------------------------------------------------------------------------------------


def period_start(frequency: str, day: date) -> date:
    if frequency == Frequency.WEEKLY:
        return day - timedelta(days=day.weekday())
    if frequency == Frequency.QUARTERLY:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def previous_period(frequency: str, start: date) -> date:
    if frequency == Frequency.WEEKLY:
        return start - timedelta(days=7)
    months = 3 if frequency == Frequency.QUARTERLY else 1
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def last_periods(frequency: str, today: date, count: int) -> list[date]:
    """The ``count`` most recent period starts, oldest first, ending with the current one."""
    current = period_start(frequency, today)
    periods = [current]
    for _ in range(count - 1):
        current = previous_period(frequency, current)
        periods.append(current)
    return list(reversed(periods))


def period_label(frequency: str, start: date) -> str:
    if frequency == Frequency.WEEKLY:
        return f"Week of {start:%-d %b %Y}"
    if frequency == Frequency.QUARTERLY:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%b %Y}"


# --- KPI status -------------------------------------------------------------------------------------

STATUS = {
    "green": ("good", "dot", "On track"),
    "amber": ("warn", "warning", "At risk"),
    "red": ("bad", "stop", "Off track"),
    "none": ("neutral", "circle", "No data"),
}


@dataclass(frozen=True)
class Status:
    key: str  # green, amber, red, none
    reason: str

    @property
    def tone(self) -> str:
        return STATUS[self.key][0]

    @property
    def icon(self) -> str:
        return STATUS[self.key][1]

    @property
    def label(self) -> str:
        return STATUS[self.key][2]


def fmt(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def plain_number(value: Decimal | None) -> str:
    """A number as typed in a form: no exponent, no trailing zeros, no thousands separator."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def kpi_status(
    *,
    direction: str,
    value: Decimal | None,
    target: Decimal,
    target_upper: Decimal | None = None,
    amber: Decimal | None = None,
    red: Decimal | None = None,
) -> Status:
    """Green, amber or red for a value, with the reason in words (so colour is never the only cue).

    Higher is better: green at or above the amber line (the target when no amber line is set),
    red below the red line when one is set, amber in between. Lower is better: the mirror image.
    A range: green inside it; outside, amber within the red margin (or anywhere without one), red past it.
    """
    if value is None:
        return Status("none", "No measurement for this period yet.")
    if direction in HIGHER_IS_BETTER or direction in LOWER_IS_BETTER:
        higher = direction in HIGHER_IS_BETTER
        amber_line = target if amber is None else amber
        worse = (lambda a, b: a < b) if higher else (lambda a, b: a > b)
        side = "below" if higher else "above"
        if red is not None and worse(value, red):
            return Status("red", f"{fmt(value)} is {side} the red line of {fmt(red)}.")
        if worse(value, amber_line):
            line = "the target" if amber is None else "the amber line"
            return Status("amber", f"{fmt(value)} is {side} {line} of {fmt(amber_line)}.")
        if worse(value, target):
            return Status(
                "green", f"{fmt(value)} is short of the target of {fmt(target)} but within the amber line."
            )
        return Status("green", f"{fmt(value)} meets the target of {fmt(target)}.")
    upper = target if target_upper is None else target_upper
    if target <= value <= upper:
        return Status("green", f"{fmt(value)} is within {fmt(target)}–{fmt(upper)}.")
    distance = target - value if value < target else value - upper
    side = "below" if value < target else "above"
    where = f"{fmt(value)} is {fmt(distance)} {side} the range {fmt(target)}–{fmt(upper)}"
    if red is not None and distance > red:
        return Status("red", f"{where}, past the red margin of {fmt(red)}.")
    return Status("amber", f"{where}.")


def check_thresholds(direction: str, target, target_upper, amber, red) -> dict[str, str]:
    """Field errors for thresholds that contradict the direction."""
    errors: dict[str, str] = {}
    if direction == Direction.WITHIN:
        if target_upper is None or target_upper < target:
            errors["target_upper"] = "A range needs an upper bound at or above the target."
        for name, value in (("amber_threshold", amber), ("red_threshold", red)):
            if value is not None and value < 0:
                errors[name] = "For a range, thresholds are distances outside it: zero or more."
        if amber is not None and red is not None and red < amber:
            errors["red_threshold"] = "The red margin must be at least the amber margin."
        return errors
    if direction in HIGHER_IS_BETTER:
        if amber is not None and amber > target:
            errors["amber_threshold"] = "When higher is better, the amber line sits at or below the target."
        if red is not None and red > (target if amber is None else amber):
            errors["red_threshold"] = "When higher is better, the red line sits below the amber line."
    else:
        if amber is not None and amber < target:
            errors["amber_threshold"] = "When lower is better, the amber line sits at or above the target."
        if red is not None and red < (target if amber is None else amber):
            errors["red_threshold"] = "When lower is better, the red line sits above the amber line."
    return errors


# --- Key results ------------------------------------------------------------------------------------


def key_result_progress(kind: str, start: Decimal, target: Decimal, current: Decimal) -> tuple[float, str]:
    """Progress 0..1 from start to target (either direction), with its explanation."""
    if kind == KeyResultKind.YES_NO:
        done = current >= 1
        return (1.0 if done else 0.0), ("done" if done else "not yet")
    if kind == KeyResultKind.MILESTONE:
        share = max(Decimal(0), min(Decimal(100), current)) / 100
        return float(share), f"{fmt(current)}% complete"
    span = target - start
    if span == 0:
        value = 1.0 if current == target else 0.0
    else:
        value = float(max(Decimal(0), min(Decimal(1), (current - start) / span)))
    return value, f"{fmt(current)} of {fmt(target)} (from {fmt(start)})"


# --- Key results measured by a KPI ------------------------------------------------------------------

# A key result of these kinds may be measured by a KPI of the same unit; yes/no and milestone ones
# count something no KPI counts.
KPI_UNIT_OF_KIND = {
    KeyResultKind.NUMBER: Unit.NUMBER,
    KeyResultKind.PERCENT: Unit.PERCENT,
    KeyResultKind.CURRENCY: Unit.CURRENCY,
}


def key_result_period(
    objective_start: date | None, objective_due: date | None, plan_start: date, plan_end: date
) -> tuple[date, date]:
    """The days a key result measures: its objective's start and due dates, each falling back to the
    plan's period."""
    return objective_start or plan_start, objective_due or plan_end


def kpi_value_in(
    measured: Iterable[tuple[date, Decimal]], frequency: str, start: date, end: date
) -> tuple[date, Decimal] | None:
    """The KPI value a key result of ``start``..``end`` shows: the latest of the KPI's current
    values (period start, value) whose period overlaps those days, or None."""
    first = period_start(frequency, start)
    inside = [(period, value) for period, value in measured if first <= period <= end]
    return max(inside, key=lambda pair: pair[0]) if inside else None


def kpi_covers(frequency: str, day: date, start: date, end: date) -> bool:
    """Whether the KPI period containing ``day`` counts for a key result of ``start``..``end``."""
    period = period_start(frequency, day)
    return period_start(frequency, start) <= period <= end


def kpi_source_detail(
    kind: str, start: Decimal, target: Decimal, current: Decimal, kpi_name: str, period: str | None
) -> str:
    """Why a KPI-measured key result stands where it does, e.g. “12 of 60 — from KPI “Leads reached a
    month”, Mar 2027”; ``period`` is None when the KPI has no value in the key result's dates yet."""
    base = f"{fmt(current)} of {fmt(target)}" + ("" if start == 0 else f" (from {fmt(start)})")
    if kind not in KPI_UNIT_OF_KIND:
        base = key_result_progress(kind, start, target, current)[1]
    if period is None:
        return f"{base} — KPI “{kpi_name}” has no value in these dates yet"
    return f"{base} — from KPI “{kpi_name}”, {period}"
