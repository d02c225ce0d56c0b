"""Webhook pages for organization admins: register, see the delivery log, pause, resume, test."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from . import webhooks
from .access import org_object_or_404, org_view
from .errors import ValidationError
from .forms import add_service_errors
from .models import Webhook, WebhookDelivery
from .text import Form


class WebhookForm(Form):
    url = forms.URLField(label="Address (URL)", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=list(webhooks.EVENTS.items()), widget=forms.CheckboxSelectMultiple, label="Send these events"
    )
    description = forms.CharField(max_length=200, required=False)


@org_view("webhooks_manage")
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = webhook_create(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Webhook added. Its signing secret is shown on its page.")
            return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=hook.pk)
    hooks = Webhook.objects.filter(organization=request.org).order_by("url")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "bizops/webhooks.html",
        {"hooks": hooks, "form": form, "events": webhooks.EVENTS},
        status=status,
    )


@org_view("webhooks_manage")
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = org_object_or_404(Webhook, request.org, pk=webhook_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "pause":
            Webhook.objects.filter(pk=hook.pk).update(paused_at=timezone.now())
            messages.success(request, "Webhook paused: events are no longer sent to it.")
        elif action == "resume":
            Webhook.objects.filter(pk=hook.pk).update(paused_at=None, failure_count=0)
            messages.success(request, "Webhook resumed.")
        elif action == "delete":
            hook.delete()
            messages.success(request, "Webhook deleted.")
            return redirect("webhook_list", org_slug=request.org.slug)
        elif action == "ping":
            if webhook_ping(hook=hook):
                messages.success(request, "A test event is on its way: see the log below.")
            else:
                messages.error(request, "The webhook is paused: resume it first.")
        elif action == "rotate":
            Webhook.objects.filter(pk=hook.pk).update(secret=webhooks.new_secret())
            messages.success(request, "New signing secret made: update your receiver.")
        return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=hook.pk)
    page = Paginator(
        WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-pk"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request, "bizops/webhook_detail.html", {"hook": hook, "page": page, "events": webhooks.EVENTS}
    )


def webhook_create(*, actor, url: str, events: list[str], description: str = "") -> Webhook:
    from .roles import can

    if not can(actor.role, "webhooks_manage"):
        raise ValidationError("Only owners and admins manage webhooks.")
    webhooks.check_url(url)
    unknown = set(events) - set(webhooks.EVENTS)
    if unknown or not events:
        raise ValidationError({"events": "Choose at least one of the events."})
    return Webhook.objects.create(
        organization_id=actor.organization_id,
        url=url,
        events=sorted(events),
        description=(description or "").strip(),
        secret=webhooks.new_secret(),
        created_by=actor.user,
    )


def webhook_ping(*, hook: Webhook) -> bool:
    """Send a ``ping`` through the real delivery path (signed, logged, retried)."""
    from .tasks import deliver_webhook

    if hook.paused_at is not None:
        return False
    delivery = WebhookDelivery.objects.create(
        organization_id=hook.organization_id,
        webhook=hook,
        event="ping",
        payload=webhooks.payload("ping", hook.organization.slug, {"message": "Hello from BizOps Planner"}),
    )
    from django.db import transaction

    transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return True
