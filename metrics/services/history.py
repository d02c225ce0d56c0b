"""Progress history: the daily snapshot of every running plan and the back-fill of an approved one.

Both write ``ProgressPoint`` rows with ``ignore_conflicts``: the database keeps one row per subject
(plan, objective, key result) and day, so running twice, a retried task or two workers at once
change nothing; the first figure recorded for a day stands.

A day is recorded once it is over, in the organization's time zone: the hourly task writes
"yesterday" for each organization whose day has turned, from the figures as they stand (the
closing figures of that day). Today's figure is never stored: pages compute it live.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from planning.models import Plan, Recurrence, StepCompletion, StepStatus, running_q
from planning.progress import NodeKey, Part, Rollup, StepTally, rollup, step_part
from planning.selectors import dashboard_trees, display_tree
from planning.selectors.trees import PlanTree
from planning.services.running import organization_date, organization_zone

from ..models import CheckIn, KeyResult, ProgressPoint
from ..rules import key_result_progress

# Plans run up to three years (planning.services.plans): a back-fill reaches back to the first day.
MAX_BACKFILL_DAYS = 1100
BATCH = 2000  # rows a statement
PLANS_AT_ONCE = 20  # the snapshot reads and writes this many plans' figures at a time


def recorded_day(plan: Plan, now: datetime | None = None) -> date:
    """The last whole day in the plan's organization: the day a snapshot taken now records."""
    return organization_date(plan.organization, now) - timedelta(days=1)


def points_of(plan: Plan, figures: Rollup, day: date) -> list[ProgressPoint]:
    """The rows for one plan's figures on one day: each objective, each key result, and the plan's
    own row last (written in one transaction with the others, it says the day is recorded)."""
    org = plan.organization_id
    rows = []
    for objective_id, figure in figures.objectives.items():
        rows.append(
            ProgressPoint(
                organization_id=org, plan=plan, objective_id=objective_id, day=day, value=_unit(figure.value)
            )
        )
        rows += [
            ProgressPoint(
                organization_id=org, plan=plan, key_result_id=part.node_id, day=day, value=_unit(part.value)
            )
            for part in figure.parts
            if part.kind == "key_result" and part.node_id is not None
        ]
    rows.append(ProgressPoint(organization_id=org, plan=plan, day=day, value=_unit(figures.plan.value)))
    return rows


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))


def _insert(rows: list[ProgressPoint]) -> int:
    """Whole days of whole plans, in one transaction: a worker that dies half-way leaves none of them,
    so a plan's own row for a day is there only with all of its objectives' and key results'."""
    with transaction.atomic():
        ProgressPoint.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return len(rows)


@dataclass
class Snapshot:
    written: int  # rows offered (the database keeps those it did not have)
    # Plans with days missing before the one recorded: (plan id, first missing day or None for the
    # first of the period, last missing day), for ``metrics.tasks.backfill_progress``.
    missing: list[tuple[int, date | None, date]]


def progress_snapshot(*, now: datetime | None = None) -> Snapshot:
    """Record the day that has just ended for every running plan, each in its organization's time
    zone, a few plans at a time. Plans whose day is recorded already are skipped, so the hourly runs
    after the first of a day cost one query. Days missing before it (a plan approved while no worker
    ran, a beat that stopped, a back-fill cut short) are returned for back-fill tasks."""
    own = ProgressPoint.objects.filter(plan=OuterRef("pk"), objective__isnull=True, key_result__isnull=True)
    plans = list(
        Plan.objects.filter(running_q(""))
        .select_related("organization")
        .annotate(
            last_day=Subquery(own.order_by("-day").values("day")[:1]),
            days=Subquery(own.order_by().values("plan").annotate(n=Count("pk")).values("n")),
        )
        .order_by("pk")
    )
    by_day: dict[date, list[Plan]] = defaultdict(list)
    missing: list[tuple[int, date | None, date]] = []
    for plan in plans:
        day = min(recorded_day(plan, now), plan.period_end)
        last_day, days = plan.last_day, plan.days or 0  # the annotations above
        if day < plan.period_start:
            continue
        if last_day is None:
            if day > plan.period_start:
                missing.append((plan.pk, None, day - timedelta(days=1)))
        elif days < (last_day - plan.period_start).days + 1:
            missing.append((plan.pk, None, day - timedelta(days=1)))  # a hole before the last day
        elif last_day < day - timedelta(days=1):
            missing.append((plan.pk, last_day + timedelta(days=1), day - timedelta(days=1)))
        if last_day is None or last_day < day:
            by_day[day].append(plan)
    written = 0
    for day, group in by_day.items():
        for start in range(0, len(group), PLANS_AT_ONCE):
            rows: list[ProgressPoint] = []
            for tree in dashboard_trees(plans=group[start : start + PLANS_AT_ONCE], today=day):
                assert tree.progress is not None  # dashboard_trees computes the roll-up
                rows += points_of(tree.plan, tree.progress, day)
            written += _insert(rows)
    return Snapshot(written, missing)


# --- Back-fill: the days before the first snapshot, rebuilt from what says when things happened --------


@dataclass
class _Node:
    """A milestone or objective as ``rollup`` reads it, without its steps (they come as tallies)."""

    pk: int
    title: str
    weight: int
    children: list[_Node] = field(default_factory=list)


