"""Members, invitations (sent, and accepted through their public link) and teams."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import org_object_or_404, org_view, require
from ..errors import Conflict, ValidationError, error_message
from ..forms import (
    AcceptInvitationSignupForm,
    InviteForm,
    RoleForm,
    TeamForm,
    TeamMemberForm,
    add_service_errors,
)
from ..models import Invitation, Membership, Team
from ..navigation import org_home
from ..requests import OrgRequest
from ..roles import Role, assignable_roles
from .accounts import AUTH_BACKEND

# --- Members ----------------------------------------------------------------------------------------


@org_view("members_view")
def member_list(request: OrgRequest) -> HttpResponse:
    invite_form = InviteForm(membership=request.membership) if request.can.members_invite else None
    return _render_members(request, invite_form)


def _render_members(request: OrgRequest, invite_form: InviteForm | None, status: int = 200) -> HttpResponse:
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
def member_invite(request: OrgRequest) -> HttpResponse:
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
            # A new team's name was given: the invitation has that team.
            joined = (
                f" Team {cast(Team, invitation.team).name} is created; they join it when they accept."
                if created
                else ""
            )
            messages.success(request, f"Invitation sent to {invitation.email}.{joined}")
            return redirect("member_list", org_slug=request.org.slug)
    return _render_members(request, form, status=400)


@org_view("members_invite")
@require_POST
def invitation_revoke(request: OrgRequest, invitation_id: int) -> HttpResponse:
    invitation = org_object_or_404(Invitation, request.org, pk=invitation_id)
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("member_list", org_slug=request.org.slug)


@org_view("members_change_role")
@require_POST
def member_change_role(request: OrgRequest, membership_id: int) -> HttpResponse:
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
def member_remove(request: OrgRequest, membership_id: int) -> HttpResponse:
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
            return redirect(org_home(membership.organization.slug))
        if user.email.lower() != invitation.email.lower():
            return _invitation_invalid(request, services.InvitationInvalid("other_user", invitation))
        return render(request, "bizops/invitation_accept.html", {"invitation": invitation})

    from ..models import User

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
            return redirect(org_home(invitation.organization.slug))
    return render(request, "bizops/invitation_accept.html", {"invitation": invitation, "form": form})


def _invitation_invalid(request: HttpRequest, exc: services.InvitationInvalid) -> HttpResponse:
    title, advice = INVALID_REASONS[exc.reason]
    context = {"title": title, "advice": advice, "reason": exc.reason}
    return render(request, "bizops/invitation_invalid.html", context, status=INVALID_STATUS[exc.reason])


# --- Teams ------------------------------------------------------------------------------------------


@org_view("teams_view")
def team_list(request: OrgRequest) -> HttpResponse:
    form = TeamForm(organization=request.org) if request.can.teams_manage else None
    return render(
        request,
        "bizops/team_list.html",
        {"teams": selectors.team_list(organization=request.org), "form": form},
    )


@org_view("teams_manage")
@require_POST
def team_create(request: OrgRequest) -> HttpResponse:
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
def team_detail(request: OrgRequest, team_id: int) -> HttpResponse:
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
        assert form is not None and member_form is not None  # made above for whoever may manage teams
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
