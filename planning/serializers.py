"""Input and output shapes of the planning API.

Input serializers check only the shape of a request (types, required fields, ids that exist *in the
caller's organization*) and hand plain values to a service; the services hold the rules and their
messages ("Give it a title.", "Choose a date inside the plan's period"). Output serializers read
objects that were loaded with their people, so a list or a tree costs no query per row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db.models import Model, QuerySet
from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bizops.access import OrgObjects
from bizops.models import Membership, Team
from bizops.text import clean_text

from .baselines import FIELDS as SNAPSHOT_FIELDS
from .models import (
    ActionStep,
    Approval,
    Baseline,
    Milestone,
    NodeKind,
    Objective,
    ObjectiveScore,
    Plan,
    PlanStatus,
    PlanTransition,
    Recurrence,
    StepStatus,
)
from .selectors import PERIOD_FILTERS
from .services import TRANSITIONS

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
        if organization is None:
            return queryset.none()
        return _with_related(queryset.filter(organization=organization), self.related)

    def to_internal_value(self, data: Any) -> Model:
        """DRF's lookup (``queryset.get(pk=data)``, the same errors), through a query compiled once
        per model and related rows: a check-in's key result is looked up on every check-in."""
        organization = self.context.get("organization")
        if organization is None or self.pk_field is not None:
            return super().to_internal_value(data)
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
            raise serializers.ValidationError({**exc.detail, **errors}) from None
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
            repeated = {
                name: ["Send this parameter once."] for name in self.fields if len(data.getlist(name)) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
            data = data.dict()
        return super().to_internal_value(data)


# ErrorSerializer and ConflictErrorSerializer (the error bodies) live in the core: ``bizops.rest``.


# --- Output -----------------------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="The membership id.")
    name = serializers.CharField(source="display_name", read_only=True)


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


PLAN_OUTPUT_FIELDS = [
    "id",
    "title",
    "ultimate_goal",
    "description",
    "period_start",
    "period_end",
    "status",
    "owner",
    "version",
    "created_at",
    "updated_at",
]


class PlanSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Plan
        fields = PLAN_OUTPUT_FIELDS
        read_only_fields = PLAN_OUTPUT_FIELDS


class PlanListItemSerializer(PlanSerializer):
    status = PlanStatusField(read_only=True)
    milestone_count = serializers.IntegerField(read_only=True)
    objective_count = serializers.IntegerField(read_only=True)
    step_count = serializers.IntegerField(read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PLAN_OUTPUT_FIELDS, "milestone_count", "objective_count", "step_count"]


NODE_OUTPUT_TAIL = ["position", "version", "created_at", "updated_at"]


class MilestoneSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Milestone
        fields = ["id", "plan", "title", "description", "target_date", "owner", "weight", *NODE_OUTPUT_TAIL]
        read_only_fields = fields


class ObjectiveSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)
    team = TeamRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Objective
        fields = [
            "id",
            "plan",
            "milestone",
            "title",
            "description",
            "why",
            "start_date",
            "due_date",
            "team",
            "owner",
            "weight",
            *NODE_OUTPUT_TAIL,
        ]
        read_only_fields = fields


class StepSerializer(serializers.ModelSerializer):
    assignee = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ActionStep
        fields = [
            "id",
            "plan",
            "objective",
            "title",
            "notes",
            "assignee",
            "due_date",
            "recurrence",
            "status",
            "completed_at",
            *NODE_OUTPUT_TAIL,
        ]
        read_only_fields = fields


# --- The tree: one plan with everything under it and the roll-up ----------------------------------
# The context carries the ``PlanTree`` from ``selectors.plan_tree``; nodes carry ``.children``.


def _tree_fields(fields: list[str], *drop: str) -> list[str]:
    return [name for name in fields if name not in drop]


