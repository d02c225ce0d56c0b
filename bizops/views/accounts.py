"""Accounts and organizations: sign-up, the profile (with its API tokens), organizations and their
settings, the styled 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.http import require_POST

from .. import account_security, authentication, selectors, services
from ..access import org_view
from ..errors import ValidationError
from ..forms import (
    ApiTokenForm,
    OrganizationCreateForm,
    OrganizationForm,
    ProfileForm,
    SignupForm,
    add_service_errors,
)
from ..models import ApiToken
from ..navigation import org_home
from ..requests import AuthenticatedRequest, OrgRequest

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
    return redirect(org_home(slug if slug in slugs else slugs[0]))


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
            return redirect(org_home(org.slug))
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
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
def password_change(request: AuthenticatedRequest) -> HttpResponse:
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
def sign_out_everywhere(request: AuthenticatedRequest) -> HttpResponse:
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
def organization_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "bizops/organization_list.html",
        {"memberships": selectors.user_memberships(user=request.user)},
    )


@login_required
def organization_create(request: AuthenticatedRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{org.name} is ready.")
            return redirect(org_home(org.slug))
    return render(request, "bizops/organization_create.html", {"form": form})


@org_view("org_settings")
def organization_settings(request: OrgRequest) -> HttpResponse:
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


# --- Personal API tokens (a card of the profile page) -----------------------------------------------


def _profile_with_tokens(
    request: AuthenticatedRequest,
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
def profile_token_create(request: AuthenticatedRequest) -> HttpResponse:
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
def profile_token_revoke(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
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
