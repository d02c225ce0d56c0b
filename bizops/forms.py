import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from .account_security import password_reset_account_allow, password_reset_address_allow
from .errors import ValidationError
from .lockout import client_ip
from .models import Membership, Organization, Team, Weekday
from .roles import Role, assignable_roles
from .text import Form, ModelForm

TIME_ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
TIME_ZONE_CHOICES = [(tz, tz.replace("_", " ")) for tz in TIME_ZONES]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
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
        super().save(*args, request=request, **kwargs)

    def get_users(self, email):
        for user in super().get_users(email):
            if password_reset_account_allow(user=user):
                yield user


class SignupForm(Form):
    display_name = forms.CharField(label="Your name", max_length=120)
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    organization_name = forms.CharField(
        label="Organization", max_length=120, help_text="Your company or team, e.g. “Acme Copywriting”."
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")


class AcceptInvitationSignupForm(Form):
    display_name = forms.CharField(label="Your name", max_length=120)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")


class ProfileForm(Form):
    display_name = forms.CharField(label="Name", max_length=120)
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES)


class OrganizationCreateForm(Form):
    name = forms.CharField(max_length=120)


class OrganizationForm(ModelForm):
    checkin_hour = forms.TypedChoiceField(
        label="Check-in hour", coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES)
    checkin_weekday = forms.TypedChoiceField(label="Check-in day", coerce=int, choices=Weekday.choices)

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "checkin_weekday", "checkin_hour", "approvals_required"]
        labels = {"approvals_required": "Approvals a plan needs"}


class InviteForm(Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")

    def __init__(self, *args, membership: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = assignable_roles(membership.role)
        self.fields["role"].choices = [(r, label) for r, label in Role.choices if r in allowed]
        self.fields["team"].queryset = Team.objects.filter(organization=membership.organization)


class RoleForm(Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(Form):
    name = forms.CharField(max_length=120)
    lead = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="No lead")

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = org_members(organization)
        self.fields["lead"].label_from_instance = member_label


class TeamMemberForm(Form):
    member = forms.ModelChoiceField(queryset=Membership.objects.none(), empty_label="Choose a member")

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = org_members(organization)
        self.fields["member"].label_from_instance = member_label


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
        self.fields["organization"].queryset = Organization.objects.filter(memberships__user=user).order_by(
            "name"
        )
