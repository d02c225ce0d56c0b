"""Every write of the company core. Functions are named ``<thing>_<verb>`` and take keyword arguments."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from .emails import email_enqueue
from .errors import Conflict, ValidationError
from .models import Invitation, Membership, Organization, Team, User
from .roles import Role, assignable_roles, can

INVITATION_SALT = "bizops.invitation"
RESERVED_SLUGS = {"new", "admin", "api", "static", "accounts", "o", "orgs", "invite"}


# --- People and organizations ---------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(*, owner: User, name: str, time_zone: str | None = None) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organization a name."})
    org = Organization(name=name, slug=_unique_slug(name), time_zone=time_zone or owner.time_zone)
    org.full_clean()
    org.save()
    Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    return org


@transaction.atomic
def user_signup(
    *, email: str, display_name: str, password: str, organization_name: str, time_zone: str = "UTC"
) -> tuple[User, Organization]:
    """Create an account and its first organization, with the new user as owner."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this email exists already. Log in instead."})
    user = User(email=email, display_name=display_name.strip(), time_zone=time_zone)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    org = organization_create(owner=user, name=organization_name, time_zone=time_zone)
    return user, org


@transaction.atomic
def organization_update(*, actor: Membership, organization: Organization, **fields) -> Organization:
    if not can(actor.role, "org_settings"):
        raise ValidationError("Only owners and admins change the organization's settings.")
    for name, value in fields.items():
        setattr(organization, name, value)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, time_zone: str) -> User:
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "time_zone"])
    return user


# --- Memberships ------------------------------------------------------------------------------------


def _lock_owners(organization: Organization) -> list[Membership]:
    # Locking the organization's owner rows serializes concurrent demotions and removals, so two
    # admins acting at once cannot leave an organization without an owner.
    return list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
    )


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
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
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    if membership.organization_id != actor.organization_id:
        raise ValidationError("That person is not in this organization.")
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise ValidationError("Only an owner can remove an owner.")
    owners = _lock_owners(actor.organization)
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise Conflict("This is the organization's last owner: make someone else owner first.")
    # Their API tokens for this organization stop working now, not only while they are away.
    membership.user.api_tokens.filter(organization=membership.organization, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    membership.delete()


# --- Invitations ------------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(str(invitation.public_id), salt=INVITATION_SALT, compress=False)


def invitation_url(invitation: Invitation) -> str:
    return reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str, team: Team | None = None) -> Invitation:
    org = actor.organization
    email = User.objects.normalize_email(email).strip().lower()
    if role not in assignable_roles(actor.role):
        raise ValidationError({"role": "You cannot invite someone with that role."})
    if team is not None and team.organization_id != org.pk:
        raise ValidationError({"team": "Choose one of this organization's teams."})
    if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {org.name}."})
    # A new invitation replaces an open one to the same address (the old link stops working).
    Invitation.objects.filter(
        organization=org, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    invitation = Invitation(
        organization=org,
        email=email,
        role=role,
        team=team,
        invited_by=actor.user,
        expires_at=timezone.now() + settings.INVITATION_MAX_AGE,
    )
    invitation.full_clean()
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise Conflict("An invitation to this address was sent at the same moment.") from None
    email_enqueue(
        to=email,
        template="invitation",
        kind="invitation",
        organization=org,
        context={"invitation": invitation, "inviter": actor.user, "url": invitation_url(invitation)},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    if invitation.organization_id != actor.organization_id:
        raise ValidationError("No such invitation.")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


class InvitationInvalid(Exception):
    """The link cannot be used; ``reason`` is shown on the page."""

    def __init__(self, reason: str, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation behind a link, or ``InvitationInvalid`` saying why not."""
    try:
        public_id = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        raise InvitationInvalid("forged") from None
    invitation = (
        Invitation.objects.select_related("organization", "team", "invited_by")
        .filter(public_id=public_id)
        .first()
    )
    if invitation is None:
        raise InvitationInvalid("forged")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("used", invitation)
    if invitation.revoked_at is not None:
        raise InvitationInvalid("revoked", invitation)
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("expired", invitation)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Turn an open invitation into a membership; single use, even when two tabs accept at once."""
    invitation = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationInvalid("used", invitation)
    if invitation.email.lower() != user.email.lower():
        raise InvitationInvalid("other_user", invitation)
    membership, _ = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    if invitation.team_id:
        invitation.team.members.add(membership)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_accept_with_signup(*, token: str, display_name: str, password: str, time_zone: str) -> User:
    invitation = invitation_from_token(token)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError({"email": "An account with this email exists: log in to accept."})
    user = User(email=invitation.email, display_name=display_name.strip(), time_zone=time_zone)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    invitation_accept(token=token, user=user)
    return user


# --- Teams ------------------------------------------------------------------------------------------


def _check_member(org: Organization, membership: Membership | None, field: str) -> None:
    if membership is not None and membership.organization_id != org.pk:
        raise ValidationError({field: "Choose a member of this organization."})


@transaction.atomic
def team_create(*, actor: Membership, name: str, lead: Membership | None = None) -> Team:
    org = actor.organization
    _check_member(org, lead, "lead")
    team = Team(organization=org, name=name.strip(), lead=lead)
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": "A team with this name exists already."}) from None
    if lead is not None:
        team.members.add(lead)
    return team


@transaction.atomic
def team_update(*, actor: Membership, team: Team, name: str, lead: Membership | None) -> Team:
    org = actor.organization
    if team.organization_id != org.pk:
        raise ValidationError("No such team.")
    _check_member(org, lead, "lead")
    team.name = name.strip()
    team.lead = lead
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": "A team with this name exists already."}) from None
    if lead is not None:
        team.members.add(lead)
    return team


@transaction.atomic
def team_add_member(*, actor: Membership, team: Team, membership: Membership) -> None:
    _check_member(actor.organization, membership, "member")
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    team.members.add(membership)


@transaction.atomic
def team_remove_member(*, actor: Membership, team: Team, membership: Membership) -> None:
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    team.members.remove(membership)
    if team.lead_id == membership.pk:
        team.lead = None
        team.save(update_fields=["lead"])


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    team.delete()


# --- Notifications ----------------------------------------------------------------------------------


@transaction.atomic
def membership_set_preferences(
    *,
    membership: Membership,
    cadence: str,
    checkin_weekday: int | None,
    checkin_hour: int | None,
    channels: dict,
) -> Membership:
    from .notifications import KINDS

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
    from .models import Notification

    qs = Notification.objects.filter(recipient=user, organization=organization, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
