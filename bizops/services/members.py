"""Memberships: roles, removal, and a member's own reminder and notification settings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..access import require
from ..audit import audit_record
from ..errors import Conflict, ValidationError
from ..models import Membership, Organization, User
from ..roles import Role, assignable_roles


def _lock_owners(organization: Organization) -> list[Membership]:
    # Locking the organization's owner rows serializes concurrent demotions and removals, so two
    # admins acting at once cannot leave an organization without an owner.
    return list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
    )


def _name(membership: Membership) -> str:
    return membership.user.display_name or membership.user.email


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    require(actor, "members_change_role")
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    if membership.organization_id != actor.organization_id:
        raise ValidationError("That person is not in this organization.")
    # Lock first, then decide on fresh rows: a promotion racing this change cannot be undone by it.
    owners = _lock_owners(actor.organization)
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    allowed = assignable_roles(actor.role)
    if role not in allowed or (membership.role == Role.OWNER and actor.role != Role.OWNER):
        raise ValidationError({"role": "Only an owner can make or unmake owners."})
    if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
        raise Conflict("An organization needs an owner: make someone else owner first.")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if before != role:
        audit_record(
            organization_id=membership.organization_id,
            actor=actor,
            kind="membership",
            action="changed the role of",
            obj=membership,
            title=_name(membership),
            changes={"role": [Role(before).label, Role(role).label]},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    require(actor, "members_remove")
    if membership.organization_id != actor.organization_id:
        raise ValidationError("That person is not in this organization.")
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise ValidationError("Only an owner can remove an owner.")
    owners = _lock_owners(actor.organization)
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise Conflict("This is the organization's last owner: make someone else owner first.")
    # Their API tokens for this organization stop working now, not only while they are away.
    revoked = membership.user.api_tokens.filter(
        organization=membership.organization, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        kind="membership",
        action="removed",
        obj=membership,
        title=_name(membership),
        changes={
            "role": [Role(membership.role).label, None],
            **({"api tokens revoked": [revoked, 0]} if revoked else {}),
        },
    )
    membership.delete()


@transaction.atomic
def membership_dismiss_getting_started(*, membership: Membership) -> Membership:
    """Hide the Overview's getting-started checklist for this person (theirs to hide, like their
    preferences); the first dismissal's time is kept."""
    Membership.objects.filter(pk=membership.pk, getting_started_dismissed_at__isnull=True).update(
        getting_started_dismissed_at=timezone.now()
    )
    membership.refresh_from_db(fields=["getting_started_dismissed_at"])
    return membership


@transaction.atomic
def membership_set_preferences(
    *,
    membership: Membership,
    cadence: str,
    checkin_weekday: int | None,
    checkin_hour: int | None,
    channels: dict,
) -> Membership:
    """A member's own reminder cadence and notification channels (theirs to set, whatever their role)."""
    from ..notifications import KINDS

    if cadence not in Membership.Cadence.values:
        raise ValidationError({"cadence": "Choose how you want to be reminded."})
    errors = {}
    if cadence == Membership.Cadence.CUSTOM:
        if checkin_weekday is None or not 0 <= int(checkin_weekday) <= 6:
            errors["checkin_weekday"] = "Choose a day."
        if checkin_hour is None or not 0 <= int(checkin_hour) <= 23:
            errors["checkin_hour"] = "Choose an hour."
    bad = [
        kind
        for kind, channel in channels.items()
        if kind not in KINDS or channel not in ("email", "in_app", "off")
    ]
    if bad:
        errors["__all__"] = "Unknown notification setting."
    if errors:
        raise ValidationError(errors)
    membership.cadence = cadence
    membership.checkin_weekday = checkin_weekday if cadence == Membership.Cadence.CUSTOM else None
    membership.checkin_hour = checkin_hour if cadence == Membership.Cadence.CUSTOM else None
    membership.notification_prefs = {**(membership.notification_prefs or {}), **channels}
    membership.save(update_fields=["cadence", "checkin_weekday", "checkin_hour", "notification_prefs"])
    return membership


def notifications_mark_read(*, user: User, organization: Organization, ids: list[int] | None = None) -> int:
    from ..models import Notification

    qs = Notification.objects.filter(recipient=user, organization=organization, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
