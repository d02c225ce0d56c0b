"""Input and output shapes of the metrics API: KPIs and measurements, key results, check-ins, progress.

As in ``planning/serializers.py``: input serializers check the shape of a request (types, which fields
go together, ids that exist *in the caller's organization*) and hand plain values to a service, which
holds the rules and their messages ("When higher is better, the amber line sits at or below the
target."). Numbers are checked to be numbers below 10 trillion either way (the service's bound, stated
in the schema); how thresholds relate is the service's call. Output serializers read objects loaded with
their people, so lists cost no query per row.

Every choice field is a ``NamedChoiceField``: drf-spectacular would otherwise name the enums after the
fields (``direction``, ``kind``, ``status``) and clash with planning's fields of the same names.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bizops.rest import ErrorSerializer
from planning.models import ActionStep, Milestone, Objective, Plan
from planning.progress import Figure, Part
from planning.selectors import PlanTree
from planning.serializers import (
    InputSerializer,
    NamedChoiceField,
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

from .models import (
    KPI,
    CheckIn,
    Confidence,
    Direction,
    Frequency,
    KeyResult,
    KeyResultKind,
    Measurement,
    Unit,
)
from .rules import STATUS, key_result_progress, period_label
from .services import KEY_RESULT_FIELDS, KPI_FIELDS, MAX_IMPORT_BYTES, MAX_VALUE

# --- Building blocks --------------------------------------------------------------------------------


class KPIUnitField(NamedChoiceField):
    enum_name = "KPIUnitEnum"
    enum_choices = Unit.choices


class KPIDirectionField(NamedChoiceField):
    enum_name = "KPIDirectionEnum"
    enum_choices = Direction.choices


class KPIFrequencyField(NamedChoiceField):
    enum_name = "KPIFrequencyEnum"
    enum_choices = Frequency.choices


class KPIStatusField(NamedChoiceField):
    enum_name = "KPIStatusEnum"
    enum_choices = [(key, label) for key, (_, _, label) in STATUS.items()]


class KeyResultKindField(NamedChoiceField):
    enum_name = "KeyResultKindEnum"
    enum_choices = KeyResultKind.choices


class KeyResultDirectionField(NamedChoiceField):
    enum_name = "KeyResultDirectionEnum"
    enum_choices = [(Direction.INCREASE, "Increase"), (Direction.DECREASE, "Decrease")]


class ConfidenceField(NamedChoiceField):
    enum_name = "ConfidenceEnum"
    enum_choices = Confidence.choices


class CheckInTargetField(NamedChoiceField):
    enum_name = "CheckInTargetEnum"
    enum_choices = CheckIn.Target.choices


class ProgressPartKindField(NamedChoiceField):
    enum_name = "ProgressPartKindEnum"
    enum_choices = [
        ("milestone", "Milestone"),
        ("objective", "Objective"),
        ("step", "Action step"),
        ("key_result", "Key result"),
    ]


class NumberField(serializers.DecimalField):
    """A number below ``MAX_VALUE`` (10 trillion) either way: a JSON number, or a string of digits with
    an optional sign and decimals ("-1200.50"), as ``NumberExtension`` documents. DRF alone would also
    read "1_000", " 5", "1e3" or ``true``."""

    PATTERN = r"^-?[0-9]{1,13}(\.[0-9]+)?$"  # 13 digits: below 10 trillion
    default_error_messages = {"range": "Enter a number below 10 trillion."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=None, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, str) and not data.strip():
            self.fail("invalid")  # DRF reads a blank string as null for a nullable field; only null is
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and not re.fullmatch(self.PATTERN, data):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if abs(value) >= MAX_VALUE:
            self.fail("range")
        return value


class NumberExtension(OpenApiSerializerFieldExtension):
    target_class = NumberField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        bound = int(MAX_VALUE)
        return {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": -bound,
                    "exclusiveMinimum": True,
                    "maximum": bound,
                    "exclusiveMaximum": True,
                },
                {"type": "string", "pattern": NumberField.PATTERN},
            ]
        }


def number_field(**kwargs: Any) -> NumberField:
    return NumberField(**kwargs)


def decimal_output(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True, **kwargs)


def _id_filter(help_text: str) -> serializers.IntegerField:
    # Ids are 64-bit: a bigger number is a 400 here, not an overflow in the database driver (SQLite's).
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text=help_text)


# --- KPIs: output -----------------------------------------------------------------------------------
# The list and detail views set ``latest``, ``status`` and ``current_target`` on each KPI from
# ``selectors.kpi_rows`` (and ``series`` on the detail) before serializing.


class KPIStatusSerializer(serializers.Serializer):
    key = KPIStatusField(read_only=True, help_text="Green, amber, red, or none without a measurement.")
    label = serializers.CharField(read_only=True, help_text="The status in words, e.g. “At risk”.")
    reason = serializers.CharField(read_only=True, help_text="Why, e.g. “80 is below the amber line of 85.”")


class LatestMeasurementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    period = serializers.DateField(source="period_start", read_only=True, help_text="The period's first day.")
    value = decimal_output()
    recorded_at = serializers.DateTimeField(read_only=True)


class KPISerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)
    objectives = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The objectives this KPI tells about."
    )
    unit = KPIUnitField(read_only=True)
    direction = KPIDirectionField(read_only=True)
    frequency = KPIFrequencyField(read_only=True)
    latest = LatestMeasurementSerializer(
        read_only=True,
        allow_null=True,
        help_text="The newest current value up to today; null before the first.",
    )
    status = KPIStatusSerializer(read_only=True, help_text="The latest value against its period's target.")
    current_target = decimal_output(
        help_text="The target of the current period: `target`, unless a period target overrides it."
    )

    class Meta:
        model = KPI
        fields = [
            "id",
            *KPI_FIELDS,
            "objectives",
            "latest",
            "status",
            "current_target",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class KPIPointSerializer(serializers.Serializer):
    period = serializers.DateField(read_only=True, help_text="The period's first day.")
    label = serializers.CharField(read_only=True, help_text="E.g. “Mar 2027”, “Q1 2027”.")
    value = decimal_output(allow_null=True, help_text="Null when nothing was recorded for the period.")
    target = decimal_output()
    status = KPIStatusField(read_only=True, allow_null=True, help_text="Null when there is no value.")


class KPIDetailSerializer(KPISerializer):
    series = KPIPointSerializer(
        many=True, read_only=True, help_text="The last `periods` periods, oldest first."
    )

    class Meta(KPISerializer.Meta):
        fields = [*KPISerializer.Meta.fields, "series"]
        read_only_fields = fields


# --- KPIs: input ------------------------------------------------------------------------------------


# The field names are the services' keyword arguments (``KPI_FIELDS``, and the objectives it links to).
class KPIFields(InputSerializer):
    name = title_field("Give the KPI a name.", name="name")
    description = long_text_field()
    unit = KPIUnitField(required=False, help_text="`number` by default.")
    currency = serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=3,
        error_messages={"max_length": "Give the three-letter currency code, e.g. EUR."},
        help_text="The ISO code, e.g. EUR; required for a currency KPI.",
    )
    direction = KPIDirectionField()
    target = number_field(help_text="The standing target; the lower bound of a range.")
    target_upper = number_field(
        allow_null=True, required=False, help_text="The upper bound, for `within` only."
    )
    amber_threshold = number_field(
        allow_null=True,
        required=False,
        help_text="Higher is better: amber below this line (the target when unset); lower is better: above "
        "it. For a range: a distance outside it.",
    )
    red_threshold = number_field(
        allow_null=True,
        required=False,
        help_text="Red past this line (for a range: this distance outside it).",
    )
    frequency = KPIFrequencyField()
    owner = member_field(
        allow_null=True, required=False, help_text="A membership id: who records its values."
    )
    objectives = OrgScopedField(
        Objective, many=True, required=False, help_text="Ids of the objectives this KPI tells about."
    )


class KPICreateSerializer(StrictSerializer, KPIFields):
    pass


class KPIUpdateSerializer(VersionedSerializer, KPIFields):
    """Send only the fields that change."""


class KPIDetailQuerySerializer(QuerySerializer):
    periods = serializers.IntegerField(
        min_value=1, max_value=104, default=12, help_text="How many periods `series` covers, up to today."
    )


# --- Measurements -----------------------------------------------------------------------------------


class MeasurementSerializer(serializers.ModelSerializer):
    period = serializers.DateField(source="period_start", read_only=True, help_text="The period's first day.")
    label = serializers.SerializerMethodField(help_text="The period in words, e.g. “Mar 2027”.")
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)
    corrects = serializers.IntegerField(
        source="corrects_id",
        read_only=True,
        allow_null=True,
        help_text="The earlier value for the same period that this one replaced, if any.",
    )
    is_current = serializers.BooleanField(
        read_only=True, help_text="False for a value a later correction replaced (kept as history)."
    )

    class Meta:
        model = Measurement
        fields = [
            "id",
            "kpi",
            "period",
            "label",
            "value",
            "note",
            "is_current",
            "corrects",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_label(self, measurement: Measurement) -> str:
        return period_label(self.context["kpi"].frequency, measurement.period_start)


class MeasurementCreateSerializer(StrictSerializer):
    period = serializers.DateField(help_text="Any day of the period: it is rounded to the period's start.")
    value = number_field()
    note = long_text_field(2_000, what="the note")


class MeasurementFilterSerializer(QuerySerializer):
    period_from = serializers.DateField(
        required=False, help_text="Only periods that end on or after this day."
    )
    period_to = serializers.DateField(
        required=False, help_text="Only periods that start on or before this day."
    )
    include_history = serializers.BooleanField(
        default=False, help_text="Also the values that later corrections replaced (`is_current` false)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("period_from"), attrs.get("period_to")
        if start and end and end < start:
            raise serializers.ValidationError({"period_to": ["Choose a day on or after period_from."]})
        return attrs


class MeasurementImportSerializer(StrictSerializer):
    file = serializers.FileField(
        help_text="A .csv file of at most 1 MB, UTF-8, with the columns kpi (its name), period "
        "(YYYY-MM-DD), value and note."
    )

    def validate_file(self, upload: UploadedFile) -> UploadedFile:
        if not (upload.name or "").lower().endswith(".csv"):
            raise serializers.ValidationError("Upload a .csv file.")
        if upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError("The file is larger than 1 MB.")
        return upload


class MeasurementImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField(read_only=True, help_text="Rows read (the header excluded).")
    saved = serializers.IntegerField(read_only=True, help_text="Values recorded (corrections included).")


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        read_only=True, help_text="The file's line (the header is 1); 0 for the file."
    )
    message = serializers.CharField(read_only=True)


# The error body of a refused import: the usual one, with each wrong row.
class ImportErrorSerializer(ErrorSerializer):
    errors = ImportRowErrorSerializer(
        many=True,
        required=False,
        help_text="Each wrong row; nothing was saved. Absent when the file itself was refused.",
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
    kpi = serializers.PrimaryKeyRelatedField(
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
    plan = _id_filter("Only this plan's key results.")
    objective = _id_filter("Only this objective's key results.")
    owner = _id_filter(
        "Only key results this membership answers for: its own, and those without an owner on objectives it owns."
    )


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
CHECK_IN_VALUE = {
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
    plan = _id_filter("Only this plan's check-ins.")
    objective = _id_filter("Only check-ins on this objective or on its key results.")
    key_result = _id_filter("Only check-ins on this key result.")
    step = _id_filter("Only check-ins on this step.")
    author = _id_filter("Only check-ins by this user (the `author.id` of a check-in, a user id).")
    since = SinceField(
        required=False,
        help_text="Only check-ins made at or after this time (RFC 3339, with its offset), or since a day's "
        "midnight (YYYY-MM-DD).",
    )


# --- Progress ---------------------------------------------------------------------------------------


class ProgressPartSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, help_text="The part's title.")
    kind = ProgressPartKindField(read_only=True)
    node_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="The id of that node.")
    percent = serializers.IntegerField(read_only=True, help_text="0–100.")
    weight = serializers.FloatField(read_only=True, help_text="How much it counts in the figure above.")
    detail = serializers.CharField(
        read_only=True, help_text="For a step or key result: why, e.g. “done in 3 of the last 4 weeks”."
    )


class ProgressFigureSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="0–100: the weighted mean of the parts.")
    note = serializers.CharField(
        read_only=True, help_text="When the figure needs one: no parts yet, or all weights zero."
    )
    parts = ProgressPartSerializer(many=True, read_only=True)


class ObjectiveFigureSerializer(ProgressFigureSerializer):
    milestone = serializers.IntegerField(read_only=True, help_text="The milestone it counts in.")


# A ``PlanProgress`` built by ``plan_progress``.
class PlanProgressSerializer(serializers.Serializer):
    plan = ProgressFigureSerializer(read_only=True, help_text="The plan: its parts are its milestones.")
    milestones = ProgressFigureSerializer(
        many=True, read_only=True, help_text="In order; the parts of each are its objectives."
    )
    objectives = ObjectiveFigureSerializer(
        many=True, read_only=True, help_text="In order; the parts of each are its steps and key results."
    )


def _figure(node: Plan | Milestone | Objective, figure: Figure, **extra: Any) -> dict[str, Any]:
    return {
        "id": node.pk,
        "title": node.title,
        "percent": figure.percent,
        "note": figure.note,
        "parts": [_part(part) for part in figure.parts],
        **extra,
    }


def _part(part: Part) -> dict[str, Any]:
    return {
        "label": part.label,
        "kind": part.kind,
        "node_id": part.node_id,
        "percent": part.percent,
        "weight": part.weight,
        "detail": part.detail,
    }


def plan_progress(tree: PlanTree) -> dict[str, Any]:
    """The roll-up of a loaded tree (``planning.selectors.plan_tree``) as plain data, in tree order."""
    progress = tree.progress
    milestones = tree.milestones
    return {
        "plan": _figure(tree.plan, progress.plan),
        "milestones": [_figure(m, progress.milestones[m.pk]) for m in milestones],
        "objectives": [
            _figure(o, progress.objectives[o.pk], milestone=m.pk) for m in milestones for o in m.children
        ],
    }