class TreeStepSerializer(StepSerializer):
    status = StepStatusField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent done (0–100).")
    progress_detail = serializers.SerializerMethodField(
        help_text='Why, e.g. "done in 3 of the last 4 weeks".'
    )
    done_this_period = serializers.BooleanField(
        read_only=True, help_text="For a recurring step: checked off for the current day, week or month."
    )

    class Meta(StepSerializer.Meta):
        fields = [
            *_tree_fields(StepSerializer.Meta.fields, "plan", "objective", "created_at", "updated_at"),
            "progress",
            "progress_detail",
            "done_this_period",
        ]
        read_only_fields = fields

    def get_progress(self, step: ActionStep) -> int:
        return self.context["tree"].progress.steps[step.pk].percent

    def get_progress_detail(self, step: ActionStep) -> str:
        return self.context["tree"].progress.steps[step.pk].detail


class TreeObjectiveSerializer(ObjectiveSerializer):
    progress = serializers.SerializerMethodField(help_text="Percent done (0–100), rolled up from the steps.")
    steps = TreeStepSerializer(source="children", many=True, read_only=True)

    class Meta(ObjectiveSerializer.Meta):
        fields = [
            *_tree_fields(ObjectiveSerializer.Meta.fields, "plan", "milestone", "created_at", "updated_at"),
            "progress",
            "steps",
        ]
        read_only_fields = fields

    def get_progress(self, objective: Objective) -> int:
        return self.context["tree"].progress.objectives[objective.pk].percent


class TreeMilestoneSerializer(MilestoneSerializer):
    progress = serializers.SerializerMethodField(
        help_text="Percent done (0–100), weighted over the objectives."
    )
    objectives = TreeObjectiveSerializer(source="children", many=True, read_only=True)

    class Meta(MilestoneSerializer.Meta):
        fields = [
            *_tree_fields(MilestoneSerializer.Meta.fields, "plan", "created_at", "updated_at"),
            "progress",
            "objectives",
        ]
        read_only_fields = fields

    def get_progress(self, milestone: Milestone) -> int:
        return self.context["tree"].progress.milestones[milestone.pk].percent


class PlanTreeSerializer(PlanSerializer):
    status = PlanStatusField(read_only=True)
    progress = serializers.SerializerMethodField(
        help_text="Percent done (0–100), weighted over the milestones."
    )
    milestones = serializers.SerializerMethodField()

    class Meta(PlanSerializer.Meta):
        fields = [*PLAN_OUTPUT_FIELDS, "progress", "milestones"]
        read_only_fields = fields

    def get_progress(self, plan: Plan) -> int:
        return self.context["tree"].progress.plan.percent

    @extend_schema_field(TreeMilestoneSerializer(many=True))
    def get_milestones(self, plan: Plan) -> list[dict]:
        return TreeMilestoneSerializer(self.context["tree"].milestones, many=True, context=self.context).data


def tree_representation(plan: Plan, tree) -> dict[str, Any]:
    """``PlanTreeSerializer(plan).data``, built by hand: the same JSON, four times faster on big plans.

    ``PlanTreeSerializer`` stays the schema (drf-spectacular reads it) and the reference:
    ``tests/planning/test_api.py`` checks that both give the same output. Running a ModelSerializer
    per node costs ~25 µs each; a 5,000-step tree spent more time there than in its queries.
    Steps may be ``StepRow``s or model instances.
    """
    when = serializers.DateTimeField().to_representation
    rollup = tree.progress

    def day(value):
        return value.isoformat() if value is not None else None

    def person(membership):
        return {"id": membership.pk, "name": membership.display_name} if membership is not None else None

    def step(node) -> dict[str, Any]:
        part = rollup.steps[node.pk]
        assignee_name = getattr(node, "assignee_name", None)
        if assignee_name is None:  # a model instance
            assignee = person(node.assignee)
        else:
            assignee = {"id": node.assignee_id, "name": assignee_name} if node.assignee_id else None
        return {
            "id": node.pk,
            "title": node.title,
            "notes": node.notes,
            "assignee": assignee,
            "due_date": day(node.due_date),
            "recurrence": node.recurrence,
            "status": node.status,
            "completed_at": when(node.completed_at) if node.completed_at is not None else None,
            "position": node.position,
            "version": node.version,
            "progress": part.percent,
            "progress_detail": part.detail,
            "done_this_period": node.done_this_period,
        }

    def objective(node) -> dict[str, Any]:
        return {
            "id": node.pk,
            "title": node.title,
            "description": node.description,
            "why": node.why,
            "start_date": day(node.start_date),
            "due_date": day(node.due_date),
            "team": {"id": node.team.pk, "name": node.team.name} if node.team is not None else None,
            "owner": person(node.owner),
            "weight": node.weight,
            "position": node.position,
            "version": node.version,
            "progress": rollup.objectives[node.pk].percent,
            "steps": [step(child) for child in node.children],
        }

    def milestone(node) -> dict[str, Any]:
        return {
            "id": node.pk,
            "title": node.title,
            "description": node.description,
            "target_date": day(node.target_date),
            "owner": person(node.owner),
            "weight": node.weight,
            "position": node.position,
            "version": node.version,
            "progress": rollup.milestones[node.pk].percent,
            "objectives": [objective(child) for child in node.children],
        }

    data = dict(PlanSerializer(plan).data)
    data["progress"] = rollup.plan.percent
    data["milestones"] = [milestone(node) for node in tree.milestones]
    return data


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
    messages = {"max_length": f"Keep {what} under {limit:,} characters."} if limit else {}
    return TextField(allow_blank=True, required=False, max_length=limit, error_messages=messages, **kwargs)


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