@dataclass
class _History:
    """When each thing changed, in the organization's days."""

    one_off_done: dict[int, list[date]]  # objective -> the days its done one-off steps were done, sorted
    one_off_total: dict[int, int]  # objective -> its one-off steps
    recurring: dict[
        int, list[tuple[Any, list[tuple[date, date]]]]
    ]  # objective -> (step, [(period, done day)])
    key_results: dict[
        int, list[tuple]
    ]  # objective -> (pk, title, kind, start, target, weight, [(day, value)], first)


def progress_backfill(*, plan: Plan, since: date | None = None, until: date | None = None) -> int:
    """Write the plan's history from the first day of its period up to ``until`` (default: the last
    whole day), as far as the records tell it: a one-off step counts as done from the day it was
    completed, a recurring one from each completion, a key result holds each check-in's value from
    that day (before its first check-in, the value that check-in replaced). What no record dates
    (a step done before completion times were kept, a value typed into the key result) counts as it
    stands today. Days already recorded are left as they are. Written a few days at a time, so a
    year of a 5,000-node plan never sits in memory at once."""
    written = 0
    batch: list[ProgressPoint] = []
    for rows in rebuilt_days(plan=plan, since=since, until=until):
        batch += rows
        if len(batch) >= BATCH:
            written += _insert(batch)
            batch = []
    return written + _insert(batch)


def rebuilt_days(
    *, plan: Plan, since: date | None = None, until: date | None = None
) -> Iterator[list[ProgressPoint]]:
    """The rows of each day ``progress_backfill`` writes (from ``since``, default the period's first
    day, to ``until``), a day at a time, oldest first."""
    until = min(until or recorded_day(plan), plan.period_end)
    first = max(since or plan.period_start, plan.period_start, until - timedelta(days=MAX_BACKFILL_DAYS - 1))
    if until < first:
        return
    tree = display_tree(plan=plan, today=until)
    history = _history(plan, tree)
    milestones = [
        _Node(m.pk, m.title, m.weight, [_Node(o.pk, o.title, o.weight) for o in m.children])
        for m in tree.milestones
    ]
    day = first
    while day <= until:
        shape = cast(
            Any, PlanTree(plan=plan, milestones=milestones, step_tallies=_tallies(plan, history, day))
        )
        yield points_of(plan, rollup(shape, day, _key_result_parts(history, day)), day)
        day += timedelta(days=1)


def _history(plan: Plan, tree) -> _History:
    zone = organization_zone(plan.organization)

    def local(moment: datetime) -> date:
        return timezone.localtime(moment, zone).date()

    done: dict[int, list[date]] = defaultdict(list)
    total: dict[int, int] = defaultdict(int)
    recurring: dict[int, list] = defaultdict(list)
    completions: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for step_id, period, done_at in StepCompletion.objects.filter(step__plan=plan).values_list(
        "step_id", "period_start", "done_at"
    ):
        completions[step_id].append((period, local(done_at)))
    for step in tree.steps.values():
        if step.recurrence != Recurrence.NONE:
            recurring[step.objective_id].append((step, completions.get(step.pk, [])))
            continue
        total[step.objective_id] += 1
        if step.status == StepStatus.DONE:
            done[step.objective_id].append(local(step.completed_at) if step.completed_at else date.min)
    check_ins: dict[int, list[tuple[date, Decimal, Decimal | None]]] = defaultdict(list)
    for kr_id, created_at, value, previous in (
        CheckIn.objects.filter(plan=plan, key_result__isnull=False)
        .order_by("created_at", "pk")
        .values_list("key_result_id", "created_at", "value", "previous_value")
    ):
        if value is not None:  # always set on a key result's check-in (check_in_one_target)
            check_ins[kr_id].append((local(created_at), value, previous))
    key_results: dict[int, list[tuple]] = defaultdict(list)
    for pk, objective_id, title, kind, start, target, current, weight in (
        KeyResult.objects.filter(plan=plan)
        .order_by("position", "pk")
        .values_list("pk", "objective_id", "title", "kind", "start", "target", "current", "weight")
    ):
        entries = check_ins.get(pk, [])
        # Before its first check-in, a key result held what that check-in replaced; without any, what
        # it holds now.
        before = (entries[0][2] if entries[0][2] is not None else start) if entries else current
        values = [(day, value) for day, value, _ in entries]
        key_results[objective_id].append((pk, title, kind, start, target, weight, values, before))
    return _History(
        one_off_done={k: sorted(v) for k, v in done.items()},
        one_off_total=total,
        recurring=recurring,
        key_results=key_results,
    )


def _tallies(plan: Plan, history: _History, day: date) -> dict[int, StepTally]:
    tallies: dict[int, StepTally] = {}
    for objective_id in history.one_off_total.keys() | history.recurring.keys():
        done = bisect_right(history.one_off_done.get(objective_id, []), day)
        tally = StepTally(done=done, open=history.one_off_total.get(objective_id, 0) - done)
        for step, completions in history.recurring.get(objective_id, []):
            periods = {period for period, done_day in completions if done_day <= day}
            tally.recurring.append(step_part(step, periods, day, plan.period_start, plan.period_end))
        tallies[objective_id] = tally
    return tallies


def _key_result_parts(history: _History, day: date) -> dict[NodeKey, list[Part]]:
    parts: dict[NodeKey, list[Part]] = {}
    for objective_id, key_results in history.key_results.items():
        parts["objective", objective_id] = []
        for pk, title, kind, start, target, weight, values, before in key_results:
            days = [when for when, _ in values]
            index = bisect_right(days, day)
            current = values[index - 1][1] if index else before
            value, _ = key_result_progress(kind, start, target, current)
            parts["objective", objective_id].append(Part(title, value, weight, "key_result", pk))
    return parts
