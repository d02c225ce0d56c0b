"""Plan files in the API: the upload that creates a draft plan, and what the import answers."""

from __future__ import annotations

from rest_framework import serializers

from planning.serializers import StrictSerializer


class PlanFileUploadSerializer(StrictSerializer):
    file = serializers.FileField(
        help_text="A .json plan file of at most 5 MB, UTF-8, as plan_export gives it (docs/plan-format.md)."
    )


class PlanImportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="The new draft plan.")
    title = serializers.CharField(read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="Always “draft”: an imported plan is reviewed anew."
    )
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What the file names that does not exist here (people, teams, KPIs) and was left out.",
    )
