"""Plans and their goal tree: ultimate goal → milestones → objectives → action steps.

Every row carries ``organization`` (the tenant); objectives and steps also carry ``plan`` so that a
whole plan loads with one query per level. Nodes carry a ``version`` for optimistic locking: an edit
based on an older version is refused, never silently overwritten.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from bizops.models import Membership, Organization, Team, User

if TYPE_CHECKING:
    from ..progress import Figure, Part
    from ..selectors.trees import StepRow


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    AMENDING = "amending", "Amendment in progress"
    CLOSED = "closed", "Closed"


# The tree may be edited only while the plan is being written (or an amendment of it).
EDITABLE_STATUSES = frozenset({PlanStatus.DRAFT, PlanStatus.CHANGES_REQUESTED, PlanStatus.AMENDING})
# Work that runs: an approved plan (and one being amended: its approved work goes on). Only these
# plans' steps are work people are asked to do, can be overdue, or are reminded of.
RUNNING_STATUSES = frozenset({PlanStatus.APPROVED, PlanStatus.ACTIVE, PlanStatus.AMENDING})
# Being written or reviewed: its steps are plans, not work yet, unless the plan was approved before
# (an amendment under review or sent back for changes: its approved work goes on; see ``running_q``).
IN_PLANNING_STATUSES = frozenset({PlanStatus.DRAFT, PlanStatus.IN_REVIEW, PlanStatus.CHANGES_REQUESTED})
AMENDMENT_REVIEW_STATUSES = frozenset({PlanStatus.IN_REVIEW, PlanStatus.CHANGES_REQUESTED})


def running_q(prefix: str = "plan__") -> Q:
    """Plans whose work runs: approved, active or being amended, and an amendment of an approved plan
    while it is reviewed or sent back (``first_approved_at`` set). ``prefix`` reaches the plan."""
    return Q(**{f"{prefix}status__in": RUNNING_STATUSES}) | Q(
        **{f"{prefix}status__in": AMENDMENT_REVIEW_STATUSES, f"{prefix}first_approved_at__isnull": False}
    )


def plan_runs(status: str, first_approved_at: Any) -> bool:
    """``running_q`` for one plan's status and first approval."""
    return status in RUNNING_STATUSES or (
        status in AMENDMENT_REVIEW_STATUSES and first_approved_at is not None
    )


class Recurrence(models.TextChoices):
    NONE = "none", "Once"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class StepStatus(models.TextChoices):
    TODO = "todo", "To do"
    DOING = "doing", "Doing"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class ObjectiveQuerySet(models.QuerySet["Objective"]):
    def running(self) -> ObjectiveQuerySet:
        """Objectives of running plans (``running_q``): the ones people check in on."""
        return self.filter(running_q())


class StepQuerySet(models.QuerySet["ActionStep"]):
    """Which steps are open, overdue or due this week, said once for every page, API and email.

    A step is work only while its plan runs (``RUNNING_STATUSES``): the steps of a plan being written
    or reviewed are plans, and a closed plan's are history. A recurring step is due every period (its
    occurrences are recorded as completions), so its date never makes it overdue or due this week.
    The ``is_*`` functions say the same of one loaded step, for pages that group steps in Python;
    ``tests/planning/test_step_rules.py`` holds both forms to each other.
    """

    @staticmethod
    def week_end(today: date) -> date:
        """The Sunday that ends ``today``'s week (weeks run Monday to Sunday)."""
        return today + timedelta(days=6 - today.weekday())

    @staticmethod
    def overdue_q(today: date) -> Q:
        """Not done, due before ``today``, not recurring, in a running plan."""
        return running_q() & Q(recurrence=Recurrence.NONE, due_date__lt=today) & ~Q(status=StepStatus.DONE)

    @staticmethod
    def due_this_week_q(today: date) -> Q:
        """Not done, due from ``today`` to Sunday, not recurring, in a running plan."""
        return (
            running_q()
            & Q(
                recurrence=Recurrence.NONE,
                due_date__gte=today,
                due_date__lte=StepQuerySet.week_end(today),
            )
            & ~Q(status=StepStatus.DONE)
        )

    def open(self) -> StepQuerySet:
        """Not done yet (whatever the plan's state: callers say which plans they mean)."""
        return self.exclude(status=StepStatus.DONE)

    def running(self) -> StepQuerySet:
        return self.filter(running_q())

    def overdue(self, today: date) -> StepQuerySet:
        return self.filter(self.overdue_q(today))

    def due_this_week(self, today: date) -> StepQuerySet:
        return self.filter(self.due_this_week_q(today))

    @staticmethod
    def is_overdue(step: Any, *, runs: bool, today: date) -> bool:
        """``overdue_q`` for one step (a model instance or a row with status, recurrence, due_date)."""
        return (
            runs
            and step.recurrence == Recurrence.NONE
            and step.status != StepStatus.DONE
            and step.due_date is not None
            and step.due_date < today
        )

    @staticmethod
    def is_due_this_week(step: Any, *, runs: bool, today: date) -> bool:
        """``due_this_week_q`` for one step."""
        return (
            runs
            and step.recurrence == Recurrence.NONE
            and step.status != StepStatus.DONE
            and step.due_date is not None
            and today <= step.due_date <= StepQuerySet.week_end(today)
        )


