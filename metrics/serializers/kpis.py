"""KPIs and their measurements in the API: outputs, inputs, filters and CSV imports."""

from __future__ import annotations

from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from rest_framework import serializers

from bizops.rest import ErrorSerializer
from bizops.search_api import search_filter
from planning.models import Objective
from planning.serializers import (
    InputSerializer,
    OrgScopedField,
    PersonSerializer,
    QuerySerializer,
    StrictSerializer,
    UserRefSerializer,
    VersionedSerializer,
    long_text_field,
    member_field,
    title_field,
)

from ..models import (
    KPI,
    Measurement,
)
from ..rules import period_label
from ..services import KPI_FIELDS, MAX_IMPORT_BYTES
from .fields import (
    KPIDirectionField,
    KPIFrequencyField,
    KPIStatusField,
    KPIUnitField,
    decimal_output,
    number_field,
)

# --- KPIs: output -----------------------------------------------------------------------------------
# The list and detail views set ``latest``, ``status`` and ``current_target`` on each KPI from
# ``selectors.kpi_rows`` (and ``series`` on the detail) before serializing.


class KPIStatusSerializer(serializers.Serializer):
    key = KPIStatusField(read_only=True, help_text="Green, amber, red, or none without a measurement.")
    label = serializers.CharField(read_only=True, help_text="The status in words, e.g. “At risk”.")  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
    reason = serializers.CharField(read_only=True, help_text="Why, e.g. “80 is below the amber line of 85.”")


class LatestMeasurementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    period = serializers.DateField(source="period_start", read_only=True, help_text="The period's first day.")
    value = decimal_output()
    recorded_at = serializers.DateTimeField(read_only=True)


class KPISerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)
    objectives: serializers.PrimaryKeyRelatedField[Objective] = serializers.PrimaryKeyRelatedField(
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
    label = serializers.CharField(read_only=True, help_text="E.g. “Mar 2027”, “Q1 2027”.")  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
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


class KPIFilterSerializer(QuerySerializer):
    q = search_filter("KPIs whose name or description holds")


class KPIDetailQuerySerializer(QuerySerializer):
    periods = serializers.IntegerField(
        min_value=1, max_value=104, default=12, help_text="How many periods `series` covers, up to today."
    )


# --- Measurements -----------------------------------------------------------------------------------


class MeasurementSerializer(serializers.ModelSerializer):
    period = serializers.DateField(source="period_start", read_only=True, help_text="The period's first day.")
    label = serializers.SerializerMethodField(help_text="The period in words, e.g. “Mar 2027”.")  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
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
        if cast(int, upload.size) > MAX_IMPORT_BYTES:  # an uploaded file always has its size
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
    errors = ImportRowErrorSerializer(  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
        many=True,
        required=False,
        help_text="Each wrong row; nothing was saved. Absent when the file itself was refused.",
    )
