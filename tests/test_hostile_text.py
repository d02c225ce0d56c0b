"""Control characters never reach the database, an email header or a calendar line (bizops.text)."""

from __future__ import annotations

import importlib
import inspect
import json

import pytest
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizops import webhooks
from bizops.errors import ValidationError
from bizops.text import CleanTextMixin, clean_text
from metrics import services as metrics_services
from metrics.calendar import calendar_feed_create
from metrics.exchange import plan_export, plan_import
from metrics.models import Measurement
from planning.models import Plan

FORM_MODULES = [
    "bizops.forms",
    "bizops.webhook_views",
    "planning.forms",
    "metrics.forms",
]
# Django's own account forms: an email and passwords, never shown or sent as typed.
AUTH_FORMS = (AuthenticationForm, PasswordResetForm, SetPasswordForm)


def project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_form_of_the_project_cleans_its_text():
    forms_found = project_forms()
    assert len(forms_found) > 25
    unchecked = [f.__name__ for f in forms_found if not issubclass(f, (CleanTextMixin, *AUTH_FORMS))]
    assert not unchecked, f"these forms let control characters through: {unchecked}"


@pytest.mark.parametrize(
    ("value", "multiline", "expected"),
    [
        ("Plain title", False, "Plain title"),
        ("Tab\tinside", False, "Tab\tinside"),
        ("Line one\r\nline two\rline three", True, "Line one\nline two\nline three"),
    ],
)
def test_clean_text_keeps_what_people_type(value, multiline, expected):
    assert clean_text(value, multiline=multiline) == expected


@pytest.mark.parametrize(
    ("value", "multiline"),
    [("A\rB", False), ("A\nB", False), ("A\x00B", True), ("A\x1b[31mB", True), ("A\x7fB", False)],
)
def test_clean_text_refuses_control_characters(value, multiline):
    with pytest.raises(ValidationError, match="control character"):
        clean_text(value, multiline=multiline)


@pytest.mark.django_db
def test_a_carriage_return_in_a_plan_title_is_a_field_error_and_saves_nothing(acme, clients):
    response = clients["manager"].post(
        reverse("planning:plan_create", args=[acme.org.slug]),
        {
            "start_from": "blank",
            "title": "Growth\rEND:VEVENT",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "ultimate_goal": "Lead the market.\r\nWith care.",
        },
    )
    assert response.status_code == 400
    assert "control character U+000D" in response.content.decode()
    assert not Plan.objects.filter(organization=acme.org).exists()


@pytest.mark.django_db
def test_a_textarea_keeps_its_lines_with_unix_line_ends(acme, clients):
    response = clients["manager"].post(
        reverse("planning:plan_create", args=[acme.org.slug]),
        {
            "start_from": "blank",
            "title": "Growth",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "ultimate_goal": "Lead the market.\r\nWith care.",
        },
    )
    assert response.status_code == 302
    assert Plan.objects.get(organization=acme.org).ultimate_goal == "Lead the market.\nWith care."


@pytest.mark.django_db
def test_a_nul_in_an_imported_csv_note_is_a_row_error_not_a_500(acme, clients, leads):
    content = b"kpi,period,value,note\nLeads reached a month,2027-01-01,40,bad\x00note\n"
    upload = SimpleUploadedFile("values.csv", content, content_type="text/csv")
    response = clients["manager"].post(
        reverse("metrics:measurements_import", args=[acme.org.slug]), {"file": upload}
    )
    assert response.status_code == 400
    assert "U+0000" in response.content.decode()
    assert not Measurement.objects.exists()
    result = metrics_services.measurements_import_csv(actor=acme.manager, content=content)
    assert not result.ok and result.errors[0][0] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "notes"])
def test_a_control_character_in_a_plan_file_is_reported_with_its_path(acme, plan, tree, field):
    document = plan_export(plan=plan)
    document["milestones"][0]["objectives"][0]["steps"][0][field] = "Call\x00 the leads"
    before = Plan.objects.count()
    with pytest.raises(ValidationError) as caught:
        plan_import(actor=acme.manager, document=json.loads(json.dumps(document)))
    assert f"milestones[0].objectives[0].steps[0].{field}" in caught.value.message_dict
    assert Plan.objects.count() == before


@pytest.mark.django_db
def test_a_lone_carriage_return_saved_before_never_forges_a_calendar_event(acme, client, plan, tree):
    from datetime import date

    _, _, step = tree
    step.due_date = date(2027, 2, 10)
    step.title = "Call\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:Forged"  # a row from before inputs refused it
    step.save()
    body = client.get(
        reverse("metrics_public:calendar_feed", args=[calendar_feed_create(membership=acme.member)])
    ).content
    lines = body.decode().split("\r\n")
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 1
    assert "\r" not in body.decode().replace("\r\n", "")
    assert any(line.startswith("SUMMARY:Due: Call\\nEND:VEVENT\\nBEGIN:VEVENT") for line in lines)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["https://example.com:99999/hook", "https://[::1/hook", "https://a..example/hook", "https://x:0/"]
)
def test_a_webhook_address_that_cannot_be_called_is_a_field_error(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as in production: the address is resolved and checked
    with pytest.raises(ValidationError) as caught:
        webhooks.check_url(url)
    assert "url" in caught.value.message_dict


@pytest.mark.django_db
def test_the_webhook_form_shows_a_bad_port_at_its_field(acme, clients, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = clients["admin"].post(
        reverse("webhook_list", args=[acme.org.slug]),
        {"url": "https://example.com:99999/hook", "events": ["plan.submitted"], "description": ""},
    )
    assert response.status_code == 400
    assert "port must be between 1 and 65535" in response.content.decode()


@pytest.mark.parametrize(
    "value", ["<script>alert(1)</script>", "a & b", "\"quoted\" 'single'", "é ✓", 42, None]
)
def test_the_tags_one_escaping_helper_escapes_as_conditional_escape_does(value):
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe

    from bizops.templatetags.ui import esc

    assert esc(value) == str(conditional_escape(value))
    # Markup a tag built and marked safe is not escaped twice.
    assert esc(mark_safe(f"<b>{esc(value)}</b>")) == f"<b>{conditional_escape(value)}</b>"
