"""One-click links from emails: mark a step done, open a check-in with the previous value filled in.

The token proves who the link was sent to, so it works without logging in; but a state change
still needs a POST (mail scanners follow links with GET), and a link sent to someone else is
refused to whoever is logged in. A link made before its person changed their password or signed
out everywhere is refused (``bizops.links.require_current_stamp``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from bizops.errors import Conflict, ValidationError
from bizops.links import LinkInvalid, read_action_token, require_current_stamp
from bizops.models import Membership
from planning.models import ActionStep
from planning.services import step_set_status

from ..models import KeyResult

REASONS = {
    "forged": (
        "This link is not valid",
        "It is incomplete or was changed. Open BizOps Planner and find the item there.",
        400,
    ),
    "expired": (
        "This link has expired",
        "Links in reminders work for a week. Open BizOps Planner to do it there.",
        410,
    ),
    "revoked": (
        "This link no longer works",
        "It was sent before a password change or a “Sign out everywhere”. Open BizOps Planner to do it there.",
        410,
    ),
    "other_user": (
        "This link is for someone else",
        "You are logged in as another person. Log out, or use your own email's link.",
        403,
    ),
    "gone": ("This item no longer exists", "It was deleted or you left the organization.", 404),
}


def _invalid(request: HttpRequest, reason: str) -> HttpResponse:
    title, advice, status = REASONS[reason]
    return render(request, "metrics/link_invalid.html", {"title": title, "advice": advice}, status=status)


def action_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = read_action_token(token)
    except LinkInvalid as exc:
        return _invalid(request, exc.reason)
    if request.user.is_authenticated and request.user.pk != data["u"]:
        return _invalid(request, "other_user")
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(user_id=data["u"], organization_id=data["o"], user__is_active=True)
        .first()
    )
    if membership is None:
        return _invalid(request, "gone")
    try:
        require_current_stamp(data, membership.user.security_stamp)
    except LinkInvalid as exc:
        return _invalid(request, exc.reason)
    slug = membership.organization.slug
    if data["a"] == "check_in":
        kr = KeyResult.objects.filter(pk=data["i"], organization_id=data["o"]).first()
        if kr is None:
            return _invalid(request, "gone")
        url = reverse("metrics:key_result_detail", args=[slug, kr.pk])
        return redirect(f"{url}?value={data.get('v', '')}")
    if data["a"] == "step_done":
        step = (
            ActionStep.objects.select_related("plan", "objective")
            .filter(pk=data["i"], organization_id=data["o"])
            .first()
        )
        if step is None:
            return _invalid(request, "gone")
        if request.method == "POST":
            try:
                step_set_status(actor=membership, step=step, status="done")
            except PermissionDenied:
                return _invalid(request, "gone")
            except (ValidationError, Conflict) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
                return render(
                    request,
                    "metrics/link_step_done.html",
                    {"step": step, "membership": membership},
                    status=409,
                )
            return render(
                request, "metrics/link_step_done.html", {"step": step, "membership": membership, "done": True}
            )
        return render(request, "metrics/link_step_done.html", {"step": step, "membership": membership})
    return _invalid(request, "forged")