class PlanCreateSerializer(StrictSerializer):
    title = title_field("Give the plan a title.")
    ultimate_goal = TextField(
        error_messages={"blank": PLAN_GOAL_BLANK}, help_text="The vision this plan serves."
    )
    description = long_text_field()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    owner = member_field(required=False, allow_null=True, help_text="A membership id; you by default.")


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
    status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
    period = serializers.ChoiceField(
        choices=list(PERIOD_FILTERS.items()), required=False, help_text="Relative to today."
    )


def _id_filter(help_text: str) -> serializers.IntegerField:
    # Ids are 64-bit: a bigger number is a 400 here, not an overflow in the database driver (SQLite's).
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text=help_text)


class MilestoneFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's milestones.")


class ObjectiveFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's objectives.")
    milestone = _id_filter("Only this milestone's objectives.")
    team = _id_filter("Only objectives owned by this team.")
    owner = _id_filter("Only objectives owned by this membership.")


class StepFilterSerializer(QuerySerializer):
    plan = _id_filter("Only this plan's steps.")
    objective = _id_filter("Only this objective's steps.")
    assignee = _id_filter("Only steps assigned to this membership.")
    status = serializers.ChoiceField(choices=StepStatus.choices, required=False)
    due_before = serializers.DateField(required=False, help_text="Due on or before this day.")
    due_after = serializers.DateField(required=False, help_text="Due on or after this day.")


# --- The life cycle: review, approval, baselines, scores -------------------------------------------
# People in the audit trail (who submitted, who moved the plan, who scored) are users, not memberships:
# the record outlives a membership. Approvers are memberships, like every other person in this API.


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="The user id (not a membership id).")
    name = serializers.CharField(source="display_name", read_only=True)


PLAN_REVIEW_FIELDS = ["review_round", "submitted_by", "submitted_at"]


class PlanInReviewSerializer(PlanSerializer):
    status = PlanStatusField(read_only=True)
    review_round = serializers.IntegerField(
        read_only=True, help_text="How many times it was submitted; 0 before the first time."
    )
    submitted_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PLAN_OUTPUT_FIELDS, *PLAN_REVIEW_FIELDS]
        read_only_fields = fields


# Set ``allowed_actions`` on the plan first (``selectors.plan_actions_for``). Docstrings of output
# serializers would show in the schema as the components' descriptions, hence comments here.
class PlanStateSerializer(PlanInReviewSerializer):
    allowed_actions = serializers.ListField(
        child=PlanActionField(),
        read_only=True,
        help_text="The moves you may make now, each at `actions/<action>/`.",
    )

    class Meta(PlanInReviewSerializer.Meta):
        fields = [*PLAN_OUTPUT_FIELDS, *PLAN_REVIEW_FIELDS, "activated_at", "closed_at", "allowed_actions"]
        read_only_fields = fields


class PlanTransitionSerializer(serializers.ModelSerializer):
    action = PlanActionField(read_only=True)
    label = serializers.CharField(source="action_label", read_only=True)
    from_status = PlanStatusField(read_only=True)
    to_status = PlanStatusField(
        read_only=True, help_text="The same as `from_status` for an approval that was not the last needed."
    )
    actor = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PlanTransition
        fields = ["id", "action", "label", "from_status", "to_status", "actor", "comment", "created_at"]
        read_only_fields = fields


