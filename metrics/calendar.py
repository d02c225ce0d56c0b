"""The personal iCal feed (RFC 5545): one's open steps by due date and the milestones around them."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bizops.audit import audit_record
from bizops.models import Membership
from planning.models import ActionStep, Milestone, PlanStatus, StepStatus

from .models import CalendarFeed

PRODID = "-//BizOps Planner//Calendar feed//EN"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, membership: Membership) -> str:
    """A new secret for the member's feed (the old URL stops working); returned once, stored hashed."""
    replaced, _ = CalendarFeed.objects.filter(membership=membership).delete()
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        organization_id=membership.organization_id, membership=membership, token_hash=_hash(token)
    )
    _audit(membership, "replaced" if replaced else "created", feed.pk)  # never the secret
    return token


@transaction.atomic
def calendar_feed_revoke(*, membership: Membership) -> None:
    deleted, _ = CalendarFeed.objects.filter(membership=membership).delete()
    if deleted:
        _audit(membership, "revoked", None)


def _audit(membership: Membership, action: str, feed_id: int | None) -> None:
    audit_record(
        organization_id=membership.organization_id,
        actor=membership,
        kind="calendar_feed",
        action=action,
        object_id=feed_id,
        title=f"Calendar feed of {membership.user.display_name}",
    )


def calendar_feed_for(token: str) -> CalendarFeed | None:
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("membership__user", "membership__organization")
        .filter(token_hash=_hash(token), membership__user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    if feed.last_used_at is None or timezone.now() - feed.last_used_at > timedelta(minutes=10):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed


# Other control characters have no escape in iCalendar TEXT (RFC 5545 3.3.11) and a lone CR ends a
# line for many readers (``\rEND:VEVENT\rBEGIN:VEVENT`` forged an event): they are dropped. Inputs
# refuse them today (``bizops.text``); rows saved before that still reach this feed.
_ICAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _escape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ICAL_CONTROLS.sub(
        "",
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n"),
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str]
    parts, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def calendar_text(*, membership: Membership, site_url: str) -> str:
    org = membership.organization
    open_plans = ~Q(plan__status=PlanStatus.CLOSED)
    steps = list(
        ActionStep.objects.filter(open_plans, assignee=membership, due_date__isnull=False)
        .exclude(status=StepStatus.DONE)
        .select_related("plan", "objective")
        .order_by("due_date")[:500]
    )
    plan_ids = {s.plan_id for s in steps}
    milestones = list(
        Milestone.objects.filter(open_plans, target_date__isnull=False, organization=org)
        .filter(Q(plan_id__in=plan_ids) | Q(owner=membership))
        .select_related("plan")
        .order_by("target_date")[:200]
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(f'{org.name}: my work')}",
    ]

    def event(uid: str, day, summary: str, description: str, url: str) -> None:
        lines.extend(
            [
                "BEGIN:VEVENT",
                f"UID:{uid}@bizops-planner",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape(summary)}",
                f"DESCRIPTION:{_escape(description)}",
                f"URL:{url}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
        )

    for s in steps:
        event(
            f"step-{s.pk}",
            s.due_date,
            f"Due: {s.title}",
            f"{s.plan.title} › {s.objective.title}",
            f"{site_url}/o/{org.slug}/plans/{s.plan_id}/nodes/step/{s.pk}/",
        )
    for m in milestones:
        event(
            f"milestone-{m.pk}",
            m.target_date,
            f"Milestone: {m.title}",
            m.plan.title,
            f"{site_url}/o/{org.slug}/plans/{m.plan_id}/nodes/milestone/{m.pk}/",
        )
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
