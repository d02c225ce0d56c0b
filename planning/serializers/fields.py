"""Building blocks of the planning API's serializers: enum fields, ids scoped to the caller's
organization, and the input bases every request body and query string goes through."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db.models import Model, QuerySet
from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bizops.access import OrgObjects
from bizops.models import Membership
from bizops.text import clean_text

from ..models import (
    Approval,
    NodeKind,
    PlanStatus,
    PlanTransition,
    StepStatus,
)
from ..services import TRANSITIONS

# --- Building blocks --------------------------------------------------------------------------------


def _enum_ref(component: str):
    """Document a choice field as a reference to an enum component generated elsewhere in the schema.

    Plans and steps both have a ``status`` with different choices. drf-spectacular names such enums
    after their component (``PlanStatusEnum``, ``StepStatusEnum``) only when each choice set appears
    in a single component, and warns otherwise; so the enum is written out once (on ``Plan`` and
    ``Step``) and every other status field points at it. ``test_api.py`` checks the references resolve.
    """
    return extend_schema_field({"$ref": f"#/components/schemas/{component}"})


@_enum_ref("PlanStatusEnum")
class PlanStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PlanStatus.choices, **kwargs)


@_enum_ref("StepStatusEnum")
class StepStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=StepStatus.choices, **kwargs)


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as one named enum component (``enum_name``) wherever it is used.

    drf-spectacular otherwise names an enum after the fields that use it, and warns (failing
    ``--fail-on-warn``) as soon as another app uses a field of the same name with other choices;
    a component registered under a fixed name is immune to that. See ``NamedChoiceExtension``.
    """

    enum_name: ClassVar[str]
    enum_choices: ClassVar[list[tuple[str, str]]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.enum_choices, **kwargs)


class NamedChoiceExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        choices = self.target.enum_choices
        return {
            "type": "string",
            "enum": [value for value, _ in choices],
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
        }


class PlanActionField(NamedChoiceField):
    enum_name = "PlanActionEnum"
    enum_choices = [(action, PlanTransition.LABELS.get(action, action)) for action in TRANSITIONS]


class ApprovalDecisionField(NamedChoiceField):
    enum_name = "ApprovalDecisionEnum"
    enum_choices = Approval.Decision.choices


class PlanNodeKindField(NamedChoiceField):
    enum_name = "PlanNodeKindEnum"
    enum_choices = NodeKind.choices


class BaselineChangeField(NamedChoiceField):
    enum_name = "BaselineChangeEnum"
    enum_choices = [
        ("added", "Added"),
        ("removed", "Removed"),
        ("moved", "Moved (to another parent, or reordered)"),
        ("changed", "Changed fields"),
    ]


