"""KPIs and their measurements, key results on objectives, and check-ins.

Imports run one way: metrics builds on planning (objectives, steps), never the reverse; it feeds
planning's roll-up through ``planning.progress.register_contributor`` (see ``metrics/apps.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from bizops.models import Membership, Organization, User
from planning.models import ActionStep, Objective, Plan, running_q

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

    from .rules import Status


class Unit(models.TextChoices):
    NUMBER = "number", "Number"
    PERCENT = "percent", "Percent"
    CURRENCY = "currency", "Currency"


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase to the target"
    DECREASE = "decrease", "Decrease to the target"
    STAY_ABOVE = "stay_above", "Stay above the target"
    STAY_BELOW = "stay_below", "Stay below the target"
    WITHIN = "within", "Stay within a range"


HIGHER_IS_BETTER = frozenset({Direction.INCREASE, Direction.STAY_ABOVE})
LOWER_IS_BETTER = frozenset({Direction.DECREASE, Direction.STAY_BELOW})


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Confidence(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


# Every amount (targets, values, thresholds): 14 digits before the point, 4 after.
DECIMAL: _DecimalArgs = {"max_digits": 18, "decimal_places": 4}


class KPI(models.Model):
    """A standing measure: a value each period against a target, with amber and red lines.

    For higher-is-better directions the KPI turns amber below ``amber_threshold`` (the target when
    unset) and red below ``red_threshold``; for lower-is-better, above them. For a range (``target``
    to ``target_upper``) a value outside is amber, and red past ``red_threshold`` (a distance).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.NUMBER)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO code, e.g. EUR, for currency KPIs.")
    direction = models.CharField(max_length=12, choices=Direction.choices, default=Direction.INCREASE)
    target = models.DecimalField(**DECIMAL)
    target_upper = models.DecimalField(**DECIMAL, null=True, blank=True)
    amber_threshold = models.DecimalField(**DECIMAL, null=True, blank=True)
    red_threshold = models.DecimalField(**DECIMAL, null=True, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    objectives = models.ManyToManyField(Objective, blank=True, related_name="kpis")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    # Set on loaded instances, never stored (annotations without a value: Django ignores them).
    # By metrics.api.kpis.with_status / with_series, from selectors.kpi_rows:
    latest: Measurement | None
    status: Status | None
    current_target: Decimal
    series: list[dict[str, Any]]
    # By selectors.check_in_items: the current period, and its value or the last one before it.
    period: date
    period_label: str
    this_period: Measurement | None
    last: Measurement | None

    class Meta:
        verbose_name = "KPI"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="kpi_name_unique_per_org_ci",
                violation_error_message="A KPI with this name exists already.",
            ),
            models.CheckConstraint(
                condition=~Q(direction="within")
                | Q(target_upper__isnull=False, target_upper__gte=models.F("target")),
                name="kpi_range_ordered",
                violation_error_message="A range needs an upper bound at or above the target.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KPITarget(models.Model):
    """A target for one period, overriding the KPI's standing target (e.g. a ramp over the year)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="period_targets")
    period_start = models.DateField()
    target = models.DecimalField(**DECIMAL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_start"], name="kpi_target_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.kpi} target {self.target} for {self.period_start}"


class Measurement(models.Model):
    """A KPI's value for one period. A correction adds a row and retires the old one, keeping history."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="measurements")
    period_start = models.DateField()
    value = models.DecimalField(**DECIMAL)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    is_current = models.BooleanField(default=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # Set on loaded instances by the KPI pages and selectors.check_in_items (never stored): the period in words.
    label: str

    class Meta:
        ordering = ["-period_start", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period_start"],
                condition=Q(is_current=True),
                name="measurement_one_current_per_period",
            )
        ]
        indexes = [models.Index(fields=["kpi", "is_current", "-period_start"])]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.value} for {self.period_start}"


class KeyResultKind(models.TextChoices):
    NUMBER = "number", "Number"
    PERCENT = "percent", "Percent"
    CURRENCY = "currency", "Currency"
    YES_NO = "yes_no", "Yes / no"
    MILESTONE = "milestone", "Milestone (percent complete)"


class KeyResultQuerySet(models.QuerySet["KeyResult"]):
    def running(self) -> KeyResultQuerySet:
        """Key results of running plans (``running_q``): the ones people check in on."""
        return self.filter(running_q())

    def answered_by(self, *membership_ids: int) -> KeyResultQuerySet:
        """The key results these members answer for: their own, and those without an owner on the
        objectives they own."""
        return self.filter(
            Q(owner_id__in=membership_ids) | Q(owner__isnull=True, objective__owner_id__in=membership_ids)
        )


class KeyResult(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="key_results")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KeyResultKind.choices, default=KeyResultKind.NUMBER)
    start = models.DecimalField(**DECIMAL, default=0)
    target = models.DecimalField(**DECIMAL)
    current = models.DecimalField(**DECIMAL, default=0)
    direction = models.CharField(
        max_length=12,
        choices=[(Direction.INCREASE, "Increase"), (Direction.DECREASE, "Decrease")],
        default=Direction.INCREASE,
    )
    weight = models.PositiveSmallIntegerField(default=1)
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Measured by a KPI of the same unit: its current value follows the KPI's latest measurement in
    # the key result's period, and a check-in on it records a measurement (one value, one source).
    kpi = models.ForeignKey(KPI, null=True, blank=True, on_delete=models.SET_NULL, related_name="key_results")
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    objects = KeyResultQuerySet.as_manager()

    # Set on loaded instances, never stored (annotations without a value: Django ignores them).
    # By selectors.objective_key_results, selectors.check_in_items and the views (rules.key_result_progress):
    progress: float
    detail: str
    percent: int
    # By selectors.check_in_items and reminders.send_checkin_due: the latest check-in.
    previous: CheckIn | None
    # By selectors.check_in_items: today's period of the measuring KPI, None when outside its dates.
    kpi_period: str | None

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["plan", "objective"])]
        constraints = [models.CheckConstraint(condition=Q(weight__lte=100), name="key_result_weight_range")]

    def __str__(self) -> str:
        return self.title


