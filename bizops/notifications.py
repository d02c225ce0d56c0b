"""Notifications: one call tells a person something, by email and in the app, as they prefer.

Each kind can be set per person to "email" (an email and the bell), "in_app" (the bell only) or
"off". The dedupe key is claimed by both the in-app row and the email row, so a retried task or a
second dispatcher never tells anyone twice.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from .emails import email_enqueue, email_render
from .models import Membership, Notification, Organization, User

KINDS: dict[str, tuple[str, str]] = {
    "checkin_due": ("Check-in reminders", "At your check-in hour: what you own that needs a check-in."),
    "overdue_steps": ("Overdue steps", "Once a day, when steps assigned to you are overdue."),
    "approval_request": ("Plans to review", "When a plan names you as an approver."),
    "approval_waiting": ("Review nudges", "At most once a day while a plan waits for your decision."),
    "approval_decision": ("Decisions on your plans", "When an approver approves or requests changes."),
    "assignment": ("New assignments", "When an approved plan gives you steps or your team objectives."),
    "mention": ("Mentions", "When someone mentions you in a comment."),
    "manager_digest": (
        "Weekly team digest",
        "For team leads: progress, risks, overdue steps, missing check-ins.",
    ),
    "score_request": ("End-of-cycle scores", "When a plan closes and your objectives need a score."),
}
CHANNELS = [("email", "Email and in the app"), ("in_app", "In the app only"), ("off", "Off")]


def channel_for(membership: Membership, kind: str) -> str:
    channel = (membership.notification_prefs or {}).get(kind, "email")
    return channel if channel in {"email", "in_app", "off"} else "email"


def notify(
    *,
    recipient: User,
    organization: Organization,
    kind: str,
    template: str,
    context: dict,
    dedupe_key: str,
    url: str = "",
    membership: Membership | None = None,
    batch: list[int] | None = None,
) -> bool:
    """Tell ``recipient`` (a member of ``organization``); returns False when nothing new was sent."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if membership is None:
        membership = Membership.objects.filter(organization=organization, user=recipient).first()
    if membership is None:
        return False  # no longer in the organization
    channel = channel_for(membership, kind)
    if channel == "off":
        return False
    ctx = {
        "recipient": recipient,
        "organization": organization,
        "prefs_url": reverse("notification_preferences", args=[organization.slug]),
        **context,
    }
    rendered = email_render(template, ctx)
    try:
        with transaction.atomic():
            Notification.objects.create(
                organization=organization,
                recipient=recipient,
                kind=kind,
                title=rendered.subject,
                body=rendered.text[:2000],
                url=url,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return False  # claimed before: this notice was already given
    if channel == "email":
        email_enqueue(
            to=recipient,
            template=template,
            context=ctx,
            kind=kind,
            organization=organization,
            dedupe_key=dedupe_key,
            rendered=rendered,
            batch=batch,
        )
    return True
