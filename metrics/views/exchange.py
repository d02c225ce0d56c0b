"""Plan files (JSON export and import) and the personal calendar feed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify

from bizops.access import org_view
from bizops.errors import ValidationError
from bizops.requests import OrgRequest
from planning.views.common import load_plan

from .. import calendar
from ..exchange import plan_export, plan_file_document, plan_import


@org_view("plan_view")
def plan_download(request: OrgRequest, plan_id: int) -> JsonResponse:
    plan = load_plan(request, plan_id)
    response = JsonResponse(plan_export(plan=plan), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{slugify(plan.title) or "plan"}.json"'
    return response


@org_view("plan_create")
def plan_upload(request: OrgRequest) -> HttpResponse:
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            document = plan_file_document(request.FILES.get("file"))
            plan, warnings = plan_import(actor=request.membership, document=document)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"file": exc.messages}
        else:
            for warning in warnings[:20]:
                messages.warning(request, warning)
            messages.success(request, f"“{plan.title}” is imported as a draft.")
            return redirect("planning:plan_map", org_slug=request.org.slug, plan_id=plan.pk)
        status = 400
    return render(request, "metrics/plan_import.html", {"errors": errors}, status=status)


@org_view("plan_view")
def calendar_settings(request: OrgRequest) -> HttpResponse:
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            calendar.calendar_feed_revoke(membership=request.membership)
            messages.success(request, "Your calendar feed is switched off; its address no longer works.")
            return redirect("metrics:calendar_settings", org_slug=request.org.slug)
        token = calendar.calendar_feed_create(membership=request.membership)
    has_feed = hasattr(request.membership, "calendar_feed") and request.membership.calendar_feed is not None
    url = f"{settings.SITE_URL}{reverse('metrics_public:calendar_feed', args=[token])}" if token else None
    return render(request, "metrics/calendar.html", {"feed_url": url, "has_feed": has_feed or bool(token)})


def calendar_feed(request: OrgRequest, token: str) -> HttpResponse:
    """The feed itself: no login (calendar apps cannot log in); the secret in the URL is the key."""
    feed = calendar.calendar_feed_for(token)
    if feed is None:
        return HttpResponse(
            "This calendar address is not valid (it may have been switched off).",
            status=404,
            content_type="text/plain",
        )
    body = calendar.calendar_text(membership=feed.membership, site_url=settings.SITE_URL)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
