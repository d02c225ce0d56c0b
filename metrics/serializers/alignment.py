"""Alignment in the API: what an objective serves, the picker's options, the link to set."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import serializers

from planning.serializers.fields import NamedChoiceField, QuerySerializer, StrictSerializer

from ..services.alignment import TARGET_KINDS


class AlignmentTargetKindField(NamedChoiceField):
    enum_name = "AlignmentTargetKind"
    enum_choices: ClassVar[list[tuple[str, str]]] = [(k, v.capitalize()) for k, v in TARGET_KINDS.items()]


class AlignmentSetSerializer(StrictSerializer):
    target_kind = AlignmentTargetKindField(
        help_text="What it serves: a milestone, an objective or a key result."
    )
    target_id = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="Its id: a node of the plan this objective's plan serves (`parent`). Another plan's "
        "node, one of this plan, or another organization's answers 400 with the reason.",
    )
    counts = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Whether this objective's progress counts in that node's figure (true by default); "
        "false shows it beside the figure only.",
    )


class AlignmentTargetSerializer(serializers.Serializer):
    kind = AlignmentTargetKindField(read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    plan_id = serializers.IntegerField(read_only=True)
    plan_title = serializers.CharField(read_only=True)
    # DRF's metaclass takes declared fields off the class, so these names do not shadow ``Field``'s.
    label = serializers.CharField(read_only=True, help_text="How pages say it.")  # type: ignore[assignment]


class AlignmentSerializer(serializers.Serializer):
    objective = serializers.IntegerField(read_only=True)
    serves = AlignmentTargetSerializer(read_only=True, allow_null=True, help_text="Null: it serves nothing.")
    counts = serializers.BooleanField(read_only=True, allow_null=True)


class AlignmentOptionSerializer(serializers.Serializer):
    kind = AlignmentTargetKindField(read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    context = serializers.CharField(read_only=True, help_text="Where it sits in the parent plan.")  # type: ignore[assignment]


class AlignmentOptionQuerySerializer(QuerySerializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Words of the title; all options without."
    )
