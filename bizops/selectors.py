"""Reads of the company core that take more than one line."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from .models import AuditEvent, Invitation, Membership, Organization, OutboundEmail, Team, User


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.only("id", "name")))
        .order_by("user__display_name", "user__email")
    )


def invitation_open_list(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("team", "invited_by")


def team_list(*, organization: Organization) -> QuerySet[Team]:
    return (
        Team.objects.filter(organization=organization)
        .select_related("lead__user")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )


def team_members(*, team: Team) -> QuerySet[Membership]:
    return team.members.select_related("user").order_by("user__display_name")


def outbox_list(*, organization: Organization) -> QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(organization=organization).defer("body_html").order_by("-created_at")


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def audit_events(
    *,
    organization: Organization,
    actor_id: int | None = None,
    kind: str = "",
    start: date | None = None,
    end: date | None = None,
    plan_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's audit trail, newest first; ``start`` and ``end`` are whole days (in the
    organization's time zone), both included."""
    events = AuditEvent.objects.filter(organization=organization)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if kind:
        events = events.filter(kind=kind)
    if plan_id is not None:
        events = events.filter(plan_id=plan_id)
    zone = _zone(organization.time_zone)
    if start is not None and start > date.min + timedelta(days=1):  # (the first days: everything)
        events = events.filter(created_at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end is not None and end < date.max:  # the last day there is has nothing after it to stop at
        events = events.filter(
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
        )
    return events.order_by("-created_at", "-pk")


def audit_kinds(*, organization: Organization) -> list[str]:
    """The kinds of object the organization's trail holds, for the filter."""
    return list(
        AuditEvent.objects.filter(organization=organization)
        .order_by("kind")
        .values_list("kind", flat=True)
        .distinct()
    )


def _zone(name: str):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()
