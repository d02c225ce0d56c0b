"""A plan's progress in the API: each figure with its parts ("why N%")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from planning.models import Milestone, Objective, Plan
from planning.progress import Figure, Part
from planning.selectors import PlanTree

from ..forecast import Forecast
from ..selectors.history import PlanHistory
from .fields import ProgressPartKindField

# --- Progress ---------------------------------------------------------------------------------------


class ProgressPartSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, help_text="The part's title.")  # type: ignore[assignment]  # a field named like a serializer attribute: DRF's metaclass moves it off the class
    kind = ProgressPartKindField(read_only=True)
    node_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="The id of that node.")
    plan_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="For a contribution: the plan of the team objective (``node_id``) serving this node.",
    )
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
        "plan_id": part.plan_id,
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


# --- Progress over time -------------------------------------------------------------------------------


class ForecastSerializer(serializers.Serializer):
    percent = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Where it lands by its due date, 0–100; null without a forecast.",
    )
    due = serializers.DateField(read_only=True, allow_null=True)
    rule = serializers.CharField(
        read_only=True,
        help_text="The rule in words, e.g. “At the pace of the last 4 weeks: 72% by 30 Jun.”, or why there is "
        "no forecast (not begun, less than a week of history, past its due date).",
    )


class HistoryPointSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True)
    percent = serializers.IntegerField(read_only=True)


class KeyResultForecastSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    forecast = ForecastSerializer(read_only=True)


class ObjectiveForecastSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    milestone = serializers.IntegerField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    expected_percent = serializers.IntegerField(
        read_only=True,
        help_text="Where it should stand today: a straight line from its start to its due date.",
    )
    forecast = ForecastSerializer(read_only=True)
    key_results = KeyResultForecastSerializer(many=True, read_only=True)


# A ``PlanHistory`` (metrics.selectors.history.plan_history) as ``plan_history_data`` lays it out.
class PlanHistorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    expected_percent = serializers.IntegerField(
        read_only=True,
        help_text="The expected pace today: a straight line from 0% on the first day to 100% on the last.",
    )
    forecast = ForecastSerializer(
        read_only=True, allow_null=True, help_text="Null unless the plan runs today."
    )
    series = HistoryPointSerializer(
        many=True,
        read_only=True,
        help_text="A point a day from the first of its period (rebuilt on approval from check-ins and completed "
        "steps), the last one today's figure while the plan runs.",
    )
    objectives = ObjectiveForecastSerializer(many=True, read_only=True)


def _forecast(forecast: Forecast) -> dict[str, Any]:
    return {"percent": forecast.percent, "due": forecast.due, "rule": forecast.rule}


def plan_history_data(history: PlanHistory) -> dict[str, Any]:
    plan = history.plan
    return {
        "id": plan.pk,
        "title": plan.title,
        "percent": history.figure.percent,
        "expected_percent": history.expected_percent,
        "forecast": _forecast(history.forecast) if history.forecast else None,
        "series": [{"day": day, "percent": round(value * 100)} for day, value in history.series],
        "objectives": [
            {
                "id": line.objective.pk,
                "title": line.objective.title,
                "milestone": line.milestone.pk,
                "percent": line.figure.percent,
                "expected_percent": line.expected_percent,
                "forecast": _forecast(line.forecast),
                "key_results": [
                    {
                        "id": part.node_id,
                        "title": part.label,
                        "percent": part.percent,
                        "forecast": _forecast(f),
                    }
                    for part, f in line.key_results
                ],
            }
            for line in history.lines
        ],
    }
