"""Pages of the company core: sign-up, profile, organizations, members, teams, invitations, outbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.http import require_POST

from . import account_security, authentication, selectors, services
from .access import org_object_or_404, org_view, require
from .emails import email_resend
from .errors import Conflict, ValidationError, error_message
from .forms import (
    AcceptInvitationSignupForm,
    ApiTokenForm,
    InviteForm,
    OrganizationCreateForm,
    OrganizationForm,
    PreferencesForm,
    ProfileForm,
    RoleForm,
    SignupForm,
    TeamForm,
    TeamMemberForm,
    add_service_errors,
)
from .models import ApiToken, Invitation, Membership, Notification, OutboundEmail, Team
from .roles import Role, assignable_roles

AUTH_BACKEND = "bizops.backends.ModelBackend"


def home(request: HttpRequest) -> HttpResponse:
    """Send people where they work: their last organization, or the sign-up page."""
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = list(selectors.user_memberships(user=request.user))
    if not memberships:
        return redirect("organization_create")
    slugs = [m.organization.slug for m in memberships]
    slug = request.session.get("current_org")
    return redirect("org_home", org_slug=slug if slug in slugs else slugs[0])


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, org = services.user_signup(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend=AUTH_BACKEND)
            messages.success(request, f"Welcome! {org.name} is ready. Invite your team to plan together.")
            return redirect("org_home", org_slug=org.slug)
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None, initial={"display_name": user.display_name, "time_zone": user.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    return render(request, "bizops/profile.html", {"form": form, "password_form": PasswordChangeForm(user)})


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Saving the password rotates the security stamp (account_security.RotateStampOnPasswordChange):
        # other sessions, API tokens and emailed links end. This session is kept with the new hash.
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(
            request,
            "Your password is changed. You are signed out on your other devices, and your API tokens "
            "and the links in emails sent before no longer work.",
        )
        return redirect("profile")
    profile_form = ProfileForm(
        initial={"display_name": request.user.display_name, "time_zone": request.user.time_zone}
    )
    return render(request, "bizops/profile.html", {"form": profile_form, "password_form": form})


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session, revoke the API tokens and void emailed links; stay signed in here."""
    revoked = account_security.user_sign_out_everywhere(actor=request.user)
    update_session_auth_hash(request, request.user)
    tokens = f" {revoked} API token{'s' if revoked != 1 else ''} revoked." if revoked else ""
    messages.success(
        request,
        "You are signed out on every other device, and the links in emails sent before no longer work."
        + tokens,
    )
    return redirect("profile")


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bizops/organization_list.html",
        {"memberships": selectors.user_memberships(user=request.user)},
    )


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{org.name} is ready.")
            return redirect("org_home", org_slug=org.slug)
    return render(request, "bizops/organization_create.html", {"form": form})


