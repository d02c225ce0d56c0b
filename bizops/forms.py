import zoneinfo
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError

from .account_security import password_reset_account_allow, password_reset_address_allow
from .errors import ValidationError
from .lockout import client_ip
from .models import Membership, Organization, Team, User, Weekday
from .roles import Role, assignable_roles, can
from .text import Form, ModelForm

if TYPE_CHECKING:

    class LabelledChoiceField(forms.ModelChoiceField):
        """A ``ModelChoiceField`` whose ``label_from_instance`` a form replaces on the instance."""

        label_from_instance: Callable[[Any], str]  # type: ignore[assignment]  # an attribute, set per form


TIME_ZONE_REGIONS = (
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific",
)  # fmt: skip


def _zone_tab() -> str | None:
    """The IANA ``zone.tab`` (one row per country's zone, canonical names only), from the tzdata package
    or the system's zoneinfo directory, whichever is there."""
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def canonical_time_zones() -> list[str]:
    """The zones people choose from: the canonical ``Region/City`` names plus UTC, without the legacy
    aliases (``GB-Eire``, ``US/Eastern``, ``Etc/GMT+3``) and the renamed ones (``Asia/Calcutta``)."""
    available = zoneinfo.available_timezones()
    text = _zone_tab()
    if text is not None:
        names = {line.split("\t")[2] for line in text.splitlines() if line and not line.startswith("#")}
    else:  # no table to tell aliases apart: keep the region-named zones
        names = {tz for tz in available if tz.split("/", 1)[0] in TIME_ZONE_REGIONS}
    return sorted((names & available) | {"UTC"})


def _grouped_time_zone_choices(zones: list[str]) -> list:
    """``UTC`` first, then an option group per region, each zone labelled by its place."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for tz in zones:
        if "/" in tz:
            region, place = tz.split("/", 1)
            groups.setdefault(region, []).append((tz, place.replace("_", " ").replace("/", " / ")))
    return [("UTC", "UTC"), *groups.items()]


TIME_ZONES = canonical_time_zones()
TIME_ZONE_CHOICES = _grouped_time_zone_choices(TIME_ZONES)


class TimeZoneField(forms.ChoiceField):
    """A time zone chosen from the canonical ones, grouped by region. Any zone the system knows stays
    valid, so a profile saved with an older alias still saves. ``preset`` asks the page's script
    (static/js/timezone.js) to preselect the browser's zone on a new form; without it the field says UTC."""

    def __init__(self, *, preset: bool = False, **kwargs) -> None:
        kwargs.setdefault("choices", TIME_ZONE_CHOICES)
        kwargs.setdefault("label", "Time zone")
        super().__init__(**kwargs)
        if preset:
            self.widget.attrs["data-timezone-preset"] = ""

    def valid_value(self, value) -> bool:
        return value in TIME_ZONES or value in zoneinfo.available_timezones()


