"""People and tenants: users, organizations, memberships (a user's role in one), teams, invitations."""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..roles import Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone.")


def new_security_stamp() -> str:
    return uuid.uuid4().hex


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in with an email address; belongs to organizations through memberships."""

    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Changes on a password change and on "sign out everywhere": sessions, API tokens and signed
    # links made before it stop working (bizops.authentication, bizops.links).
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email

    # Django keeps this hash in the session and logs the session out when it no longer matches. Its
    # own hashes the password only; with the stamp mixed in, rotating the stamp ("Sign out
    # everywhere", bizops.account_security) ends the other sessions as a password change does.
    def get_session_auth_hash(self) -> str:
        return self._stamped_session_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._stamped_session_hash(secret)

    def _stamped_session_hash(self, secret: str | bytes) -> str:
        value = f"{self.password}\x00{self.security_stamp}"
        return salted_hmac("bizops.User.session", value, secret=secret, algorithm="sha256").hexdigest()


class Organization(models.Model):
    """A company: the tenant. Every tenant-owned row points here."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    checkin_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    checkin_hour = models.PositiveSmallIntegerField(default=9)
    approvals_required = models.PositiveSmallIntegerField(default=1)
    # While its owner is its only member, a plan may be approved by them alone (recorded as such).
    solo_approval = models.BooleanField(
        default=False,
        verbose_name="A one-person organization approves its own plans",
        help_text="While you are its only member, you may approve your own plans without a reviewer. "
        "Each such approval is recorded on the plan and in the audit trail. Off once a second person joins.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(checkin_hour__lte=23), name="org_checkin_hour_range"),
            models.CheckConstraint(
                condition=models.Q(checkin_weekday__lte=6), name="org_checkin_weekday_range"
            ),
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1, approvals_required__lte=10),
                name="org_approvals_required_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in an organization, with one role, a check-in cadence and notification choices."""

    class Cadence(models.TextChoices):
        DEFAULT = "default", "The organization's default"
        CUSTOM = "custom", "My own day and hour"
        OFF = "off", "No check-in reminders"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.DEFAULT)
    checkin_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    checkin_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    # kind -> "email" (email and in-app), "in_app" or "off"; missing kinds default to "email".
    notification_prefs = models.JSONField(default=dict, blank=True)
    # When this person hid the Overview's getting-started checklist; empty while it is shown.
    getting_started_dismissed_at = models.DateTimeField(null=True, blank=True)

    # Set on loaded instances, never stored (annotations only: Django ignores them).
    teams_led_ids: list[int]  # the teams this member leads, for their reminders: metrics.reminders

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_org"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "organization"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.organization}"

    @property
    def display_name(self) -> str:
        return str(self.user)

    def checkin_schedule(self) -> tuple[int, int] | None:
        """(weekday, hour) of this member's check-in reminder in their own time zone, or None when off."""
        if self.cadence == self.Cadence.OFF:
            return None
        if (
            self.cadence == self.Cadence.CUSTOM
            and self.checkin_weekday is not None
            and self.checkin_hour is not None
        ):
            return self.checkin_weekday, self.checkin_hour
        return self.organization.checkin_weekday, self.organization.checkin_hour


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    lead = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams_led"
    )
    members = models.ManyToManyField(Membership, blank=True, related_name="teams")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="team_name_unique_per_org_ci",
                violation_error_message="A team with this name exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An emailed, single-use invitation to join an organization with a role (and maybe a team)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
