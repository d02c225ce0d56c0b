"""What happens around a plan's content: suggestions and comments, the review rounds (approvers,
decisions, the snapshots submitted and approved), the workflow's record of moves, and the scores at
the close of a cycle."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from bizops.models import Membership, Organization, User

from .plans import Milestone, Objective, Plan, PlanStatus


class NodeKind(models.TextChoices):
    PLAN = "plan", "Plan"
    MILESTONE = "milestone", "Milestone"
    OBJECTIVE = "objective", "Objective"
    STEP = "step", "Action step"


class Suggestion(models.Model):
    """A proposal by anyone in the organization to add a node to a draft plan."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(max_length=10, choices=[c for c in NodeKind.choices if c[0] != "plan"])
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    proposed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_node_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="milestone")
                | Q(kind="objective", milestone__isnull=False)
                | Q(kind="step", objective__isnull=False),
                name="suggestion_has_parent",
            )
        ]

    def __str__(self) -> str:
        return f"Suggested {self.kind}: {self.title}"


class Comment(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="comments")
    node_kind = models.CharField(max_length=10, choices=NodeKind.choices)
    node_id = models.PositiveBigIntegerField()
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(User, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["plan", "node_kind", "node_id", "created_at"])]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.node_kind} {self.node_id}"


# --- Review, approval, baselines and the close of a cycle -------------------------------------------


class PlanTransition(models.Model):
    """The audit record of every move in a plan's life cycle."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, choices=PlanStatus.choices)
    to_status = models.CharField(max_length=20, choices=PlanStatus.choices)
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["plan", "-created_at"])]

    LABELS = {
        "submit": "Submitted for review",
        "withdraw": "Withdrew from review",
        "approve": "Approved",
        "approve_alone": "Approved alone, without a reviewer",
        "request_changes": "Requested changes",
        "revise": "Reopened for changes",
        "activate": "Activated",
        "close": "Closed the cycle",
        "start_amendment": "Started an amendment",
    }

    def __str__(self) -> str:
        return f"{self.plan}: {self.action} ({self.from_status} → {self.to_status})"

    @property
    def action_label(self) -> str:
        return self.LABELS.get(self.action, self.action)


class PlanApprover(models.Model):
    """An approver named when the plan was submitted, for one round of review."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="approvers")
    round = models.PositiveIntegerField()
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="plans_to_review")

    # This round's decision, set on loaded instances (planning.selectors.review.review_state); not stored.
    decision: Approval | None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "round", "membership"], name="approver_once_per_round")
        ]
        indexes = [models.Index(fields=["membership", "plan", "round"])]

    def __str__(self) -> str:
        return f"{self.membership} reviews {self.plan} (round {self.round})"


class Approval(models.Model):
    """One approver's decision in one round. The unique key makes a double click or a race harmless."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Requested changes"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="approvals")
    round = models.PositiveIntegerField()
    approver = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "round", "approver"], name="approval_once_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.get_decision_display().lower()} {self.plan} (round {self.round})"


class Baseline(models.Model):
    """The plan as approved: an immutable snapshot of the whole tree, one per approval."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="baselines")
    number = models.PositiveIntegerField()
    round = models.PositiveIntegerField()
    snapshot = models.JSONField()
    approved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="baseline_number_unique")]

    def __str__(self) -> str:
        return f"{self.plan} as approved on {self.approved_at:%Y-%m-%d} (#{self.number})"


class Submission(models.Model):
    """The plan as submitted for one round of review: what its approvers were asked to approve.

    A resubmission is compared with the round in which changes were requested, so approvers see
    exactly what was fixed; ``digest`` names the content an approver saw (``baselines.digest``).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="submissions")
    round = models.PositiveIntegerField()
    snapshot = models.JSONField()
    digest = models.CharField(max_length=64)
    submitted_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-round"]
        constraints = [models.UniqueConstraint(fields=["plan", "round"], name="submission_once_per_round")]

    def __str__(self) -> str:
        return f"{self.plan} as submitted for round {self.round}"


class ObjectiveScore(models.Model):
    """At the close of a cycle, the objective's owner scores it (0–100%) and reflects."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="scores")
    objective = models.OneToOneField(Objective, on_delete=models.CASCADE, related_name="score")
    score = models.PositiveSmallIntegerField()
    reflection = models.TextField(blank=True)
    scored_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(score__lte=100), name="objective_score_range")]

    def __str__(self) -> str:
        return f"{self.objective}: {self.score}%"
