"""Open export and import of plans, and the personal calendar feed."""

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizops.errors import ValidationError
from metrics.calendar import calendar_feed_create
from metrics.exchange import plan_export, plan_import
from planning.models import Plan


def strip(document):
    document = dict(document)
    document.pop("exported_at")
    return document


@pytest.mark.django_db
def test_export_then_import_gives_the_same_plan(acme, plan, key_result, leads, tree):
    _, objective, _ = tree
    leads.objectives.add(objective)
    exported = plan_export(plan=plan)
    assert exported["milestones"][0]["objectives"][0]["key_results"][0]["title"] == "Clients signed"
    assert exported["milestones"][0]["objectives"][0]["kpis"] == ["Leads reached a month"]
    assert exported["milestones"][0]["objectives"][0]["steps"][0]["assignee"] == acme.member.user.email
    copy, warnings = plan_import(actor=acme.manager, document=json.loads(json.dumps(exported)))
    assert warnings == [] and copy.pk != plan.pk and copy.status == "draft"
    assert strip(plan_export(plan=copy)) == strip(exported)


@pytest.mark.django_db
def test_import_into_another_organization_warns_about_people_and_saves(acme, other, plan, key_result):
    exported = plan_export(plan=plan)
    copy, warnings = plan_import(actor=other.manager, document=exported)
    assert copy.organization == other.org
    assert any("not a member here" in w for w in warnings)
    assert any("no team" in w for w in warnings)
    assert copy.steps.get().assignee is None


@pytest.mark.django_db
def test_a_bad_file_saves_nothing_and_says_where(acme, plan, tree):
    exported = plan_export(plan=plan)
    exported["milestones"][0]["objectives"][0]["due_date"] = "2031-01-01"
    exported["milestones"].append({"title": "", "objectives": []})
    before = Plan.objects.count()
    with pytest.raises(ValidationError) as exc:
        plan_import(actor=acme.manager, document=exported)
    errors = exc.value.message_dict
    assert "milestones[0].objectives[0].due_date" in errors
    assert "milestones[1].title" in errors
    assert Plan.objects.count() == before
    for document in ({"format": "other"}, [], "text", {"format": "bizops-plan", "version": 1, "plan": {}}):
        with pytest.raises(ValidationError):
            plan_import(actor=acme.manager, document=document)
    assert Plan.objects.count() == before


@pytest.mark.django_db
def test_export_and_import_pages(acme, clients, plan, tree):
    download = clients["viewer"].get(reverse("metrics:plan_export", args=[acme.org.slug, plan.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    upload = SimpleUploadedFile("plan.json", download.content, content_type="application/json")
    response = clients["manager"].post(reverse("metrics:plan_import", args=[acme.org.slug]), {"file": upload})
    assert response.status_code == 302
    assert Plan.objects.filter(organization=acme.org, title=plan.title).count() == 2
    bad = SimpleUploadedFile("plan.json", b"{not json", content_type="application/json")
    response = clients["manager"].post(reverse("metrics:plan_import", args=[acme.org.slug]), {"file": bad})
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()
    assert clients["member"].get(reverse("metrics:plan_import", args=[acme.org.slug])).status_code == 403
    assert (
        clients["outsider"].get(reverse("metrics:plan_export", args=[acme.org.slug, plan.pk])).status_code
        == 404
    )


@pytest.mark.django_db
def test_calendar_feed_lists_due_steps_and_can_be_revoked(acme, client, clients, plan, tree):
    _, _, step = tree
    step.due_date = date(2027, 2, 10)
    step.title = "Call, the; leads"
    step.save()
    token = calendar_feed_create(membership=acme.member)
    url = reverse("metrics_public:calendar_feed", args=[token])
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20270210" in body and "SUMMARY:Due: Call\\, the\\; leads" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    # A new address replaces the old one; switching off stops it.
    clients["member"].post(reverse("metrics:calendar_settings", args=[acme.org.slug]))
    assert client.get(url).status_code == 404
    clients["member"].post(reverse("metrics:calendar_settings", args=[acme.org.slug]), {"action": "revoke"})
    assert not acme.member.__class__.objects.get(pk=acme.member.pk).__dict__.get("calendar_feed")
    assert client.get(reverse("metrics_public:calendar_feed", args=["forged-token"])).status_code == 404


@pytest.mark.django_db
def test_calendar_settings_shows_the_address_once(acme, clients):
    page = clients["member"].post(reverse("metrics:calendar_settings", args=[acme.org.slug])).content.decode()
    assert "/ical/" in page
    again = clients["member"].get(reverse("metrics:calendar_settings", args=[acme.org.slug])).content.decode()
    assert "/ical/" not in again and "Make a new address" in again
