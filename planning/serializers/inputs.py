"""Request bodies and query strings of the planning API: plans, nodes, moves and filters.

They check only the shape of a request and hand plain values to a service, which holds the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from bizops.models import Team
from bizops.search_api import search_filter

from ..models import (
    Milestone,
    Objective,
    Plan,
    PlanStatus,
    Recurrence,
    StepStatus,
)
from ..selectors import PERIOD_FILTERS
from .fields import (
    InputSerializer,
    OrgScopedField,
    QuerySerializer,
    StepStatusField,
    StrictSerializer,
    TextField,
    member_field,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- Input: plans -----------------------------------------------------------------------------------
# Lengths are the models' (titles) or the services' (texts); the messages are the services' own, so the
# schema's bounds and the answer to a request past them are one rule.


def title_field(blank_message: str, *, name: str = "title", **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=200,
        error_messages={"blank": blank_message, "max_length": f"Keep the {name} under 200 characters."},
        **kwargs,
    )


def long_text_field(limit: int | None = None, *, what: str = "this", **kwargs: Any) -> TextField:
    """Optional multi-line text, up to ``limit`` characters."""
    messages: dict[str, StrOrPromise] = (
        {"max_length": f"Keep {what} under {limit:,} characters."} if limit else {}
    )
    # ``max_length=None`` is DRF's own default (no limit); the stubs take an int only.
    return TextField(allow_blank=True, required=False, max_length=limit, error_messages=messages, **kwargs)  # type: ignore[arg-type]


def weight_field(help_text: str) -> serializers.IntegerField:
    message = "The weight must be between 0 and 100."
    return serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        error_messages={"min_value": message, "max_value": message},
        help_text=help_text,
    )


PLAN_GOAL_BLANK = "Write the ultimate goal: the vision this plan serves."
PARENT_HELP = (
    "The id of the plan this one serves (the company plan, or a department's), or null. "
    "Not itself, and not a plan that already serves it (a cycle): 400 with the reason."
)


class PlanCreateSerializer(StrictSerializer):
    title = title_field("Give the plan a title.")
    ultimate_goal = TextField(
        error_messages={"blank": PLAN_GOAL_BLANK}, help_text="The vision this plan serves."
    )
    description = long_text_field()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    owner = member_field(required=False, allow_null=True, help_text="A membership id; you by default.")
    # DRF's metaclass takes declared fields off the class: ``parent`` does not shadow ``Field.parent``.
    parent = OrgScopedField(Plan, required=False, allow_null=True, help_text=PARENT_HELP)  # type: ignore[assignment]


class VersionedSerializer(StrictSerializer):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version you edited. If it is no longer current the edit is refused (409).",
    )


class PlanUpdateSerializer(VersionedSerializer):
    """Used with ``partial=True``: send only what changes."""

    title = title_field("Give the plan a title.")
    ultimate_goal = TextField(error_messages={"blank": PLAN_GOAL_BLANK})
    description = TextField(allow_blank=True)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    owner = member_field(allow_null=True)
    parent = OrgScopedField(Plan, allow_null=True, help_text=PARENT_HELP)  # type: ignore[assignment]


# --- Input: nodes -----------------------------------------------------------------------------------
# The field names are the services' keyword arguments (``planning.services.common.NODE_FIELDS``).

NODE_TEXT_LIMIT = 10_000


class MilestoneFields(InputSerializer):
    title = title_field("Give it a title.")
    description = long_text_field(NODE_TEXT_LIMIT)
    target_date = serializers.DateField(allow_null=True, required=False)
    owner = member_field(allow_null=True, required=False)
    weight = weight_field("0–100; how much it counts in the plan.")


class MilestoneCreateSerializer(StrictSerializer, MilestoneFields):
    plan = OrgScopedField(Plan)


class MilestoneUpdateSerializer(VersionedSerializer, MilestoneFields):
    pass


class ObjectiveFields(InputSerializer):
    title = title_field("Give it a title.")
    description = long_text_field(NODE_TEXT_LIMIT)
    why = long_text_field(NODE_TEXT_LIMIT, help_text="Why it matters.")
    start_date = serializers.DateField(allow_null=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    team = OrgScopedField(Team, allow_null=True, required=False)
    owner = member_field(allow_null=True, required=False)
    weight = weight_field("0–100; how much it counts in its milestone.")


class ObjectiveCreateSerializer(StrictSerializer, ObjectiveFields):
    milestone = OrgScopedField(Milestone, related=("plan",))


class ObjectiveUpdateSerializer(VersionedSerializer, ObjectiveFields):
    pass


class StepFields(InputSerializer):
    title = title_field("Give it a title.")
    notes = long_text_field(NODE_TEXT_LIMIT)
    assignee = member_field(allow_null=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    recurrence = serializers.ChoiceField(choices=Recurrence.choices, required=False)
    status = StepStatusField(required=False)


class StepCreateSerializer(StrictSerializer, StepFields):
    objective = OrgScopedField(Objective, related=("plan",))


class StepUpdateSerializer(VersionedSerializer, StepFields):
    """Assignees without edit rights on the plan may send ``status`` and ``notes`` only."""


class StepStatusChangeSerializer(StrictSerializer):
    status = StepStatusField()


# --- Input: moves -----------------------------------------------------------------------------------


def move_schema(parent_field: str) -> dict[str, Any]:
    """``MoveSerializer.validate`` in JSON Schema: a direction or a position (never both), or a parent."""
    if not parent_field:
        return {"oneOf": [{"required": ["direction"]}, {"required": ["position"]}]}
    return {
        "anyOf": [{"required": ["direction"]}, {"required": ["position"]}, {"required": [parent_field]}],
        "not": {"required": ["direction", "position"]},
    }


class MoveSerializer(StrictSerializer):
    direction = serializers.ChoiceField(
        choices=["up", "down"], required=False, help_text="One place up or down."
    )
    position = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="The new place among its siblings, from 0; past the end means last.",
    )
    parent_field = ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "direction" in attrs and "position" in attrs:
            raise serializers.ValidationError({"position": ["Send a direction or a position, not both."]})
        if not attrs:
            where = ["direction", "position", *([self.parent_field] if self.parent_field else [])]
            raise serializers.ValidationError(f"Say where to move it: {', '.join(where)}.")
        return attrs


class MilestoneMoveSerializer(MoveSerializer):
    body_schema = move_schema("")


class ObjectiveMoveSerializer(MoveSerializer):
    milestone = OrgScopedField(
        Milestone,
        required=False,
        help_text="Move under this milestone of the same plan (last, unless a place is given).",
    )
    parent_field = "milestone"
    body_schema = move_schema(parent_field)


class StepMoveSerializer(MoveSerializer):
    objective = OrgScopedField(
        Objective,
        required=False,
        help_text="Move under this objective of the same plan (last, unless a place is given).",
    )
    parent_field = "objective"
    body_schema = move_schema(parent_field)


# --- Query parameters -------------------------------------------------------------------------------


class PlanFilterSerializer(QuerySerializer):
    q = search_filter("plans whose title, ultimate goal or description holds")
    status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
    period = serializers.ChoiceField(
        choices=list(PERIOD_FILTERS.items()), required=False, help_text="Relative to today."
    )


def _id_filter(help_text: str) -> serializers.IntegerField:
    # Ids are 64-bit: a bigger number is a 400 here, not an overflow in the database driver (SQLite's).
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text=help_text)


class MilestoneFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's milestones.")
    q = search_filter("milestones whose title or description holds")


class ObjectiveFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's objectives.")
    milestone = _id_filter("Only this milestone's objectives.")
    team = _id_filter("Only objectives owned by this team.")
    owner = _id_filter("Only objectives owned by this membership.")
    q = search_filter("objectives whose title, description or why holds")


class StepFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's steps.")
    objective = _id_filter("Only this objective's steps.")
    assignee = _id_filter("Only steps assigned to this membership.")
    status = serializers.ChoiceField(choices=StepStatus.choices, required=False)
    due_before = serializers.DateField(required=False, help_text="Due on or before this day.")
    due_after = serializers.DateField(required=False, help_text="Due on or after this day.")
    q = search_filter("steps whose title or notes hold")
