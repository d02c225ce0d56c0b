"""Plan templates: the four stages of a strategy, filled in with a worked example.

The copywriting agency is the founding story: a vision, broken into milestones, each into SMART
objectives ("close five clients a month"), each into concrete, often recurring, action steps
("reach out to leads daily", "network on social media").
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepBlueprint:
    title: str
    recurrence: str = "none"
    notes: str = ""


@dataclass(frozen=True)
class ObjectiveBlueprint:
    title: str
    why: str
    description: str = ""
    steps: tuple[StepBlueprint, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class MilestoneBlueprint:
    title: str
    description: str
    objectives: tuple[ObjectiveBlueprint, ...]


@dataclass(frozen=True)
class Blueprint:
    key: str
    name: str
    ultimate_goal: str
    description: str
    milestones: tuple[MilestoneBlueprint, ...]


COPYWRITING_AGENCY = Blueprint(
    key="copywriting",
    name="Copywriting agency: five new clients a month",
    ultimate_goal=(
        "Become the copywriting partner growing software companies trust first, "
        "with a full roster of retained clients."
    ),
    description=(
        "Four stages: the ultimate goal above; milestones (large goals); objectives (specific, measurable, "
        "time-bound, done in a few months); and action steps (the concrete, often daily, work)."
    ),
    milestones=(
        MilestoneBlueprint(
            "Build a predictable client pipeline",
            "Enough qualified conversations every month that new business no longer depends on luck.",
            (
                ObjectiveBlueprint(
                    "Close five new copywriting clients a month",
                    "Five new clients a month covers churn and funds the next hire.",
                    "Measured as signed contracts per calendar month.",
                    (
                        StepBlueprint(
                            "Reach out to 20 qualified leads", "daily", "Personal notes, not templates."
                        ),
                        StepBlueprint("Follow up on every open proposal", "weekly"),
                        StepBlueprint("Write a proposal template that converts", "none"),
                    ),
                ),
                ObjectiveBlueprint(
                    "Reach 100 qualified leads a month",
                    "About one lead in twenty becomes a client: five clients need a hundred leads.",
                    "",
                    (
                        StepBlueprint("Network on LinkedIn: comment on 10 posts by target clients", "daily"),
                        StepBlueprint("Ask each happy client for one referral", "monthly"),
                    ),
                ),
            ),
        ),
        MilestoneBlueprint(
            "Be known for results on social media",
            "Prospects should have seen our work before we write to them.",
            (
                ObjectiveBlueprint(
                    "Grow our LinkedIn audience to 2,000 followers",
                    "A warm audience answers outreach three times as often.",
                    "",
                    (
                        StepBlueprint("Post one practical copywriting tip", "daily"),
                        StepBlueprint("Publish a client case study", "monthly"),
                    ),
                ),
            ),
        ),
        MilestoneBlueprint(
            "Deliver work clients renew",
            "Retained clients are cheaper than new ones.",
            (
                ObjectiveBlueprint(
                    "Keep client retention above 85%",
                    "Every client we keep is one fewer we need to find.",
                    "",
                    (
                        StepBlueprint("Send each client a monthly results report", "monthly"),
                        StepBlueprint("Set up a quarterly review with every retained client", "none"),
                    ),
                ),
            ),
        ),
    ),
)

BLUEPRINTS = {COPYWRITING_AGENCY.key: COPYWRITING_AGENCY}
