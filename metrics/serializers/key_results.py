"""Key results and check-ins in the API: outputs, inputs and filters."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bizops.search_api import search_filter
from planning.models import ActionStep, Objective
from planning.serializers import (
    InputSerializer,
    OrgScopedField,
    PersonSerializer,
    QuerySerializer,
    StepStatusField,
    StrictSerializer,
    UserRefSerializer,
    VersionedSerializer,
    long_text_field,
    member_field,
    title_field,
    weight_field,
)

from ..models import (
    KPI,
    CheckIn,
    KeyResult,
)
from ..rules import key_result_progress
from ..services import KEY_RESULT_FIELDS
from .fields import (
    CheckInTargetField,
    ConfidenceField,
    KeyResultDirectionField,
    KeyResultKindField,
    id_filter,
    number_field,
)

# --- Key results ------------------------------------------------------------------------------------


class KeyResultSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(
        read_only=True, allow_null=True, help_text="Null when the objective's owner answers for it."
    )
    kind = KeyResultKindField(read_only=True)
    direction = KeyResultDirectionField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent of the way from start to target (0–100).")
    progress_detail = serializers.SerializerMethodField(help_text="Why, e.g. “3 of 5 (from 0)”.")
    kpi: serializers.PrimaryKeyRelatedField[KPI] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The KPI that measures it: `current` follows the KPI's latest value in the objective's "
        "dates, and a check-in records the KPI's value. Null when check-ins set `current`.",
    )

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "plan",
            "objective",
            *KEY_RESULT_FIELDS,
            "progress",
            "progress_detail",
            "position",
            "version",
            "created_at",
        ]
        read_only_fields = fields

    def get_progress(self, kr: KeyResult) -> int:
        return round(key_result_progress(kr.kind, kr.start, kr.target, kr.current)[0] * 100)

    def get_progress_detail(self, kr: KeyResult) -> str:
        return key_result_progress(kr.kind, kr.start, kr.target, kr.current)[1]


# The field names are the services' keyword arguments (``KEY_RESULT_FIELDS``; a test holds them equal).
class KeyResultFields(InputSerializer):
    title = title_field("Give the key result a title.")
    kind = KeyResultKindField(
        required=False,
        help_text="`number` by default. For `yes_no` (0 or 1) and `milestone` (percent complete) start, target "
        "and direction are fixed.",
    )
    start = number_field(required=False, help_text="0 by default.")
    target = number_field(required=False, help_text="Required for number, percent and currency.")
    current = number_field(required=False, help_text="The start by default; check-ins move it.")
    direction = KeyResultDirectionField(required=False, help_text="Must match going from start to target.")
    weight = weight_field("0–100; how much it counts in the objective.")
    owner = member_field(
        allow_null=True,
        required=False,
        help_text="A membership id; by default the objective's owner answers.",
    )
    kpi = OrgScopedField(
        KPI,
        allow_null=True,
        required=False,
        help_text="A KPI id of the same unit (number, percent or currency key results only), or null: "
        "`current` then follows the KPI, and a `current` sent along is not kept.",
    )


class KeyResultCreateSerializer(StrictSerializer, KeyResultFields):
    objective = OrgScopedField(Objective, related=("plan",))


class KeyResultUpdateSerializer(VersionedSerializer, KeyResultFields):
    """Send only the fields that change."""


class KeyResultFilterSerializer(QuerySerializer):
    plan = id_filter("Only this plan's key results.")
    objective = id_filter("Only this objective's key results.")
    owner = id_filter(
        "Only key results this membership answers for: its own, and those without an owner on objectives it owns."
    )
    q = search_filter("key results whose title holds")


# --- Check-ins --------------------------------------------------------------------------------------


class CheckInSerializer(serializers.ModelSerializer):
    target = CheckInTargetField(read_only=True, help_text="What it is about.")
    title = serializers.SerializerMethodField(help_text="The key result's, objective's or step's title.")
    step_status = StepStatusField(
        read_only=True, allow_null=True, help_text="For a step: the status it was given; null otherwise."
    )
    confidence = ConfidenceField(read_only=True)
    author = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "plan",
            "target",
            "key_result",
            "objective",
            "step",
            "title",
            "value",
            "previous_value",
            "step_status",
            "confidence",
            "note",
            "author",
            "created_at",
        ]
        read_only_fields = fields

    def get_title(self, check_in: CheckIn) -> str:
        return getattr(check_in, check_in.target).title

    def to_representation(self, instance: CheckIn) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["step_status"] = data["step_status"] or None
        return data


TARGET_FIELDS = [choice.value for choice in CheckIn.Target]
ON_TARGET = {"key_result": "on a key result", "objective": "on an objective", "step": "on a step"}
# The value each target takes. The others are refused, so a misdirected field is never silently dropped.
CHECK_IN_VALUE: dict[str, str | None] = {
    CheckIn.Target.KEY_RESULT: "value",
    CheckIn.Target.OBJECTIVE: None,
    CheckIn.Target.STEP: "status",
}


def check_in_schema() -> dict[str, Any]:
    """``CheckInCreateSerializer.validate`` in JSON Schema: per target, the fields it takes and needs."""
    branches = []
    for target in TARGET_FIELDS:
        own = [target, *filter(None, [CHECK_IN_VALUE[target]])]
        allowed = ["target", "confidence", "note", *own]
        branches.append(
            {
                "properties": {**{name: {} for name in allowed}, "target": {"enum": [target]}},
                "required": ["target", "confidence", *own],
                "additionalProperties": False,
            }
        )
    return {"oneOf": branches}


class CheckInCreateSerializer(StrictSerializer):
    target = CheckInTargetField(help_text="What the check-in is about; send that one's id, and only it.")
    # No related rows: each check-in service reads the plan itself (the key result's under a lock).
    key_result = OrgScopedField(KeyResult, required=False, help_text="For `key_result`.")
    objective = OrgScopedField(Objective, required=False, help_text="For `objective`.")
    step = OrgScopedField(ActionStep, required=False, help_text="For `step`.")
    value = number_field(required=False, help_text="For a key result (required): its new current value.")
    status = StepStatusField(required=False, help_text="For a step (required): its new status.")
    confidence = ConfidenceField()
    note = long_text_field(5_000, what="the note")

    body_schema = check_in_schema()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        target = attrs["target"]
        errors: dict[str, list[str]] = {}
        for name in TARGET_FIELDS:
            if name == target and name not in attrs:
                errors[name] = ["This field is required."]
            elif name != target and name in attrs:
                errors[name] = [f"Not for a check-in {ON_TARGET[target]}."]
        for name in ("value", "status"):
            wanted = CHECK_IN_VALUE[target] == name
            if wanted and attrs.get(name) is None:
                errors[name] = ["This field is required."]
            elif not wanted and name in attrs:
                errors[name] = [f"Not for a check-in {ON_TARGET[target]}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
)
class SinceField(serializers.DateTimeField):
    """A time, or a day for its midnight (Django reads a bare date so)."""


class CheckInFilterSerializer(QuerySerializer):
    plan = id_filter("Only this plan's check-ins.")
    objective = id_filter("Only check-ins on this objective or on its key results.")
    key_result = id_filter("Only check-ins on this key result.")
    step = id_filter("Only check-ins on this step.")
    author = id_filter("Only check-ins by this user (the `author.id` of a check-in, a user id).")
    since = SinceField(
        required=False,
        help_text="Only check-ins made at or after this time (RFC 3339, with its offset), or since a day's "
        "midnight (YYYY-MM-DD).",
    )
