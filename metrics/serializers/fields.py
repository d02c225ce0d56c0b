"""The metrics API's building blocks: named choice fields and numbers (with their schema)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from planning.serializers import (
    NamedChoiceField,
)

from ..models import (
    CheckIn,
    Confidence,
    Direction,
    Frequency,
    KeyResultKind,
    Unit,
)
from ..rules import STATUS
from ..services import MAX_VALUE

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
        ("contribution", "A team objective serving this node (alignment)"),
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


def id_filter(help_text: str) -> serializers.IntegerField:
    # Ids are 64-bit: a bigger number is a 400 here, not an overflow in the database driver (SQLite's).
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text=help_text)
