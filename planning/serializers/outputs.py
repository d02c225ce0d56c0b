"""What the planning API answers with: plans, their nodes, and the whole tree with its roll-up."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import (
    ActionStep,
    Milestone,
    Objective,
    Plan,
)
from .fields import (
    PlanStatusField,
    StepStatusField,
)

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
    "parent",
    "version",
    "created_at",
    "updated_at",
]


class PlanSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)
    # DRF's metaclass takes declared fields off the class: ``parent`` does not shadow ``Field.parent``.
    parent: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        read_only=True, allow_null=True, help_text="The id of the plan this one serves, or null."
    )

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
# These serializers are the tree endpoint's schema (drf-spectacular reads them); the JSON itself has
# one rendering, ``tree_representation`` below, which ``PlanTreeSerializer`` hands its work to.
# ``tests/planning/test_api.py`` holds the two together: every level of a response carries exactly
# the fields declared here.


def _tree_fields(fields: list[str], *drop: str) -> list[str]:
    return [name for name in fields if name not in drop]


class TreeStepSerializer(StepSerializer):
    status = StepStatusField(read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent done (0–100).")
    progress_detail = serializers.CharField(
        read_only=True, help_text='Why, e.g. "done in 3 of the last 4 weeks".'
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


class TreeObjectiveSerializer(ObjectiveSerializer):
    progress = serializers.IntegerField(
        read_only=True, help_text="Percent done (0–100), rolled up from the steps."
    )
    steps = TreeStepSerializer(many=True, read_only=True)

    class Meta(ObjectiveSerializer.Meta):
        fields = [
            *_tree_fields(ObjectiveSerializer.Meta.fields, "plan", "milestone", "created_at", "updated_at"),
            "progress",
            "steps",
        ]
        read_only_fields = fields


class TreeMilestoneSerializer(MilestoneSerializer):
    progress = serializers.IntegerField(
        read_only=True, help_text="Percent done (0–100), weighted over the objectives."
    )
    objectives = TreeObjectiveSerializer(many=True, read_only=True)

    class Meta(MilestoneSerializer.Meta):
        fields = [
            *_tree_fields(MilestoneSerializer.Meta.fields, "plan", "created_at", "updated_at"),
            "progress",
            "objectives",
        ]
        read_only_fields = fields


class PlanTreeSerializer(PlanSerializer):
    """A plan with its whole tree and roll-up; ``context["tree"]`` is the tree (``display_tree``)."""

    status = PlanStatusField(read_only=True)
    progress = serializers.IntegerField(
        read_only=True, help_text="Percent done (0–100), weighted over the milestones."
    )
    milestones = TreeMilestoneSerializer(many=True, read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PLAN_OUTPUT_FIELDS, "progress", "milestones"]
        read_only_fields = fields

    def to_representation(self, instance: Plan) -> dict[str, Any]:
        return tree_representation(instance, self.context["tree"])


def tree_representation(plan: Plan, tree) -> dict[str, Any]:
    """The tree endpoint's JSON (``PlanTreeSerializer`` declares its fields), built by hand: running
    a ModelSerializer per node costs ~25 µs each, and a 5,000-step tree spent more time there than
    in its queries. Steps may be ``StepRow``s or model instances.
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