class CheckIn(models.Model):
    """A regular update on a key result (a new value), an objective (confidence) or a step (status)."""

    class Target(models.TextChoices):
        KEY_RESULT = "key_result", "Key result"
        OBJECTIVE = "objective", "Objective"
        STEP = "step", "Action step"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="check_ins")
    target = models.CharField(max_length=12, choices=Target.choices)
    key_result = models.ForeignKey(
        KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins"
    )
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins"
    )
    step = models.ForeignKey(
        ActionStep, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins"
    )
    value = models.DecimalField(**DECIMAL, null=True, blank=True)
    previous_value = models.DecimalField(**DECIMAL, null=True, blank=True)
    step_status = models.CharField(max_length=10, blank=True)
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    note = models.TextField(blank=True)
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["key_result", "-created_at"]),
            models.Index(fields=["objective", "-created_at"]),
            models.Index(fields=["step", "-created_at"]),
            models.Index(fields=["organization", "author", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        target="key_result",
                        key_result__isnull=False,
                        objective__isnull=True,
                        step__isnull=True,
                        value__isnull=False,
                    )
                    | Q(
                        target="objective",
                        objective__isnull=False,
                        key_result__isnull=True,
                        step__isnull=True,
                    )
                    | Q(target="step", step__isnull=False, key_result__isnull=True, objective__isnull=True)
                ),
                name="check_in_one_target",
            ),
            models.CheckConstraint(
                condition=Q(confidence__in=Confidence.values), name="check_in_confidence_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in on {self.target} by {self.author}"


class CalendarFeed(models.Model):
    """A member's personal iCal feed: a secret URL, stored hashed, revocable (delete the row)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.membership}"


class ProgressPoint(models.Model):
    """A running plan's progress on one day, or one of its objectives' or key results': the history
    that draws progress over time and the forecasts (``metrics.forecast``).

    One row per subject and day, enforced by the database: the daily snapshot and the back-fill
    insert with ``ignore_conflicts``, so a second run, a retried task or two workers at once add
    nothing (the first figure of a day stands). A key result's row names the key result only.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress_points")
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="progress_points"
    )
    key_result = models.ForeignKey(
        KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="progress_points"
    )
    day = models.DateField()
    value = models.FloatField(help_text="Progress that day, 0 to 1.")

    class Meta:
        ordering = ["day", "pk"]
        indexes = [models.Index(fields=["plan", "day"])]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "day"],
                condition=Q(objective__isnull=True, key_result__isnull=True),
                name="progress_point_one_per_plan_day",
            ),
            models.UniqueConstraint(
                fields=["objective", "day"],
                condition=Q(objective__isnull=False),
                name="progress_point_one_per_objective_day",
            ),
            models.UniqueConstraint(
                fields=["key_result", "day"],
                condition=Q(key_result__isnull=False),
                name="progress_point_one_per_key_result_day",
            ),
            models.CheckConstraint(
                condition=Q(objective__isnull=True) | Q(key_result__isnull=True),
                name="progress_point_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0, value__lte=1), name="progress_point_value_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value:.0%} on {self.day}"


class Contribution(models.Model):
    """A team objective serves one node of its plan's parent plan: a milestone, an objective or a key
    result (exactly one, said by the database). ``counts``: the objective's progress is a part of that
    node's figure (a key result's, of the key result's objective); off, it is shown, not counted.

    Part of what a team plan's approver approves (``metrics/baselines.py``): set while the plan is
    editable, like the rest of its map. Its rules (same organization, the parent plan's node) live
    in ``metrics.services.alignment``.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    objective = models.OneToOneField(Objective, on_delete=models.CASCADE, related_name="contribution")
    to_milestone = models.ForeignKey(
        "planning.Milestone", null=True, blank=True, on_delete=models.CASCADE, related_name="contributions"
    )
    to_objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="contributions"
    )
    to_key_result = models.ForeignKey(
        KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="contributions"
    )
    counts = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(to_milestone__isnull=False, to_objective__isnull=True, to_key_result__isnull=True)
                    | Q(to_milestone__isnull=True, to_objective__isnull=False, to_key_result__isnull=True)
                    | Q(to_milestone__isnull=True, to_objective__isnull=True, to_key_result__isnull=False)
                ),
                name="contribution_one_target",
                violation_error_message="A contribution serves exactly one node.",
            ),
            models.CheckConstraint(
                condition=~Q(to_objective=models.F("objective")), name="contribution_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.objective} serves {self.target}"

    @property
    def target(self) -> Any:
        return self.to_milestone or self.to_objective or self.to_key_result

    @property
    def target_kind(self) -> str:
        if self.to_milestone_id is not None:
            return "milestone"
        return "objective" if self.to_objective_id is not None else "key_result"
