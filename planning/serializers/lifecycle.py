"""The plan's life cycle in the API: the moves, the review, baselines and their diffs, workload and
scores."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bizops.models import Membership

from ..baselines import FIELDS as SNAPSHOT_FIELDS
from ..models import (
    Baseline,
    ObjectiveScore,
    PlanTransition,
)
from .fields import (
    ApprovalDecisionField,
    BaselineChangeField,
    PlanActionField,
    PlanNodeKindField,
    PlanStatusField,
    QuerySerializer,
    StrictSerializer,
    TextField,
    member_field,
)
from .inputs import (
    long_text_field,
)
from .outputs import (
    PLAN_OUTPUT_FIELDS,
    PlanSerializer,
)

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
        fields = [
            *PLAN_OUTPUT_FIELDS,
            *PLAN_REVIEW_FIELDS,
            "activated_at",
            "closed_at",
            "approved_alone",
            "allowed_actions",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "approved_alone": {
                "help_text": "Its latest approval was its owner's alone, without a reviewer (a one-person "
                "organization whose settings allow it)."
            }
        }


class PlanTransitionSerializer(serializers.ModelSerializer):
    action = PlanActionField(read_only=True)
    # DRF's metaclass takes declared fields off the class: ``label`` here is a field, not ``Field.label``.
    label = serializers.CharField(source="action_label", read_only=True)  # type: ignore[assignment]
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
    # Declared fields leave the class (DRF's metaclass): this is a field named ``fields``, not ``.fields``.
    fields = _before_after("For `changed`: `[before, after]` per field.")  # type: ignore[assignment]
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
    # Declared fields leave the class (DRF's metaclass): a field named ``parent``, not ``Field.parent``.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        read_only=True,
        allow_null=True,
        help_text="The milestone or objective above it; null for a milestone.",
    )
    position = serializers.IntegerField(read_only=True)
    fields = serializers.DictField(  # type: ignore[assignment]  # a field named ``fields`` (as above)
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
