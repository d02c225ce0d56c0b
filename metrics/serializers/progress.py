"""A plan's progress in the API: each figure with its parts ("why N%")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from planning.models import Milestone, Objective, Plan
from planning.progress import Figure, Part
from planning.selectors import PlanTree

from .fields import ProgressPartKindField

# --- Progress ---------------------------------------------------------------------------------------


class ProgressPartSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, help_text="The part's title.")  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
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
    """The roll-up of a loaded tree (``planning.selectors.display_tree``) as plain data, in tree order."""
    progress = tree.progress
    assert progress is not None  # the tree was read with its roll-up (``with_progress``)
    milestones = tree.milestones
    return {
        "plan": _figure(tree.plan, progress.plan),
        "milestones": [_figure(m, progress.milestones[m.pk]) for m in milestones],
        "objectives": [
            _figure(o, progress.objectives[o.pk], milestone=m.pk) for m in milestones for o in m.children
        ],
    }