class OrgScopedField(serializers.PrimaryKeyRelatedField):
    """An id looked up among the caller's organization's rows only.

    Another organization's id is "does not exist", exactly like a missing one, so ids never leak
    across tenants. The organization comes from the serializer's context; without it nothing matches.
    """

    def __init__(self, model: type[Model], *, related: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.related = related
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> QuerySet:
        organization = self.context.get("organization")
        queryset = super().get_queryset()
        assert queryset is not None  # given in ``__init__``
        if organization is None:
            return queryset.none()
        return _with_related(queryset.filter(organization=organization), self.related)

    def to_internal_value(self, data: Any) -> Model:
        """DRF's lookup (``queryset.get(pk=data)``, the same errors), through a query compiled once
        per model and related rows: a check-in's key result is looked up on every check-in."""
        organization = self.context.get("organization")
        if organization is None or self.pk_field is not None:
            return super().to_internal_value(data)
        assert self.queryset is not None  # given in ``__init__``
        model = self.queryset.model
        try:
            # (``null`` inside a list of ids reaches here: DRF checks emptiness of the list only.)
            if isinstance(data, bool) or data is None:
                raise TypeError
            pk = model._meta.pk.get_prep_value(data)
        except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 in JSON is infinity
            self.fail("incorrect_type", data_type=type(data).__name__)
        related = self.related
        if (model, related) not in _SCOPED_LOOKUPS:
            _SCOPED_LOOKUPS[model, related] = OrgObjects(
                lambda: _with_related(model._default_manager.all(), related)
            )
        obj = _SCOPED_LOOKUPS[model, related].get(organization, pk)
        if obj is None:
            self.fail("does_not_exist", pk_value=data)
        return obj


_SCOPED_LOOKUPS: dict[tuple, OrgObjects] = {}


def _with_related(queryset: QuerySet, related: tuple[str, ...]) -> QuerySet:
    # Never select_related() without names: that joins every non-null foreign key, recursively.
    return queryset.select_related(*related) if related else queryset


def member_field(**kwargs: Any) -> OrgScopedField:
    return OrgScopedField(Membership, related=("user",), **kwargs)


# --- Input: the shared base --------------------------------------------------------------------------
# Every request body and query string goes through ``InputSerializer``: the wire format is checked as
# the schema states it (a JSON string for text, a JSON integer for a number or an id, dates as
# YYYY-MM-DD), so a value the schema refuses is never read leniently (DRF alone would take ``5`` for a
# title, ``"5"`` or ``5.0`` for an id, ``2027-1-1`` for a date). Text goes through ``bizops.text``:
# control characters are refused with a field error, multi-line text has its line ends normalized.


class TextField(serializers.CharField):
    """Multi-line text (descriptions, notes, comments): CRLF and CR become LF, other controls are refused.
    A plain ``CharField`` in an input serializer is single-line: no control character but tab."""


# The characters ``clean_text`` refuses, as a character class that JSON Schema (ECMA), Python and Rust
# regular expressions read alike; a carriage return is allowed in multi-line text, which turns it into LF.
LINE_CONTROLS = r"\u0000-\u0008\u000a-\u001f\u007f"
TEXT_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"


def text_pattern(*, multiline: bool, blank: bool) -> str:
    """Non-empty text that ``clean_text`` accepts; without ``blank``, with a character that is not a space
    (DRF refuses text that is only spaces as blank).

    Never the empty string: for a field that allows it, drf-spectacular adds ``""`` as a ``oneOf``
    branch of its own, which a pattern matching it too would make ambiguous (so invalid).
    """
    controls = TEXT_CONTROLS if multiline else LINE_CONTROLS
    if blank:
        return rf"^[^{controls}]+$"
    return rf"^[^{controls}]*[^{controls}\s][^{controls}]*$"


_INTEGER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 (what ``format: date-time`` means: with its offset), or a date for its midnight.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?"
)


