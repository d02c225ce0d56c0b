"""Regressions for what a review from outside found: rights that outlive a role, races, 500s, redirects."""

import contextlib

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bizops import services as core
from bizops import webhooks
from bizops.errors import ValidationError
from bizops.models import User, Webhook, WebhookDelivery
from bizops.tasks import deliver_webhook
from metrics.calendar import calendar_feed_create
from metrics.exchange import plan_import
from planning import services


@pytest.mark.django_db
def test_a_plan_owner_demoted_to_viewer_only_reads(acme, plan):
    plan.owner = acme.member
    plan.save()
    services.milestone_create(actor=acme.member, plan=plan, title="While a member")
    core.membership_change_role(actor=acme.admin, membership=acme.member, role="viewer")
    acme.member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.milestone_create(actor=acme.member, plan=plan, title="As a viewer")
    with pytest.raises(PermissionDenied):
        services.plan_submit(actor=acme.member, plan=plan)


@pytest.mark.django_db
def test_a_pause_clicked_during_a_delivery_stays(acme, monkeypatch):
    hook = Webhook.objects.create(
        organization=acme.org, url="http://127.0.0.1:9/x", events=["plan.submitted"], secret="s"
    )
    delivery = WebhookDelivery.objects.create(
        organization=acme.org, webhook=hook, event="plan.submitted", payload={}
    )

    def pause_while_posting(url, body, headers):
        Webhook.objects.filter(pk=hook.pk).update(paused_at="2027-01-01T00:00:00Z")  # the admin clicks Pause
        return 500

    monkeypatch.setattr("bizops.tasks._post", pause_while_posting)
    monkeypatch.setattr(deliver_webhook, "retry", lambda *a, **k: RuntimeError("retry"))
    with contextlib.suppress(RuntimeError):
        deliver_webhook.run(delivery.pk)
    hook.refresh_from_db()
    assert hook.paused_at is not None and hook.failure_count == 1


@pytest.mark.django_db
def test_webhooks_refuse_shared_address_space_and_recheck_at_delivery(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://100.100.100.200/latest/meta-data", "http://169.254.169.254/", "http://0.0.0.0/"):
        with pytest.raises(ValidationError):
            webhooks.check_url(url)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "milestones",
    [5, [{"title": "M", "objectives": 5}], [{"title": "M", "objectives": [{"title": "O", "steps": 7}]}]],
)
def test_plan_files_with_wrong_types_are_refused_not_500(acme, milestones):
    document = {
        "format": "bizops-plan",
        "version": 1,
        "plan": {
            "title": "T",
            "ultimate_goal": "G",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
        },
        "milestones": milestones,
    }
    with pytest.raises(ValidationError):
        plan_import(actor=acme.manager, document=document)


@pytest.mark.django_db
def test_bad_ids_in_forms_are_404_or_ignored(acme, clients, plan):
    url = reverse("planning:plan_scores", args=[acme.org.slug, plan.pk])
    assert clients["manager"].post(url, {"objective": "abc"}).status_code == 404
    response = clients["member"].post(reverse("notification_list", args=[acme.org.slug]), {"id": str(10**30)})
    assert response.status_code == 302


@pytest.mark.django_db
def test_next_cannot_leave_the_site(acme, clients, plan, tree):
    _, _, step = tree
    url = reverse("planning:step_status", args=[acme.org.slug, step.pk])
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        response = clients["member"].post(url, {"status": "doing", "next": target})
        assert response.status_code == 302 and "evil" not in response.url


@pytest.mark.django_db
def test_calendar_feed_stops_for_a_deactivated_user(acme, client):
    token = calendar_feed_create(membership=acme.member)
    assert client.get(reverse("metrics_public:calendar_feed", args=[token])).status_code == 200
    User.objects.filter(pk=acme.member.user_id).update(is_active=False)
    assert client.get(reverse("metrics_public:calendar_feed", args=[token])).status_code == 404
