"""Accounts and organizations: sign-up, an organization's creation and settings, one's profile."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.text import slugify

from ..access import require
from ..audit import audit_record, field_changes
from ..errors import ValidationError
from ..models import Membership, Organization, User
from ..roles import Role

RESERVED_SLUGS = {"new", "admin", "api", "static", "accounts", "o", "orgs", "invite"}
ORGANIZATION_SETTINGS = (
    "name",
    "time_zone",
    "checkin_weekday",
    "checkin_hour",
    "approvals_required",
    "solo_approval",
)


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
    """Anyone signed in may make an organization; they become its owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organization a name."})
    org = Organization(name=name, slug=_unique_slug(name), time_zone=time_zone or owner.time_zone)
    org.full_clean()
    org.save()
    membership = Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    audit_record(organization_id=org.pk, actor=owner, kind="organization", action="created", obj=org)
    audit_record(
        organization_id=org.pk,
        actor=owner,
        kind="membership",
        action="joined",
        obj=membership,
        title=owner.display_name or owner.email,
        changes={"role": [None, Role.OWNER.label]},
    )
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
    require(actor, "org_settings")
    if organization.pk != actor.organization_id:
        raise ValidationError("That is another organization.")
    unknown = set(fields) - set(ORGANIZATION_SETTINGS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This setting cannot be changed here."))
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = field_changes(current, fields)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    if changes:
        audit_record(
            organization_id=current.pk,
            actor=actor,
            kind="organization",
            action="changed settings",
            obj=current,
            changes=changes,
        )
    for name in fields:  # the caller's copy (the page's layout) shows what was saved
        setattr(organization, name, getattr(current, name))
    return current


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, time_zone: str) -> User:
    """One's own name and time zone: a person's, not an organization's, so not in any audit trail."""
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "time_zone"])
    return user
