"""Webhook pages for organization admins: register, see the delivery log, pause, resume, test."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from . import services, webhooks
from .access import org_object_or_404, org_view
from .errors import ValidationError
from .forms import add_service_errors
from .models import Webhook, WebhookDelivery
from .requests import OrgRequest
from .text import Form


class WebhookForm(Form):
    url = forms.URLField(label="Address (URL)", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=list(webhooks.EVENTS.items()), widget=forms.CheckboxSelectMultiple, label="Send these events"
    )
    description = forms.CharField(max_length=200, required=False)


@org_view("webhooks_manage")
def webhook_list(request: OrgRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = services.webhook_create(actor=request.membership, **form.cleaned_data)
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
def webhook_detail(request: OrgRequest, webhook_id: int) -> HttpResponse:
    hook = org_object_or_404(Webhook, request.org, pk=webhook_id)
    if request.method == "POST":
        action = request.POST.get("action")
        actor = request.membership
        if action == "pause":
            services.webhook_pause(actor=actor, hook=hook)
            messages.success(request, "Webhook paused: events are no longer sent to it.")
        elif action == "resume":
            services.webhook_resume(actor=actor, hook=hook)
            messages.success(request, "Webhook resumed.")
        elif action == "delete":
            services.webhook_delete(actor=actor, hook=hook)
            messages.success(request, "Webhook deleted.")
            return redirect("webhook_list", org_slug=request.org.slug)
        elif action == "ping":
            if services.webhook_ping(actor=actor, hook=hook):
                messages.success(request, "A test event is on its way: see the log below.")
            else:
                messages.error(request, "The webhook is paused: resume it first.")
        elif action == "rotate":
            services.webhook_rotate_secret(actor=actor, hook=hook)
            messages.success(request, "New signing secret made: update your receiver.")
        return redirect("webhook_detail", org_slug=request.org.slug, webhook_id=hook.pk)
    page = Paginator(
        WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-pk"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request, "bizops/webhook_detail.html", {"hook": hook, "page": page, "events": webhooks.EVENTS}
    )
