"""Progress roll-up, computed in one pass in Python over an already loaded tree.

Every figure keeps the parts it was computed from, so the page can answer "why 62%": a step is done or
not (a recurring step counts its completion rate over a recent window), an objective averages its
steps and any other contributions (key results, added by the metrics app through
``register_contributor``), a milestone averages its objectives by weight (and any contributions), the
plan its milestones. A contribution may be shown without counting (``Part.counted``): the figure
keeps it ``aside`` so "why N%" can say it is there and does not count.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import fsum
from typing import TYPE_CHECKING

from .models import Recurrence, StepStatus

if TYPE_CHECKING:
    from .selectors import AnyPlanTree, PlanTree

# How far back a recurring step's completion rate looks: its "current period".
WINDOW_OCCURRENCES: dict[str, int] = {Recurrence.DAILY: 7, Recurrence.WEEKLY: 4, Recurrence.MONTHLY: 3}
WINDOW_LABEL: dict[str, str] = {
    Recurrence.DAILY: "days",
    Recurrence.WEEKLY: "weeks",
    Recurrence.MONTHLY: "months",
}
OCCURRENCE_LABEL: dict[str, str] = {
    Recurrence.DAILY: "day",
    Recurrence.WEEKLY: "week",
    Recurrence.MONTHLY: "month",
}


@dataclass
class Part:
    label: str
    value: float  # 0..1
    weight: float = 1.0
    kind: str = ""
    node_id: int | None = None
    detail: str = ""
    # False: shown beside the figure (``Figure.aside``), not part of it (a team objective that serves
    # this node with its roll-up switch off).
    counted: bool = True
    # A node of another plan (alignment): its plan and kind, for its link.
    plan_id: int | None = None
    node_kind: str = ""
    if TYPE_CHECKING:
        # A key result's link, set on the map (planning.views.tree.decorate_map): not a dataclass field.
        url: str = field(init=False)

    @property
    def percent(self) -> int:
        return round(self.value * 100)


@dataclass
class Figure:
    value: float = 0.0  # 0..1
    parts: list[Part] = field(default_factory=list)
    note: str = ""
    aside: list[Part] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(self.value * 100)

    @property
    def counts_team_objectives(self) -> bool:
        """A team objective that serves the node is one of its parts (alignment)."""
        return any(p.kind == "contribution" for p in self.parts)

    @property
    def team_objectives_aside(self) -> list[Part]:
        """Team objectives that serve the node, shown beside its figure and not counted."""
        return [p for p in self.aside if p.kind == "contribution"]


def weighted(parts: list[Part], empty_note: str) -> Figure:
    """Weighted mean of the parts; all-zero weights count equally, with a note saying so.

    The sums are exact (``math.fsum``), so they do not depend on the parts' order: a figure built
    from an objective's steps one by one equals the one built from their tally (``StepTally``).
    """
    aside = [p for p in parts if not p.counted]
    if aside:
        parts = [p for p in parts if p.counted]
    if not parts:
        return Figure(0.0, [], empty_note, aside)
    total = fsum(p.weight for p in parts)
    note = ""
    if total <= 0:
        note = "All weights are zero, so each part counts equally."
        return Figure(fsum(p.value for p in parts) / len(parts), parts, note, aside)
    return Figure(fsum(p.value * p.weight for p in parts) / total, parts, note, aside)


# --- Recurring steps --------------------------------------------------------------------------------


def occurrence_start(recurrence: str, day: date) -> date:
    """The first day of the occurrence ``day`` falls in: the day, its ISO week's Monday, or its month."""
    if recurrence == Recurrence.WEEKLY:
        return day - timedelta(days=day.weekday())
    if recurrence == Recurrence.MONTHLY:
        return day.replace(day=1)
    return day


def _previous_occurrence(recurrence: str, start: date) -> date:
    if recurrence == Recurrence.WEEKLY:
        return start - timedelta(days=7)
    if recurrence == Recurrence.MONTHLY:
        previous_month_end = start - timedelta(days=1)
        return previous_month_end.replace(day=1)
    return start - timedelta(days=1)


def window_occurrences(recurrence: str, today: date, period_start: date, period_end: date) -> list[date]:
    """The occurrences counted for a recurring step today, newest first, inside the plan's period."""
    end = min(today, period_end)
    if end < period_start:
        return []
    result: list[date] = []
    current = occurrence_start(recurrence, end)
    for _ in range(WINDOW_OCCURRENCES[recurrence]):
        last_day = _occurrence_end(recurrence, current)
        if last_day < period_start:
            break
        result.append(current)
        current = _previous_occurrence(recurrence, current)
    return result


def _occurrence_end(recurrence: str, start: date) -> date:
    if recurrence == Recurrence.WEEKLY:
        return start + timedelta(days=6)
    if recurrence == Recurrence.MONTHLY:
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start


def window_floor(today: date) -> date:
    """The oldest day any window can reach: completions older than this never count."""
    return (today.replace(day=1) - timedelta(days=62)).replace(day=1)


