"""The audit trail through the API: read-only, for the organization's admins and owner."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors
from .models import AuditEvent
from .rest import ERROR_400, READ_ERRORS, OrgApi
from .roles import can


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text="The user's id.")
    actor_name = serializers.CharField(help_text="The actor's name when it happened.")
    object_id = serializers.IntegerField(allow_null=True)
    object_repr = serializers.CharField(help_text="The object's name when it happened.")
    plan_id = serializers.IntegerField(allow_null=True, help_text="The plan it belongs to, when it does.")
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2, allow_null=True),
        help_text="Each field changed: [before, after]. Secrets are never recorded.",
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_name",
            "kind",
            "action",
            "object_id",
            "object_repr",
            "plan_id",
            "changes",
            "comment",
        ]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    actor = serializers.IntegerField(required=False, min_value=1, help_text="Only what this user did.")
    kind = serializers.RegexField(
        r"^[a-z_]{1,30}$",
        required=False,
        help_text="Only this kind of object, e.g. key_result, kpi, api_token.",
    )
    plan = serializers.IntegerField(required=False, min_value=1, help_text="Only events of this plan.")
    start = serializers.DateField(required=False, help_text="From this day (the organization's time zone).")
    end = serializers.DateField(required=False, help_text="Until this day, included.")

    def validate(self, data: dict) -> dict:
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise serializers.ValidationError({"end": "Choose an end on or after the start."})
        unknown = set(self.initial_data) - set(self.fields) - {"limit", "offset"}
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "Unknown filter."))
        return data


class AuditEventListApi(OrgApi):
    @extend_schema(
        operation_id="audit_event_list",
        summary="Read the audit trail",
        description="Every write in the organization, newest first: who, when, what, and each field's "
        "before and after. Admins and the owner only; nothing here can be changed or deleted.",
        tags=["Audit"],
        parameters=[AuditFilterSerializer],
        responses={200: AuditEventSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, org_slug: str) -> Response:
        if not can(self.membership.role, "audit_view"):
            raise PermissionDenied("Admins and the owner read the audit trail.")
        filters = self.validated(AuditFilterSerializer, request.query_params.dict())
        events = selectors.audit_events(
            organization=self.organization,
            actor_id=filters.get("actor"),
            kind=filters.get("kind", ""),
            plan_id=filters.get("plan"),
            start=filters.get("start"),
            end=filters.get("end"),
        )
        return self.paginated(events, AuditEventSerializer)
