"""The readiness check before a plan is submitted, in the spirit of SMART objectives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from . import progress
from .selectors import AnyPlanTree

LONG_OBJECTIVE = timedelta(days=183)


@dataclass
class Problem:
    message: str
    kind: str
    node_id: int
    title: str


@dataclass
class Readiness:
    blocking: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blocking


def plan_readiness(tree: AnyPlanTree, measured: set[int] | None = None) -> Readiness:
    """What blocks the plan's submission, and what is worth a look. ``measured``: the objectives that
    have a measure, when the caller already knows (``baselines.measured_objectives`` of a snapshot
    of the same tree); otherwise the roll-up's contributors are asked."""
    result = Readiness()
    if measured is None:
        measured = {
            pk
            for (kind, pk), parts in progress.contributions([tree]).items()
            if kind == "objective" and any(part.kind == "key_result" for part in parts)
        }
    if not tree.milestones:
        result.blocking.append(
            Problem("The plan has no milestones yet.", "plan", tree.plan.pk, tree.plan.title)
        )
    for m in tree.milestones:
        if not m.children:
            result.warnings.append(Problem("Milestone without objectives.", "milestone", m.pk, m.title))
        for o in m.children:
            if o.owner_id is None:
                result.blocking.append(Problem("Objective without an owner.", "objective", o.pk, o.title))
            if o.due_date is None:
                result.blocking.append(Problem("Objective without a due date.", "objective", o.pk, o.title))
            if o.pk not in measured:
                result.warnings.append(
                    Problem("Objective with no measure (add a key result).", "objective", o.pk, o.title)
                )
            if o.start_date and o.due_date and o.due_date - o.start_date > LONG_OBJECTIVE:
                result.warnings.append(
                    Problem("Objective longer than six months: split it?", "objective", o.pk, o.title)
                )
            for s in o.children:
                if s.assignee_id is None:
                    result.blocking.append(Problem("Action step without an assignee.", "step", s.pk, s.title))
    return result