class PresetTimeZoneForm(Form):
    """A form whose ``time_zone`` the browser presets on first show; once submitted, the choice made is
    shown again as it was, not replaced by the script."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.fields["time_zone"].widget.attrs.pop("data-timezone-preset", None)


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class EmailLoginForm(AuthenticationForm):
    """The email is posted as ``username``, the name django-axes counts failures under
    (``AXES_USERNAME_FORM_FIELD``, lowercased by ``bizops.lockout.lockout_username``)."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, with at most ``PASSWORD_RESET_EMAILS_PER_ACCOUNT`` emails to an account and
    ``PASSWORD_RESET_REQUESTS_PER_ADDRESS`` requests from an address an hour. Past either the view
    answers as it always does ("check your email"), so the page tells nobody whether an account
    exists or a limit was hit; only the email is not sent."""

    def save(self, *args, request=None, **kwargs) -> None:
        if request is not None and not password_reset_address_allow(address=client_ip(request)):
            return
        # Django's PasswordResetView passes keywords only: ``request`` is never also in ``args``.
        super().save(*args, request=request, **kwargs)  # type: ignore[misc]

    def get_users(self, email):
        for user in super().get_users(email):
            if password_reset_account_allow(user=user):
                yield user


class SignupForm(PresetTimeZoneForm):
    """Every problem is found in one submit and shown at its field: a missing field, an email that has an
    account, a password the validators refuse. The password box is never filled back in."""

    display_name = forms.CharField(label="Your name", max_length=120)
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    organization_name = forms.CharField(
        label="Organization", max_length=120, help_text="Your company or team, e.g. “Acme Copywriting”."
    )
    time_zone = TimeZoneField(preset=True, initial="UTC")

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists already. Log in instead.")
        return email

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            # The validators compare the password with the name and email, so they see what was typed.
            user = User(email=data.get("email") or "", display_name=data.get("display_name") or "")
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                self.add_error("password", exc)
        return data


class AcceptInvitationSignupForm(PresetTimeZoneForm):
    display_name = forms.CharField(label="Your name", max_length=120)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    time_zone = TimeZoneField(preset=True, initial="UTC")


class ProfileForm(Form):
    display_name = forms.CharField(label="Name", max_length=120)
    time_zone = TimeZoneField()


class OrganizationCreateForm(Form):
    name = forms.CharField(max_length=120)


class OrganizationForm(ModelForm):
    checkin_hour = forms.TypedChoiceField(
        label="Check-in hour", coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    time_zone = TimeZoneField()
    checkin_weekday = forms.TypedChoiceField(label="Check-in day", coerce=int, choices=Weekday.choices)

    class Meta:
        model = Organization
        fields = [
            "name",
            "time_zone",
            "checkin_weekday",
            "checkin_hour",
            "approvals_required",
            "solo_approval",
        ]
        labels = {"approvals_required": "Approvals a plan needs"}


class InviteForm(Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    new_team = forms.CharField(
        max_length=120,
        required=False,
        label="Or a new team",
        help_text="Its name: the team is created, and they join it with the invitation.",
    )

    def __init__(self, *args, membership: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = assignable_roles(membership.role)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (r, label) for r, label in Role.choices if r in allowed
        ]
        teams = Team.objects.filter(organization=membership.organization)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        if not can(membership.role, "teams_manage"):
            del self.fields["new_team"]
        elif not teams.exists():
            # No team yet: nothing to choose, one to name.
            del self.fields["team"]
            self.fields["new_team"].label = "Team"
            self.fields[
                "new_team"
            ].help_text = "Optional. Name a team to create it; they join it with the invitation."

    def clean(self):
        data = super().clean()
        if "team" not in self.fields and self.data.get("team"):  # a team id, where there are none
            raise forms.ValidationError("Choose one of this organization's teams.")
        if data.get("team") and (data.get("new_team") or "").strip():
            self.add_error("new_team", "Choose a team or name a new one, not both.")
        return data


class ApproverInviteForm(Form):
    """Invite someone who may approve plans: for an organization where nobody but the submitter can."""

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=[(Role.MANAGER, Role.MANAGER.label), (Role.ADMIN, Role.ADMIN.label)])

    def __init__(self, *args, membership: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = assignable_roles(membership.role)
        role = cast(forms.ChoiceField, self.fields["role"])
        declared = cast(list[tuple[str, str]], role.choices)  # the list declared above, as Django keeps it
        role.choices = [(r, label) for r, label in declared if r in allowed]


class RoleForm(Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(Form):
    name = forms.CharField(max_length=120)
    lead = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="No lead")

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lead = cast("LabelledChoiceField", self.fields["lead"])
        lead.queryset = org_members(organization)
        lead.label_from_instance = member_label


class TeamMemberForm(Form):
    member = forms.ModelChoiceField(queryset=Membership.objects.none(), empty_label="Choose a member")

    def __init__(self, *args, organization: Organization, team: Team | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        members = org_members(organization)
        # Who can still join: people already in the team are not offered again.
        member = cast("LabelledChoiceField", self.fields["member"])
        member.queryset = members.exclude(teams=team) if team is not None else members
        member.label_from_instance = member_label


def org_members(organization: Organization):
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__display_name")
    )


def member_label(membership: Membership) -> str:
    return f"{membership.user.display_name} ({membership.user.email})"


class PreferencesForm(Form):
    """Per kind of notification: email, in-app only or off; and the check-in cadence."""

    cadence = forms.ChoiceField(
        choices=Membership.Cadence.choices, widget=forms.RadioSelect, label="Check-in reminders"
    )
    checkin_weekday = forms.TypedChoiceField(
        coerce=int, choices=Weekday.choices, required=False, label="My check-in day"
    )
    checkin_hour = forms.TypedChoiceField(
        coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)], required=False, label="My check-in hour"
    )

    def __init__(self, *args, membership: Membership, **kwargs) -> None:
        from .notifications import CHANNELS, KINDS, channel_for

        super().__init__(*args, **kwargs)
        self.kinds = KINDS
        for kind, (label, help_text) in KINDS.items():
            self.fields[f"kind_{kind}"] = forms.ChoiceField(
                choices=CHANNELS, label=label, help_text=help_text, initial=channel_for(membership, kind)
            )
        if not self.is_bound:
            self.initial.update(
                cadence=membership.cadence,
                checkin_weekday=membership.checkin_weekday
                if membership.checkin_weekday is not None
                else membership.organization.checkin_weekday,
                checkin_hour=membership.checkin_hour
                if membership.checkin_hour is not None
                else membership.organization.checkin_hour,
            )

    def clean(self):
        data = super().clean()
        if data.get("cadence") == Membership.Cadence.CUSTOM:
            for name in ("checkin_weekday", "checkin_hour"):
                if data.get(name) in (None, ""):
                    self.add_error(name, "Choose your own day and hour, or use the organization's default.")
        return data

    def kind_fields(self):
        return [self[f"kind_{kind}"] for kind in self.kinds]


class ApiTokenForm(Form):
    """A personal API token's name, organization and optional last day. The profile page writes its
    fields by hand (its view predates tokens): keep the names in step with ``templates/bizops/profile.html``."""

    name = forms.CharField(max_length=100, help_text="Where you use it, e.g. “Reporting script”.")
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your organizations."},
    )
    expires_on = forms.DateField(
        label="Works until", required=False, help_text="The last day it works. Empty: until you revoke it."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = Organization.objects.filter(
            memberships__user=user
        ).order_by("name")