# Input of the moves.


class PlanActionSerializer(StrictSerializer):
    comment = long_text_field(help_text="Kept in the plan's history.")


class PlanSubmitSerializer(PlanActionSerializer):
    approvers = member_field(
        many=True,
        required=False,
        help_text=(
            "Membership ids of the managers, admins or owners who review it (not you). By default all of "
            "them; at least the organization's `approvals_required`."
        ),
    )

    def validate_approvers(self, value: list[Membership]) -> list[Membership]:
        return list(dict.fromkeys(value))  # each once, in the order given


class PlanApproveSerializer(PlanActionSerializer):
    seen = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        help_text="The review's `digest` you decided on. Recommended: if the plan changed since, the "
        "approval is refused (409) and nothing is recorded.",
        error_messages={"invalid": "Send the `digest` of the review you read."},
    )


class PlanRequestChangesSerializer(StrictSerializer):
    comment = TextField(
        error_messages={"blank": "Say what should change: a comment is required."},
        help_text="What should change (required).",
    )


# The review


class ReadinessProblemSerializer(serializers.Serializer):
    kind = PlanNodeKindField(read_only=True)
    node_id = serializers.IntegerField(read_only=True, help_text="The plan's id when `kind` is `plan`.")
    title = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField(read_only=True, help_text="No blocking problem: it can be submitted.")
    blocking = ReadinessProblemSerializer(many=True, read_only=True, help_text="Fix these to submit.")
    warnings = ReadinessProblemSerializer(many=True, read_only=True, help_text="Worth a look; not blocking.")


# A ``PlanApprover`` with ``.decision`` (an ``Approval`` or None), as ``selectors.review_state`` gives.
class ReviewApproverSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="membership.pk", read_only=True, help_text="The membership id.")
    name = serializers.CharField(source="membership.user.display_name", read_only=True)
    decision = ApprovalDecisionField(
        source="decision.decision", read_only=True, allow_null=True, help_text="Null until they decide."
    )
    comment = serializers.CharField(source="decision.comment", read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(source="decision.created_at", read_only=True, allow_null=True)


class BaselineSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(read_only=True, help_text="The round of review that approved it.")

    class Meta:
        model = Baseline
        fields = ["number", "approved_at", "round"]
        read_only_fields = fields


def _before_after(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        read_only=True,
        help_text=help_text,
    )


class BaselineNodeChangeSerializer(serializers.Serializer):
    change = BaselineChangeField(read_only=True)
    kind = PlanNodeKindField(read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True, help_text="Its title now (or when it was removed).")
    fields = _before_after("For `changed`: `[before, after]` per field.")
    detail = serializers.CharField(
        read_only=True, help_text="For `moved`: from which parent to which, or `reordered`."
    )


# A ``planning.baselines.Diff``.
class BaselineDiffSerializer(serializers.Serializer):
    is_empty = serializers.BooleanField(read_only=True)
    plan_fields = _before_after("The plan's own fields that changed: `[before, after]` per field.")
    changes = BaselineNodeChangeSerializer(
        many=True, read_only=True, help_text="Removed, then added, moved and changed nodes."
    )


# A ``selectors.PlanReview``.
class PlanReviewSerializer(serializers.Serializer):
    plan = PlanStateSerializer(read_only=True)
    readiness = ReadinessSerializer(read_only=True)
    approvals_required = serializers.IntegerField(
        read_only=True, help_text="How many approvals the organization needs."
    )
    approved_count = serializers.IntegerField(read_only=True, help_text="Approvals so far in this round.")
    approvers = ReviewApproverSerializer(
        many=True, read_only=True, help_text="Who was asked in the latest round, and what they decided."
    )
    baseline = BaselineSerializer(read_only=True, allow_null=True, help_text="The latest baseline, if any.")
    diff = BaselineDiffSerializer(
        read_only=True,
        allow_null=True,
        help_text="How the plan differs from the latest baseline; null before its first approval.",
    )
    digest = serializers.CharField(
        read_only=True,
        help_text="Names the content shown here. Send it back as `seen` when approving: if the plan "
        "changed since, the approval is refused (409) and nothing is recorded.",
    )
    requested_round = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The last round in which approvers asked for changes (since the last approval), if any.",
    )
    since_request = BaselineDiffSerializer(
        read_only=True,
        allow_null=True,
        help_text="On a resubmission: what changed since the round in which changes were requested.",
    )
    since_submitted = BaselineDiffSerializer(
        read_only=True,
        allow_null=True,
        help_text="In review: what changed since this round was submitted (e.g. a linked KPI's lines).",
    )


