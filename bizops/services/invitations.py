"""Invitations: an emailed, single-use link to join an organization with a role (and maybe a team)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ..access import require
from ..audit import audit_record
from ..emails import email_enqueue
from ..errors import Conflict, ValidationError
from ..models import Invitation, Membership, Team, User
from ..roles import Role, assignable_roles

INVITATION_SALT = "bizops.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(str(invitation.public_id), salt=INVITATION_SALT, compress=False)


def invitation_url(invitation: Invitation) -> str:
    return reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})


@transaction.atomic
def invitation_create(
    *, actor: Membership, email: str, role: str, team: Team | None = None, new_team: str = ""
) -> Invitation:
    """Invite ``email`` with ``role``, into ``team`` or into a team created here (``new_team``, its
    name: the first team of a new organization is often made while inviting its first member).
    Nothing is created when anything is refused."""
    require(actor, "members_invite")
    org = actor.organization
    email = User.objects.normalize_email(email).strip().lower()
    new_team = new_team.strip()
    errors = {}
    if role not in assignable_roles(actor.role):
        errors["role"] = "You cannot invite someone with that role."
    if team is not None and team.organization_id != org.pk:
        errors["team"] = "Choose one of this organization's teams."
    if team is not None and new_team:
        errors["new_team"] = "Choose a team or name a new one, not both."
    if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
        errors["email"] = f"{email} is already a member of {org.name}."
    if errors:
        raise ValidationError(errors)
    if new_team:
        from .teams import team_create  # teams' services know nothing of invitations

        try:
            team = team_create(actor=actor, name=new_team)
        except ValidationError as exc:
            raise ValidationError({"new_team": exc.messages}) from None
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
    audit_record(
        organization_id=org.pk,
        actor=actor,
        kind="invitation",
        action="invited",
        obj=invitation,
        title=email,
        changes={"role": [None, Role(role).label], **({"team": [None, team.name]} if team else {})},
    )
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
    require(actor, "members_invite")
    if invitation.organization_id != actor.organization_id:
        raise ValidationError("No such invitation.")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            organization_id=invitation.organization_id,
            actor=actor,
            kind="invitation",
            action="withdrew",
            obj=invitation,
            title=invitation.email,
        )


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
        assert invitation.team is not None  # it has a team_id
        invitation.team.members.add(membership)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        organization_id=invitation.organization_id,
        actor=user,
        kind="membership",
        action="joined",
        obj=membership,
        title=user.display_name or user.email,
        changes={"role": [None, Role(membership.role).label]},
        comment=f"Accepted the invitation sent to {invitation.email}.",
    )
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
