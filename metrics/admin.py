from django.contrib import admin

from .models import KPI, CalendarFeed, CheckIn, Contribution, KeyResult, KPITarget, Measurement, ProgressPoint


@admin.register(KPI)
class KPIAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "direction", "target", "frequency", "owner"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "owner"]
    filter_horizontal = ["objectives"]


@admin.register(Measurement)
class MeasurementAdmin(admin.ModelAdmin):
    list_display = ["kpi", "period_start", "value", "is_current", "recorded_by", "recorded_at"]
    list_filter = ["is_current"]
    raw_id_fields = ["organization", "kpi", "recorded_by", "corrects"]


@admin.register(KeyResult)
class KeyResultAdmin(admin.ModelAdmin):
    list_display = ["title", "objective", "kind", "start", "target", "current", "weight"]
    raw_id_fields = ["organization", "plan", "objective", "owner"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["target", "confidence", "author", "created_at"]
    list_filter = ["target", "confidence"]
    raw_id_fields = ["organization", "plan", "key_result", "objective", "step", "author"]


@admin.register(KPITarget)
class KPITargetAdmin(admin.ModelAdmin):
    list_display = ["kpi", "period_start", "target"]
    raw_id_fields = ["organization", "kpi"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["membership", "created_at", "last_used_at"]
    readonly_fields = ["token_hash"]
    raw_id_fields = ["organization", "membership"]


@admin.register(ProgressPoint)
class ProgressPointAdmin(admin.ModelAdmin):
    list_display = ["plan", "objective", "key_result", "day", "value"]
    raw_id_fields = ["organization", "plan", "objective", "key_result"]


@admin.register(Contribution)
class ContributionAdmin(admin.ModelAdmin):
    list_display = ["objective", "to_milestone", "to_objective", "to_key_result", "counts"]
    list_filter = ["counts"]
    raw_id_fields = ["organization", "objective", "to_milestone", "to_objective", "to_key_result"]
