"""The audit trail: one append-only record per write."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .people import Organization, User


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Append-only: a queryset of audit events can be read, never updated or deleted in bulk."""

    def update(self, **kwargs):
        raise AuditEvent.AppendOnly("Audit events are never changed.")

    def delete(self):
        raise AuditEvent.AppendOnly("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One write, as it happened: who, when, what object, the action, and the fields' values before
    and after. Written by every write service in its own transaction (``bizops.audit.audit_record``);
    read by a plan's Activity tab, the organization's audit page and the audit API. Nothing updates
    or deletes one (the organization's own deletion takes its events with it)."""

    class AppendOnly(Exception):
        pass

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The actor's name as it was, kept when the account is gone.
    actor_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30)  # plan, objective, key_result, kpi, membership, api_token…
    action = models.CharField(max_length=40)  # created, updated, deleted, approved, role_changed…
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The plan the object belongs to, when it does (a plain id: the core knows no plans).
    plan_id = models.PositiveBigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # field -> [before, after]
    comment = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["plan_id", "-created_at"]),
            models.Index(fields=["organization", "kind", "-created_at"]),
            models.Index(fields=["organization", "actor", "-created_at"]),
        ]

    KIND_LABELS = {
        "step": "action step",
        "key_result": "key result",
        "kpi": "KPI",
        "kpi_target": "KPI target",
        "check_in": "check-in",
        "membership": "member",
        "api_token": "API token",
        "organization": "organization",
        "calendar_feed": "calendar feed",
    }

    def __str__(self) -> str:
        return f"{self.actor_name or 'Someone'} {self.action} {self.kind} “{self.object_repr}”"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise self.AppendOnly("Audit events are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.AppendOnly("Audit events are never deleted.")

    @property
    def kind_label(self) -> str:
        return self.KIND_LABELS.get(self.kind, self.kind.replace("_", " "))

    @property
    def change_rows(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for pages: names in words, lists joined."""

        def shown(value: object) -> object:
            return ", ".join(map(str, value)) if isinstance(value, list) else value

        return [
            (name.replace("_", " ").capitalize(), shown(values[0]), shown(values[1]))
            for name, values in self.changes.items()
            if isinstance(values, list) and len(values) == 2
        ]
