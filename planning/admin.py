from django.contrib import admin

from .models import (
    ActionStep,
    Approval,
    Baseline,
    Comment,
    Milestone,
    Objective,
    ObjectiveScore,
    Plan,
    PlanApprover,
    PlanTransition,
    StepCompletion,
    Submission,
    Suggestion,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "status", "period_start", "period_end", "version"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["organization", "owner", "created_by", "submitted_by", "cloned_from"]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "plan", "position", "weight", "target_date"]
    search_fields = ["title"]
    raw_id_fields = ["organization", "plan", "owner"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "plan", "team", "due_date", "weight"]
    search_fields = ["title"]
    raw_id_fields = ["organization", "plan", "milestone", "team", "owner"]


@admin.register(ActionStep)
class ActionStepAdmin(admin.ModelAdmin):
    list_display = ["title", "plan", "assignee", "status", "recurrence", "due_date"]
    list_filter = ["status", "recurrence"]
    search_fields = ["title"]
    raw_id_fields = ["organization", "plan", "objective", "assignee"]


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    """Baselines are immutable: the admin shows them read-only."""

    list_display = ["plan", "number", "approved_at"]
    readonly_fields = ["organization", "plan", "number", "round", "snapshot", "approved_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of what was approved outlives any tidy-up


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """What approvers were asked to approve, per round: a record, read-only like baselines."""

    list_display = ["plan", "round", "submitted_by", "submitted_at"]
    readonly_fields = ["organization", "plan", "round", "snapshot", "digest", "submitted_by", "submitted_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of what was approved outlives any tidy-up


for model in (
    StepCompletion,
    Suggestion,
    Comment,
    PlanTransition,
    PlanApprover,
    Approval,
    ObjectiveScore,
):
    admin.site.register(
        model,
        list_display=["__str__"],
        raw_id_fields=["organization", "plan"] if hasattr(model, "plan") else ["organization"],
    )