class Plan(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="plans")
    title = models.CharField(max_length=200)
    ultimate_goal = models.TextField(help_text="The vision: where this plan takes the company.")
    description = models.TextField(blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    cloned_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The plan this one serves (the company plan, or a department's): same organization, never a
    # cycle (``planning.services.plans``). Its objectives say which node of it they contribute to
    # (``metrics.Contribution``).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # The review in progress: who submitted, when, and which round of review this is.
    review_round = models.PositiveIntegerField(default=0)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Its first approval: from then on its work runs, through every amendment and its review.
    first_approved_at = models.DateTimeField(null=True, blank=True)
    # Its latest approval was its owner's alone (a one-person organization: ``plan_approve_alone``).
    approved_alone = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    kind = "plan"

    # Set on loaded instances, never stored (annotations only: Django ignores them).
    can_edit: bool  # the caller's rights: planning.views.common.load_plan
    waiting_days: int  # how long it has waited for approval: metrics.reminders
    can_edit_tree: bool  # planning.views.common.load_plan
    allowed_actions: list[str]  # planning.selectors.review.plan_actions_for, by its callers

    class Meta:
        ordering = ["-period_start", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="plan_period_ordered",
                violation_error_message="The period must end after it starts.",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="plan_status_valid"),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="plan_parent_not_itself",
                violation_error_message="A plan cannot serve itself.",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-period_start"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def runs(self) -> bool:
        """Its work runs (``running_q``): people check in on it, its steps can be overdue."""
        return plan_runs(self.status, self.first_approved_at)


class Node(models.Model):
    """What milestones, objectives and steps share: tenant, ordering, optimistic locking."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    kind: str = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title


class Milestone(Node):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones")
    description = models.TextField(blank=True)
    target_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    weight = models.PositiveSmallIntegerField(default=1)

    kind = "milestone"

    # Set on loaded instances, never stored (annotations only: Django ignores them).
    children: list[Objective]  # planning.selectors.trees
    figure: Figure  # the map: planning.views.tree.decorate_map
    url: str  # planning.views.tree.decorate_map
    why_url: str  # planning.views.tree.decorate_map
    child_count: int  # the editor: planning.views.tree
    served_by: list[Part]  # team objectives serving it (alignment): planning.views.tree.decorate_map

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["plan", "position"])]
        constraints = [models.CheckConstraint(condition=Q(weight__lte=100), name="milestone_weight_range")]


class Objective(Node):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="objectives")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="objectives")
    description = models.TextField(blank=True)
    why = models.TextField("why it matters", blank=True)
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="objectives"
    )
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    weight = models.PositiveSmallIntegerField(default=1)

    objects = ObjectiveQuerySet.as_manager()

    kind = "objective"

    # Set on loaded instances, never stored (annotations only: Django ignores them).
    # Steps as ``StepRow``s when the tree was read (``display_tree``, ``map_tree``): planning.selectors.trees
    children: list[ActionStep | StepRow]
    step_count: int  # planning.selectors.trees.map_tree, planning.views.tree
    figure: Figure  # the map: planning.views.tree.decorate_map
    health: tuple[str, str, str]  # a ``planning.progress.HEALTH`` entry: planning.views.tree.decorate_map
    health_key: str  # on the dashboard: metrics.selectors.dashboards
    confidence: str | None  # the last check-in's, on the dashboard: metrics.selectors.dashboards
    forecast: object  # a ``metrics.forecast.Forecast``, on the dashboard: metrics.selectors.dashboards
    url: str  # planning.views.tree.decorate_map
    why_url: str  # planning.views.tree.decorate_map
    steps_url: str  # planning.views.tree.decorate_map
    measures_url: str  # planning.views.tree.decorate_map
    kr_parts: list[Part]  # planning.views.tree.decorate_map
    child_count: int  # the editor: planning.views.tree
    served_by: list[Part]  # team objectives serving it (alignment): planning.views.tree.decorate_map
    serves: Part | None  # the parent plan's node it serves: planning.views.tree.decorate_map

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["plan", "milestone", "position"])]
        constraints = [
            models.CheckConstraint(condition=Q(weight__lte=100), name="objective_weight_range"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(start_date__lte=F("due_date")),
                name="objective_start_before_due",
                violation_error_message="The start date must come before the due date.",
            ),
        ]


class ActionStep(Node):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="steps")
    notes = models.TextField(blank=True)
    assignee = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_steps"
    )
    due_date = models.DateField(null=True, blank=True)
    recurrence = models.CharField(max_length=10, choices=Recurrence.choices, default=Recurrence.NONE)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.TODO)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = StepQuerySet.as_manager()

    kind = "step"

    # Set on loaded instances, never stored (annotations only: Django ignores them).
    done_this_period: bool  # a recurring step checked off now: planning.selectors, planning.views.work
    occurrence: date | None  # the period a check-in is for: metrics.selectors.check_in
    done_link: str  # the one-click "done" link of an overdue-step email: metrics.reminders

    class Meta:
        verbose_name = "action step"
        ordering = ["position", "pk"]
        indexes = [
            models.Index(fields=["plan", "objective", "position"]),
            models.Index(fields=["assignee", "status", "due_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=StepStatus.values), name="step_status_valid"),
            models.CheckConstraint(
                condition=Q(recurrence__in=Recurrence.values), name="step_recurrence_valid"
            ),
        ]

    @property
    def is_recurring(self) -> bool:
        return self.recurrence != Recurrence.NONE


class StepCompletion(models.Model):
    """One occurrence of a recurring step done: the day, ISO week or month it counts for."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(ActionStep, on_delete=models.CASCADE, related_name="completions")
    period_start = models.DateField()
    done_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "period_start"], name="completion_once_per_period")
        ]
        indexes = [models.Index(fields=["step", "-period_start"])]

    def __str__(self) -> str:
        return f"{self.step} done for {self.period_start}"
