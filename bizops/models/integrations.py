"""How other systems reach the app and hear from it: personal API tokens and webhooks."""

from __future__ import annotations

import zoneinfo

from django.db import models
from django.utils import timezone

from .people import Organization, User


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def listed(self) -> models.QuerySet[ApiToken]:
        """Newest first, with the organization each is bound to (the profile page's list, one query)."""
        return self.select_related("organization", "user").order_by("-created_at", "-pk")


class ApiToken(models.Model):
    """A personal API token: a user's key to the REST API of ONE of their organizations.

    Only the SHA-256 digest of the secret is stored; the secret itself is shown once, when it is made
    (``bizops.authentication.api_token_create``). ``prefix`` (``bzp_`` and the secret's first characters)
    is not secret: it lets people tell their tokens apart. A token acts as its user, with the user's role,
    and only under ``/api/v1/orgs/<its organization>/``; leaving the organization makes it useless.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The last day it works, in its user's time zone; none means it works until revoked.
    expires_on = models.DateField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None) -> bool:
        if self.expires_on is None:
            return False
        today = timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(self.user.time_zone)).date()
        return today > self.expires_on

    @property
    def status(self) -> str:
        """``active``, ``expired`` or ``revoked``, for the profile page."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"


class Webhook(models.Model):
    """An address an organization's admins subscribed to some events (see ``bizops.webhooks``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    failure_count = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook: the log admins read."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when a task claims the delivery for its POST: another task leaves it alone until then.
    sending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook}"