@org_view("org_settings")
def organization_settings(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, instance=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                actor=request.membership,
                organization=request.org,
                **{f: form.cleaned_data[f] for f in form.Meta.fields},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The organization's settings are saved.")
            return redirect("organization_settings", org_slug=request.org.slug)
    if form.errors:
        request.org.refresh_from_db()  # the layout must not show a name that was refused
    return render(request, "bizops/organization_settings.html", {"form": form})


# --- Members ----------------------------------------------------------------------------------------


@org_view("members_view")
def member_list(request: HttpRequest) -> HttpResponse:
    invite_form = InviteForm(membership=request.membership) if request.can.members_invite else None
    return _render_members(request, invite_form)


def _render_members(request: HttpRequest, invite_form: InviteForm | None, status: int = 200) -> HttpResponse:
    context = {
        "members": selectors.member_list(organization=request.org),
        "invitations": selectors.invitation_open_list(organization=request.org)
        if request.can.members_invite
        else [],
        "invite_form": invite_form,
        "assignable_roles": [(r, Role(r).label) for r in assignable_roles(request.membership.role)],
        "owner_role": Role.OWNER,
    }
    return render(request, "bizops/member_list.html", context, status=status)


@org_view("members_invite")
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, membership=request.membership)
    if form.is_valid():
        try:
            invitation = services.invitation_create(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            created = (form.cleaned_data.get("new_team") or "").strip()
            joined = (
                f" Team {invitation.team.name} is created; they join it when they accept." if created else ""
            )
            messages.success(request, f"Invitation sent to {invitation.email}.{joined}")
            return redirect("member_list", org_slug=request.org.slug)
    return _render_members(request, form, status=400)


@org_view("members_invite")
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = org_object_or_404(Invitation, request.org, pk=invitation_id)
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("member_list", org_slug=request.org.slug)


@org_view("members_change_role")
@require_POST
def member_change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    target = org_object_or_404(Membership.objects.select_related("user"), request.org, pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
    else:
        try:
            services.membership_change_role(
                actor=request.membership, membership=target, role=form.cleaned_data["role"]
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, f"{target.user} is now {target.get_role_display().lower()}.")
    return redirect("member_list", org_slug=request.org.slug)


@org_view("members_remove")
@require_POST
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    target = org_object_or_404(Membership.objects.select_related("user"), request.org, pk=membership_id)
    try:
        services.membership_remove(actor=request.membership, membership=target)
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"{target.user} is no longer a member of {request.org.name}.")
        if target.pk == request.membership.pk:
            return redirect("home")
    return redirect("member_list", org_slug=request.org.slug)


# --- Invitations (the public side) ------------------------------------------------------------------

INVALID_REASONS = {
    "forged": (
        "This invitation link is not valid",
        "The link is incomplete or was changed. Ask for a new invitation.",
    ),
    "used": (
        "This invitation was already used",
        "Each invitation works once. Log in to reach the organization.",
    ),
    "revoked": ("This invitation was withdrawn", "Ask the person who invited you to send a new one."),
    "expired": ("This invitation has expired", "Invitations last a week. Ask for a new one."),
    "other_user": (
        "This invitation is for someone else",
        "You are logged in with another email address. Log out, then open the link again.",
    ),
}

INVALID_STATUS = {"forged": 400, "used": 410, "revoked": 410, "expired": 410, "other_user": 403}


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return _invitation_invalid(request, exc)

    user = request.user
    if user.is_authenticated:
        if request.method == "POST":
            try:
                membership = services.invitation_accept(token=token, user=user)
            except services.InvitationInvalid as exc:
                return _invitation_invalid(request, exc)
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("org_home", org_slug=membership.organization.slug)
        if user.email.lower() != invitation.email.lower():
            return _invitation_invalid(request, services.InvitationInvalid("other_user", invitation))
        return render(request, "bizops/invitation_accept.html", {"invitation": invitation})

    from .models import User

    if User.objects.filter(email__iexact=invitation.email).exists():
        return render(
            request,
            "bizops/invitation_accept.html",
            {"invitation": invitation, "login_url": f"{reverse('login')}?next={request.path}"},
        )
    form = AcceptInvitationSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = services.invitation_accept_with_signup(token=token, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.InvitationInvalid as exc:
            return _invitation_invalid(request, exc)
        else:
            login(request, new_user, backend=AUTH_BACKEND)
            messages.success(request, f"Welcome to {invitation.organization.name}.")
            return redirect("org_home", org_slug=invitation.organization.slug)
    return render(request, "bizops/invitation_accept.html", {"invitation": invitation, "form": form})


def _invitation_invalid(request: HttpRequest, exc: services.InvitationInvalid) -> HttpResponse:
    title, advice = INVALID_REASONS[exc.reason]
    context = {"title": title, "advice": advice, "reason": exc.reason}
    return render(request, "bizops/invitation_invalid.html", context, status=INVALID_STATUS[exc.reason])


# --- Teams ------------------------------------------------------------------------------------------


@org_view("teams_view")
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(organization=request.org) if request.can.teams_manage else None
    return render(
        request,
        "bizops/team_list.html",
        {"teams": selectors.team_list(organization=request.org), "form": form},
    )


@org_view("teams_manage")
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST, organization=request.org)
    if form.is_valid():
        try:
            team = services.team_create(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Team {team.name} is created.")
            return redirect("team_detail", org_slug=request.org.slug, team_id=team.pk)
    return render(
        request,
        "bizops/team_list.html",
        {"teams": selectors.team_list(organization=request.org), "form": form},
        status=400,
    )


@org_view("teams_view")
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = org_object_or_404(Team.objects.select_related("lead__user"), request.org, pk=team_id)
    form = member_form = None
    if request.can.teams_manage:
        form = TeamForm(
            request.POST if request.POST.get("action") == "update" else None,
            organization=request.org,
            initial={"name": team.name, "lead": team.lead_id},
        )
        member_form = TeamMemberForm(
            request.POST if request.POST.get("action") == "add_member" else None,
            organization=request.org,
            team=team,
        )
    status = 200
    if request.method == "POST":
        require(request.membership, "teams_manage")
        action = request.POST.get("action")
        try:
            if action == "update" and form.is_valid():
                services.team_update(actor=request.membership, team=team, **form.cleaned_data)
                messages.success(request, "The team is saved.")
                return redirect("team_detail", org_slug=request.org.slug, team_id=team.pk)
            if action == "add_member" and member_form.is_valid():
                member = member_form.cleaned_data["member"]
                services.team_add_member(actor=request.membership, team=team, membership=member)
                messages.success(request, f"{member.user} joined {team.name}.")
                return redirect("team_detail", org_slug=request.org.slug, team_id=team.pk)
            if action == "remove_member":
                member = org_object_or_404(Membership, request.org, pk=request.POST.get("member"))
                services.team_remove_member(actor=request.membership, team=team, membership=member)
                messages.success(request, f"{member.user} left {team.name}.")
                return redirect("team_detail", org_slug=request.org.slug, team_id=team.pk)
            if action == "delete":
                services.team_delete(actor=request.membership, team=team)
                messages.success(request, f"Team {team.name} is deleted.")
                return redirect("team_list", org_slug=request.org.slug)
        except ValidationError as exc:
            add_service_errors(form if action == "update" else member_form, exc)
        status = 400
        team.refresh_from_db()
    context = {
        "team": team,
        "members": selectors.team_members(team=team),
        "form": form,
        "member_form": member_form,
    }
    return render(request, "bizops/team_detail.html", context, status=status)


# --- Outbox -----------------------------------------------------------------------------------------


# What each kind of email is, as the Outbox names it (bizops.notifications.KINDS, plus the emails
# sent outside notifications). tests/test_truthful_pages.py checks every kind has one.
EMAIL_KIND_LABELS = {
    "invitation": "Invitation",
    "account_locked": "Account locked",
    "webhook_paused": "Webhook paused",
    "checkin_due": "Check-in reminder",
    "overdue_steps": "Overdue steps",
    "approval_request": "Plan to review",
    "approval_waiting": "Review nudge",
    "approval_decision": "Decision on a plan",
    "assignment": "New assignment",
    "mention": "Mention",
    "manager_digest": "Weekly team digest",
    "score_request": "End-of-cycle score",
}


def email_kind_label(kind: str) -> str:
    return EMAIL_KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


@org_view("outbox_view")
def outbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.outbox_list(organization=request.org), 50).get_page(request.GET.get("page"))
    rows = [(email, email_kind_label(email.kind)) for email in page.object_list]
    return render(request, "bizops/outbox.html", {"page": page, "rows": rows})


@org_view("outbox_view")
def outbox_detail(request: HttpRequest, email_id: int) -> HttpResponse:
    email = org_object_or_404(OutboundEmail, request.org, pk=email_id)
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            email_resend(actor=request.membership, email=email)
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Sending it again to {email.to_email}.")
        return redirect("outbox_detail", org_slug=request.org.slug, email_id=email.pk)
    context = {"email": email, "kind_label": email_kind_label(email.kind)}
    return render(request, "bizops/outbox_detail.html", context)


# --- Notifications ----------------------------------------------------------------------------------


@org_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ids = request.POST.getlist("id")
        try:
            id_list = [n for n in (int(i) for i in ids) if 0 < n < 2**63] if ids else None
        except ValueError:
            id_list = []
        count = services.notifications_mark_read(user=request.user, organization=request.org, ids=id_list)
        if not request.htmx:
            messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
        return redirect("notification_list", org_slug=request.org.slug)
    page = Paginator(
        Notification.objects.filter(recipient=request.user, organization=request.org).order_by(
            "-created_at", "-pk"
        ),
        30,
    ).get_page(request.GET.get("page"))
    return render(request, "bizops/notifications.html", {"page": page})


@org_view()
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go where it points (a path on this site only)."""
    notification = org_object_or_404(
        Notification.objects.filter(recipient=request.user), request.org, pk=notification_id
    )
    services.notifications_mark_read(user=request.user, organization=request.org, ids=[notification.pk])
    target = (
        notification.url
        if notification.url.startswith("/") and not notification.url.startswith("//")
        else None
    )
    return redirect(target or reverse("notification_list", args=[request.org.slug]))


@org_view()
def notification_preferences(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = PreferencesForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        channels = {
            name.removeprefix("kind_"): value for name, value in data.items() if name.startswith("kind_")
        }
        try:
            services.membership_set_preferences(
                membership=membership,
                cadence=data["cadence"],
                checkin_weekday=data.get("checkin_weekday") if data.get("checkin_weekday") != "" else None,
                checkin_hour=data.get("checkin_hour") if data.get("checkin_hour") != "" else None,
                channels=channels,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your notification preferences are saved.")
            return redirect("notification_preferences", org_slug=request.org.slug)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "bizops/notification_preferences.html", {"form": form}, status=status)


# --- Personal API tokens (a card of the profile page) -----------------------------------------------


def _profile_with_tokens(
    request: HttpRequest,
    *,
    token_form: ApiTokenForm | None = None,
    new_token: ApiToken | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context = {
        "form": ProfileForm(initial={"display_name": user.display_name, "time_zone": user.time_zone}),
        "password_form": PasswordChangeForm(user),
        "token_form": token_form,
        "new_token": new_token,
        "new_token_secret": secret,
    }
    return render(request, "bizops/profile.html", context, status=status)


@login_required
@require_POST
def profile_token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show its secret in this response only: it is stored hashed, never shown again
    (no redirect, so it is not kept in the session or a message for the next page)."""
    form = ApiTokenForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            token, secret = authentication.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = _profile_with_tokens(request, new_token=token, secret=secret)
            add_never_cache_headers(response)  # no copy of the secret in a cache or the back button
            return response
    return _profile_with_tokens(request, token_form=form, status=400)


@login_required
@require_POST
def profile_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = authentication.api_token_revoke(user=request.user, token_id=token_id)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect(reverse("profile") + "#api-tokens")


# --- Errors -----------------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL no route matches: the API's JSON error body under ``/api/`` (e.g. a non-numeric
    id in ``/api/v1/orgs/acme/plans/abc/``), the page otherwise."""
    if request.path.startswith("/api/"):
        body = {"detail": "Not found.", "code": "not_found", "fields": {}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)
