"""The outbox (emails the app sent) and the in-app notifications with their preferences."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .. import selectors, services
from ..access import org_object_or_404, org_view
from ..emails import email_resend
from ..errors import Conflict, ValidationError
from ..forms import (
    PreferencesForm,
    add_service_errors,
)
from ..models import Notification, OutboundEmail
from ..requests import OrgRequest

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
def outbox(request: OrgRequest) -> HttpResponse:
    page = Paginator(selectors.outbox_list(organization=request.org), 50).get_page(request.GET.get("page"))
    rows = [(email, email_kind_label(email.kind)) for email in page.object_list]
    return render(request, "bizops/outbox.html", {"page": page, "rows": rows})


@org_view("outbox_view")
def outbox_detail(request: OrgRequest, email_id: int) -> HttpResponse:
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
def notification_list(request: OrgRequest) -> HttpResponse:
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
def notification_open(request: OrgRequest, notification_id: int) -> HttpResponse:
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
def notification_preferences(request: OrgRequest) -> HttpResponse:
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
