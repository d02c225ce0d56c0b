"""The company core: people, organizations (the tenants), memberships, teams and invitations."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .roles import Role


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

    def get_by_natural_key(self, username: str) -> User:
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

    def _stamped_session_hash(self, secret: str) -> str:
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


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def listed(self) -> models.QuerySet[ApiToken]:
        """Newest first, with the organization each is bound to (the profile page's list, one query)."""
        return self.select_related("organization", "user").order_by("-created_at", "-pk")


class ApiToken(models.Model):
    """A personal API token: a user's key to the REST API of ONE of their organizations.

    Only the SHA-256 digest of the secret is stored; the secret itself is shown once, when it is made
    (``bizops.authentication.api_token_create``). ``prefix`` (``bzp_`` and the secret's first characters)
    is not secret: it lets people tell their tokens apart. A token acts as its user, with the user's role,
    and only under ``/api/v1/orgs/<its organization>/``; leaving the organization makes it useless.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The last day it works, in its user's time zone; none means it works until revoked.
    expires_on = models.DateField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None) -> bool:
        if self.expires_on is None:
            return False
        today = timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(self.user.time_zone)).date()
        return today > self.expires_on

    @property
    def status(self) -> str:
        """``active``, ``expired`` or ``revoked``, for the profile page."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"


class Webhook(models.Model):
    """An address an organization's admins subscribed to some events (see ``bizops.webhooks``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    failure_count = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook: the log admins read."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when a task claims the delivery for its POST: another task leaves it alone until then.
    sending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Append-only: a queryset of audit events can be read, never updated or deleted in bulk."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AuditEvent.AppendOnly("Audit events are never changed.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AuditEvent.AppendOnly("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One write, as it happened: who, when, what object, the action, and the fields' values before
    and after. Written by every write service in its own transaction (``bizops.audit.audit_record``);
    read by a plan's Activity tab, the organization's audit page and the audit API. Nothing updates
    or deletes one (the organization's own deletion takes its events with it)."""

    class AppendOnly(Exception):
        pass

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The actor's name as it was, kept when the account is gone.
    actor_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30)  # plan, objective, key_result, kpi, membership, api_token…
    action = models.CharField(max_length=40)  # created, updated, deleted, approved, role_changed…
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The plan the object belongs to, when it does (a plain id: the core knows no plans).
    plan_id = models.PositiveBigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # field -> [before, after]
    comment = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["plan_id", "-created_at"]),
            models.Index(fields=["organization", "kind", "-created_at"]),
            models.Index(fields=["organization", "actor", "-created_at"]),
        ]

    KIND_LABELS = {
        "step": "action step",
        "key_result": "key result",
        "kpi": "KPI",
        "kpi_target": "KPI target",
        "check_in": "check-in",
        "membership": "member",
        "api_token": "API token",
        "organization": "organization",
        "calendar_feed": "calendar feed",
    }

    def __str__(self) -> str:
        return f"{self.actor_name or 'Someone'} {self.action} {self.kind} “{self.object_repr}”"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise self.AppendOnly("Audit events are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise self.AppendOnly("Audit events are never deleted.")

    @property
    def kind_label(self) -> str:
        return self.KIND_LABELS.get(self.kind, self.kind.replace("_", " "))

    @property
    def change_rows(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for pages: names in words, lists joined."""

        def shown(value: object) -> object:
            return ", ".join(map(str, value)) if isinstance(value, list) else value

        return [
            (name.replace("_", " ").capitalize(), shown(values[0]), shown(values[1]))
            for name, values in self.changes.items()
            if isinstance(values, list) and len(values) == 2
        ]