def step_part(step, completions: Iterable[date], today: date, period_start: date, period_end: date) -> Part:
    if step.recurrence == Recurrence.NONE:
        done = step.status == StepStatus.DONE
        return Part(
            step.title,
            1.0 if done else 0.0,
            1.0,
            "step",
            step.pk,
            "done" if done else step.get_status_display().lower(),
        )
    occurrences = window_occurrences(step.recurrence, today, period_start, period_end)
    if not occurrences:
        return Part(step.title, 0.0, 1.0, "step", step.pk, "the plan's period has not started")
    done = len(set(occurrences) & set(completions))
    detail = _window_detail(step.recurrence, done, len(occurrences))
    return Part(step.title, done / len(occurrences), 1.0, "step", step.pk, detail)


def _window_detail(recurrence: str, done: int, count: int) -> str:
    """ "done in 3 of the last 4 weeks". A window of one occurrence is the step's first (the window
    is cut short only by the start of the plan's period), said as such, not "of the last 1 months"."""
    if count == 1:
        return f"{'done' if done else 'not done yet'} in its first {OCCURRENCE_LABEL[recurrence]}"
    return f"done in {done} of the last {count} {WINDOW_LABEL[recurrence]}"


@dataclass
class StepTally:
    """An objective's steps counted rather than listed, for pages that show figures, not steps.

    One-off steps weigh 1 each and are done or not, so they count as two parts: the done ones (value
    1, weight = how many) and the others (value 0). Recurring steps keep a part each (their rates).
    With exact sums in ``weighted``, the figure is the one the steps give one by one.
    """

    done: int = 0
    open: int = 0
    recurring: list[Part] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.done + self.open + len(self.recurring)

    def parts(self) -> list[Part]:
        parts = []
        if self.done:
            parts.append(Part(f"{self.done} steps done", 1.0, float(self.done), "steps", None, "done"))
        if self.open:
            parts.append(Part(f"{self.open} steps not done", 0.0, float(self.open), "steps", None, "open"))
        return parts + self.recurring


# --- Contributions from other apps ----------------------------------------------------------------

# A contributor takes the loaded trees and returns extra parts per node, keyed ("objective", id) or
# ("milestone", id), in a fixed number of queries whatever the number of trees. The metrics app
# registers key results and contributions from team plans here, so planning never imports metrics
# (imports run one way: core ← planning ← metrics).
NodeKey = tuple[str, int]
Contributor = Callable[[list["PlanTree"]], dict[NodeKey, list[Part]]]
_contributors: list[Contributor] = []


def register_contributor(contributor: Contributor) -> None:
    if contributor not in _contributors:
        _contributors.append(contributor)


def contributors() -> list[Contributor]:
    return list(_contributors)


def contributions(trees: list[PlanTree]) -> dict[NodeKey, list[Part]]:
    extra: dict[NodeKey, list[Part]] = {}
    for contributor in contributors():
        for key, parts in contributor(trees).items():
            extra.setdefault(key, []).extend(parts)
    return extra


@dataclass
class Rollup:
    plan: Figure
    milestones: dict[int, Figure]
    objectives: dict[int, Figure]
    steps: dict[int, Part]


def rollup(tree: AnyPlanTree, today: date, extra: dict[NodeKey, list[Part]] | None = None) -> Rollup:
    """Figures for every node of the tree; ``extra`` adds parts (key results, team objectives) per
    node (``NodeKey``)."""
    plan = tree.plan
    extra = contributions([tree]) if extra is None else extra
    steps: dict[int, Part] = {}
    objectives: dict[int, Figure] = {}
    milestones: dict[int, Figure] = {}
    milestone_parts: list[Part] = []
    for milestone in tree.milestones:
        objective_parts: list[Part] = []
        for objective in milestone.children:
            parts: list[Part] = []
            for step in objective.children:
                part = step_part(
                    step, tree.completions.get(step.pk, ()), today, plan.period_start, plan.period_end
                )
                steps[step.pk] = part
                parts.append(part)
            if (tally := tree.step_tallies.get(objective.pk)) is not None:
                parts.extend(tally.parts())
            parts.extend(extra.get(("objective", objective.pk), ()))
            figure = weighted(parts, "No steps or key results yet.")
            objectives[objective.pk] = figure
            objective_parts.append(
                Part(objective.title, figure.value, objective.weight, "objective", objective.pk)
            )
        objective_parts.extend(extra.get(("milestone", milestone.pk), ()))
        figure = weighted(objective_parts, "No objectives yet.")
        milestones[milestone.pk] = figure
        milestone_parts.append(
            Part(milestone.title, figure.value, milestone.weight, "milestone", milestone.pk)
        )
    return Rollup(weighted(milestone_parts, "No milestones yet."), milestones, objectives, steps)


# --- Health: progress against the calendar ------------------------------------------------------------

HEALTH = {
    "done": ("good", "check", "Done"),
    "on_track": ("good", "dot", "On track"),
    "at_risk": ("warn", "warning", "At risk"),
    "off_track": ("bad", "stop", "Off track"),
    "not_started": ("neutral", "circle", "Not started"),
}


def health(figure: Figure, start: date | None, due: date | None, today: date) -> str:
    """On track when progress keeps pace with the time elapsed between start and due dates."""
    if figure.value >= 0.999:
        return "done"
    if start is None or due is None or today < start:
        return "not_started" if figure.value == 0 else "on_track"
    span = max((due - start).days, 1)
    expected = min(1.0, (today - start).days / span)
    gap = expected - figure.value
    if gap <= 0.15:
        return "on_track"
    if gap <= 0.35 and today <= due:
        return "at_risk"
    return "off_track"