# (Comments, not docstrings, on the bases: drf-spectacular would show them as every body's description.)
class InputSerializer(serializers.Serializer):
    # Values arrive as JSON (types matter) or as text (query strings and the import form: all strings).
    json_types: bool = True

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            # The schema's ``pattern`` (drf-spectacular reads it from the validator) is what ``clean_text``
            # and the blank check accept; ``wire_value`` refuses the rest before the validator runs.
            if (
                isinstance(field, serializers.CharField)
                and not field.read_only
                and not any(isinstance(v, RegexValidator) for v in field.validators)
            ):
                pattern = text_pattern(multiline=isinstance(field, TextField), blank=field.allow_blank)
                field.validators = [*field.validators, RegexValidator(pattern)]
        return fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "Expected a dictionary" error
        errors: dict[str, Any] = {}
        checked = dict(data)
        if isinstance(data, QueryDict):  # a form: a shallow copy (``copy()`` would deep-copy the files)
            checked = QueryDict(mutable=True)
            for name, values in data.lists():
                checked.setlist(name, values)
        for name, field in self.fields.items():
            if field.read_only or name not in data:
                continue
            try:
                checked[name] = self.wire_value(field, data[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
                del checked[name]  # left out, so the field's own check does not add a second message
        try:
            value = super().to_internal_value(checked)
        except serializers.ValidationError as exc:
            # A serializer's own errors are per field: a dict (the data is a mapping, checked above).
            raise serializers.ValidationError({**cast("dict[str, Any]", exc.detail), **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def wire_value(self, field: serializers.Field, value: Any) -> Any:
        """``value`` as the field may read it (text cleaned), or the field's own error for a value of
        another type or format than the schema states."""
        if value is None:
            return value  # the field's ``allow_null`` decides
        as_json = self.json_types
        if isinstance(field, serializers.ManyRelatedField):
            if not as_json:
                return value
            if not isinstance(value, list):
                field.fail("not_a_list", input_type=type(value).__name__)
            child = field.child_relation
            if any(item is None for item in value):
                child.fail("incorrect_type", data_type="null")
            return [self.wire_value(child, item) for item in value]
        if isinstance(field, serializers.CharField):
            return self.wire_text(field, value)
        if isinstance(field, serializers.ChoiceField) and as_json and not isinstance(value, str):
            field.fail("invalid_choice", input=value)
        if isinstance(field, serializers.BooleanField) and not (
            isinstance(value, bool) if as_json else value in ("true", "false")
        ):
            field.fail("invalid", input=value)
        if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField) and (
            isinstance(value, bool)
            or not (
                isinstance(value, int) if as_json else isinstance(value, str) and _INTEGER.fullmatch(value)
            )
        ):
            if isinstance(field, serializers.IntegerField):
                field.fail("invalid")
            field.fail("incorrect_type", data_type=type(value).__name__)
        if isinstance(field, serializers.DateTimeField):
            # RFC 3339 allows a lower-case t and z, which Django does not read.
            value = value.upper() if isinstance(value, str) else value
            if not (isinstance(value, str) and _DATE_TIME.fullmatch(value)):
                field.fail("invalid", format="YYYY-MM-DDThh:mm:ss[.uuuuuu](Z|+HH:MM|-HH:MM), or YYYY-MM-DD")
        if isinstance(field, serializers.DateField) and not (
            isinstance(value, str) and _DATE.fullmatch(value)
        ):
            field.fail("invalid", format="YYYY-MM-DD")
        return value

    def wire_text(self, field: serializers.CharField, value: Any) -> str:
        if not isinstance(value, str):
            field.fail("invalid")
        try:
            value = clean_text(value, multiline=isinstance(field, TextField))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        # The limit holds for what is sent, as the schema's ``maxLength`` says (DRF counts after trimming).
        if field.max_length is not None and len(value) > field.max_length:
            field.fail("max_length", max_length=field.max_length)
        return value


# A request body. Refuses fields it does not know, so a typo or a read-only field is an error, not a
# silent no-op; the schema says so (``additionalProperties: false``, ``strict_request_bodies``).
# ``body_schema``: what ``validate`` requires of the fields together, in JSON Schema, added to the
# request body's schema (e.g. "a direction or a position, not both").
class StrictSerializer(InputSerializer):
    body_schema: ClassVar[dict[str, Any]] = {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be set here."] for name in sorted(unknown)}
            )
        return attrs

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # A form (multipart) body has text values only; a JSON body has types.
        self.json_types = not isinstance(data, QueryDict)
        return super().to_internal_value(data)


# Query parameters: every value is text, each parameter is sent once, and one sent empty is a value
# like any other (DRF would read ``?status=`` as "no filter"). Unknown parameters are ignored
# (``limit``, ``offset`` and ``format`` are read elsewhere).
class QuerySerializer(InputSerializer):
    json_types = False

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, QueryDict):
            # A ``BindingDict`` iterates its names, as any mapping (the stubs say fields).
            names = cast(Iterable[str], self.fields)
            repeated = {name: ["Send this parameter once."] for name in names if len(data.getlist(name)) > 1}
            if repeated:
                raise serializers.ValidationError(repeated)
            data = data.dict()
        return super().to_internal_value(data)


# ErrorSerializer and ConflictErrorSerializer (the error bodies) live in the core: ``bizops.rest``.
