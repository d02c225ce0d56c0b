"""The strategy map's filters, applied to a loaded tree: the outline and the visual map show a node
when it matches every filter, and the milestones and objectives above such a node as its context.

Owner and text apply to every node (a step's owner is its assignee); team and "at risk" to objectives,
and a step has its objective's; step status and "overdue" to steps only. A milestone or objective
matched by nothing of its own shows only above a node that matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MapFilters:
    text: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    status: str = ""
    at_risk: bool = False
    overdue: bool = False

    @property
    def active(self) -> bool:
        return bool(self.text or self.owner_id or self.team_id or self.status or self.at_risk or self.overdue)

    @property
    def on_steps(self) -> bool:
        """Filters that need every step loaded (a big map otherwise counts them)."""
        return bool(self.text or self.owner_id or self.status or self.overdue)

    def _words(self, title: str) -> bool:
        return self.text.casefold() in title.casefold()

    def milestone_matches(self, milestone: Any) -> bool:
        return not (self.team_id or self.at_risk or self.status or self.overdue) and (
            (not self.text or self._words(milestone.title))
            and (self.owner_id is None or milestone.owner_id == self.owner_id)
        )

    def objective_matches(self, objective: Any) -> bool:
        return not (self.status or self.overdue) and (
            (not self.text or self._words(objective.title))
            and (self.owner_id is None or objective.owner_id == self.owner_id)
            and self._objective_own(objective)
        )

    def _objective_own(self, objective: Any) -> bool:
        """What a step inherits from its objective: its team, and whether it is at risk."""
        return (self.team_id is None or objective.team_id == self.team_id) and (
            not self.at_risk or objective.health[0] in ("warn", "bad")  # at risk or off track
        )

    def step_matches(self, step: Any, objective: Any) -> bool:
        return (
            (not self.text or self._words(step.title))
            and (self.owner_id is None or step.assignee_id == self.owner_id)
            and (not self.status or step.status == self.status)
            and (not self.overdue or bool(step.overdue))
            and self._objective_own(objective)
        )

    def apply(self, milestones: list[Any], *, steps_loaded: bool = True) -> int:
        """Keep in each milestone's and objective's ``children`` only what shows; drop milestones with
        nothing to show. Returns how many nodes match (not counting their context). ``steps_loaded``
        False: a big plan's steps were counted, not read (only objective filters are active then):
        an objective keeps its count, and its steps, when opened, are its own."""
        matched = 0
        kept = []
        for milestone in milestones:
            objectives = []
            for objective in milestone.children:
                if not steps_loaded:
                    own = self.objective_matches(objective)
                    matched += own
                    if own:
                        objectives.append(objective)
                    continue
                steps = [s for s in objective.children if self.step_matches(s, objective)]
                matched += len(steps)
                own = self.objective_matches(objective)
                matched += own
                if steps or own:
                    objective.children = steps
                    objective.step_count = len(steps)
                    objectives.append(objective)
            own = self.milestone_matches(milestone)
            matched += own
            if objectives or own:
                milestone.children = objectives
                kept.append(milestone)
        milestones[:] = kept
        return matched
