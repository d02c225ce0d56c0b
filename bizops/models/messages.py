"""What the app tells people: the email outbox (delivered at most once) and in-app notifications."""

from __future__ import annotations

import secrets
from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Organization, User


def new_message_token() -> str:
    return secrets.token_hex(8)


class OutboundEmail(models.Model):
    """Every email the product sends: the outbox admins read, and the claim that makes sending idempotent.

    ``dedupe_key`` is unique: a reminder or notice is claimed by inserting its row before it is sent,
    so a retried task or a second dispatcher cannot send it twice.

    Delivery is at most once past the SMTP handoff (``bizops.emails``): a row is committed as
    ``sending`` before the message goes to the server, and nothing ever sends a ``sending`` row
    again. One left ``sending`` by a worker that died becomes ``unknown`` (it may or may not have
    arrived) and waits for an admin's Resend instead of being sent twice silently.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_email = models.EmailField()
    kind = models.CharField(max_length=40)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A pending row is not taken by the sweep before this: moved on by each claim (a lease) and by
    # each failed attempt (the backoff).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sending_since = models.DateTimeField(null=True, blank=True)
    # With the row id, the Message-ID every attempt sends: a repeat is recognisable as one.
    message_token = models.CharField(max_length=16, default=new_message_token, editable=False)
    resent_at = models.DateTimeField(null=True, blank=True)
    resent_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            # What the sweep looks for, a handful of rows among millions sent.
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="bizops_outb_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"

    @property
    def message_id(self) -> str:
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        return f"<{self.pk}.{self.message_token}@{domain}>"


class Notification(models.Model):
    """An in-app notification (the bell). Its ``dedupe_key`` makes a retried notice land once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "organization", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient}"