# Baselines: the stored snapshot (``planning.baselines.snapshot``), documented


class SnapshotPlanSerializer(serializers.Serializer):
    title = serializers.CharField(read_only=True)
    ultimate_goal = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    period_start = serializers.DateField(read_only=True)
    period_end = serializers.DateField(read_only=True)
    owner = serializers.CharField(read_only=True, allow_null=True, help_text="The owner's name then.")


class SnapshotNodeSerializer(serializers.Serializer):
    kind = PlanNodeKindField(read_only=True)
    id = serializers.IntegerField(read_only=True)
    parent = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The milestone or objective above it; null for a milestone.",
    )
    position = serializers.IntegerField(read_only=True)
    fields = serializers.DictField(
        child=serializers.JSONField(),
        read_only=True,
        help_text="As approved; people and teams by name. "
        + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in SNAPSHOT_FIELDS.items())
        + ".",
    )


class SnapshotSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True, help_text="The snapshot format's version.")
    plan = SnapshotPlanSerializer(read_only=True)
    nodes = SnapshotNodeSerializer(
        many=True, read_only=True, help_text="Milestones, each followed by its objectives and their steps."
    )


class BaselineDetailSerializer(BaselineSerializer):
    snapshot = SnapshotSerializer(read_only=True)

    class Meta(BaselineSerializer.Meta):
        fields = [*BaselineSerializer.Meta.fields, "snapshot"]
        read_only_fields = fields


class BaselineDiffQuerySerializer(QuerySerializer):
    to = serializers.RegexField(
        r"^(current|[1-9][0-9]*)$",
        default="current",
        help_text="Compare with `current` (the plan today; the default) or with another baseline's number.",
    )


# Workload


# A ``selectors.WorkloadRow``.
class WorkloadMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="membership.pk", read_only=True, help_text="The membership id.")
    name = serializers.CharField(source="membership.user.display_name", read_only=True)
    open = serializers.IntegerField(
        read_only=True, help_text="One-off steps not done, in plans that are not closed."
    )
    overdue = serializers.IntegerField(read_only=True, help_text="Of those, due before `today`.")
    blocked = serializers.IntegerField(read_only=True, help_text="Of those, blocked.")


# A ``(team, rows)`` pair of ``selectors.team_workload``.
class WorkloadTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    members = WorkloadMemberSerializer(many=True, read_only=True)

    def to_representation(self, instance: tuple) -> dict[str, Any]:
        team, rows = instance
        return super().to_representation({"id": team.pk, "name": team.name, "members": rows})


class WorkloadSerializer(serializers.Serializer):
    today = serializers.DateField(read_only=True, help_text="The day `overdue` counts from.")
    teams = WorkloadTeamSerializer(many=True, read_only=True)


# Scores at the close of a cycle


class ObjectiveScoreSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(read_only=True, allow_null=True, help_text="0–100; null until scored.")
    scored_by = UserRefSerializer(read_only=True, allow_null=True)
    scored_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = ObjectiveScore
        fields = ["objective", "plan", "score", "reflection", "scored_by", "scored_at"]
        read_only_fields = fields


SCORE_RANGE = "Give a score from 0 to 100."


class ObjectiveScoreSetSerializer(StrictSerializer):
    score = serializers.IntegerField(
        min_value=0,
        max_value=100,
        error_messages={"min_value": SCORE_RANGE, "max_value": SCORE_RANGE},
        help_text="0–100: how much of the objective was achieved.",
    )
    reflection = long_text_field(5_000, what="the reflection", help_text="What was learned.")
