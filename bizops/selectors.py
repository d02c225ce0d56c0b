"""Reads of the company core that take more than one line."""

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from .models import Invitation, Membership, Organization, OutboundEmail, Team, User


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
