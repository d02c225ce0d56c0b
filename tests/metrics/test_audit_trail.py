"""Every metrics write is on the audit trail, with before and after: KPIs and their targets,
measurements and corrections, key results, check-ins; and the account writes that live in the core
(API tokens, calendar feeds, an email resent)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from bizops.authentication import api_token_create, api_token_revoke
from bizops.errors import ValidationError
from bizops.models import AuditEvent
from metrics import services
from metrics.calendar import calendar_feed_create, calendar_feed_revoke
from planning.models import PlanStatus


def trail(org, **filters):
    return [
        (e.kind, e.action, e.object_repr, e.changes)
        for e in AuditEvent.objects.filter(organization=org, **filters).order_by("pk")
    ]


@pytest.mark.django_db
def test_a_kpi_its_target_and_its_measurements_are_recorded(acme, leads, plan, tree):
    _, objective, _ = tree
    services.kpi_update(actor=acme.manager, kpi=leads, version=None, target=120, objectives=[objective])
    services.kpi_target_set(actor=acme.manager, kpi=leads, period=date(2027, 3, 1), target=90)
    services.kpi_target_set(actor=acme.manager, kpi=leads, period=date(2027, 3, 9), target=90)  # same
    services.kpi_target_set(actor=acme.manager, kpi=leads, period=date(2027, 3, 1), target="")
    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 3, 2), value=40, note="CRM")
    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 3, 20), value=45)

    events = trail(acme.org, object_id=leads.pk, kind__in=["kpi", "kpi_target", "measurement"])
    assert events == [
        ("kpi", "created", "Leads reached a month", events[0][3]),
        ("kpi", "updated", "Leads reached a month", {"target": ["100", "120"]}),
        ("kpi", "linked", "Leads reached a month", {"objectives": [[], ["Close five clients a month"]]}),
        ("kpi_target", "set", "Leads reached a month, Mar 2027", {"target": [None, "90"]}),
        ("kpi_target", "removed", "Leads reached a month, Mar 2027", {"target": ["90", None]}),
        ("measurement", "recorded", "Leads reached a month, Mar 2027", {"value": [None, "40"]}),
        ("measurement", "corrected", "Leads reached a month, Mar 2027", {"value": ["40", "45"]}),
    ]
    assert events[0][3]["owner"] == [None, acme.member.user.display_name]
    measured = AuditEvent.objects.filter(kind="measurement").order_by("pk")
    assert [e.actor_id for e in measured] == [acme.member.user_id] * 2
    assert measured[0].comment == "CRM"


@pytest.mark.django_db
def test_a_refused_write_records_nothing(acme, leads):
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.kpi_update(actor=acme.member, kpi=leads, version=None, target=1)
    with pytest.raises(ValidationError):
        services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 3, 2), value="lots")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_key_results_and_check_ins_are_on_the_plans_trail(acme, plan, key_result, tree):
    _, objective, _ = tree
    services.key_result_update(
        actor=acme.manager, key_result=key_result, version=None, target=8, owner=acme.member
    )
    services.key_result_update(actor=acme.manager, key_result=key_result, version=None, target=8)  # no change
    plan.status = PlanStatus.ACTIVE
    plan.save()
    services.check_in_key_result(
        actor=acme.member, key_result=key_result, value=3, confidence="at_risk", note="Two calls left"
    )
    services.check_in_objective(actor=acme.manager, objective=objective, confidence="on_track")

    events = trail(
        acme.org, plan_id=plan.pk, kind__in=["key_result", "objective"], action__in=["updated", "checked in"]
    )
    assert events == [
        (
            "key_result",
            "updated",
            "Clients signed",
            {"target": ["5", "8"], "owner": [None, acme.member.user.display_name]},
        ),
        (
            "key_result",
            "checked in",
            "Clients signed",
            {"current": ["0", "3"], "confidence": [None, "At risk"]},
        ),
        ("objective", "checked in", "Close five clients a month", {"confidence": [None, "On track"]}),
    ]
    checked = AuditEvent.objects.get(kind="key_result", action="checked in")
    assert (checked.actor_id, checked.comment) == (acme.member.user_id, "Two calls left")

    plan.status = PlanStatus.DRAFT
    plan.save()
    services.key_result_delete(actor=acme.manager, key_result=key_result)
    assert trail(acme.org, kind="key_result", action="deleted") == [
        ("key_result", "deleted", "Clients signed", {})
    ]


@pytest.mark.django_db
def test_api_tokens_are_recorded_without_their_secret(acme):
    token, secret = api_token_create(user=acme.member.user, organization=acme.org, name="CI")
    api_token_revoke(user=acme.member.user, token_id=token.pk)
    api_token_revoke(user=acme.member.user, token_id=token.pk)  # twice: recorded once

    events = AuditEvent.objects.filter(organization=acme.org, kind="api_token").order_by("pk")
    assert [(e.action, e.actor_id) for e in events] == [
        ("created", acme.member.user_id),
        ("revoked", acme.member.user_id),
    ]
    assert events[0].object_repr == f"CI ({token.prefix}…)"
    for event in events:
        assert secret not in str(event.changes) + event.object_repr + event.comment
        assert token.digest not in str(event.changes)


@pytest.mark.django_db
def test_a_new_password_revokes_tokens_on_the_trail(acme):
    from bizops.account_security import user_sign_out_everywhere

    api_token_create(user=acme.member.user, organization=acme.org, name="Laptop")
    user_sign_out_everywhere(actor=acme.member.user)
    revoked = AuditEvent.objects.get(organization=acme.org, kind="api_token", action="revoked")
    assert "Sign out everywhere" in revoked.comment


@pytest.mark.django_db
def test_calendar_feeds_are_recorded_without_their_secret(acme):
    first = calendar_feed_create(membership=acme.member)
    second = calendar_feed_create(membership=acme.member)
    calendar_feed_revoke(membership=acme.member)
    calendar_feed_revoke(membership=acme.member)  # nothing left: nothing recorded
    events = AuditEvent.objects.filter(organization=acme.org, kind="calendar_feed").order_by("pk")
    assert [e.action for e in events] == ["created", "replaced", "revoked"]
    for event in events:
        assert first not in str(event.changes) + event.object_repr
        assert second not in str(event.changes) + event.object_repr


@pytest.mark.django_db
def test_linking_and_unlinking_a_kpi_stays_on_each_plans_activity(acme, clients, leads, plan, tree):
    from django.urls import reverse

    _, objective, _ = tree
    services.kpi_link_objectives(actor=acme.manager, kpi=leads, objectives=[objective])
    services.kpi_link_objectives(actor=acme.manager, kpi=leads, objectives=[])
    events = AuditEvent.objects.filter(kind="kpi", plan_id=plan.pk).order_by("pk")
    assert [(e.action, e.changes["objectives"]) for e in events] == [
        ("linked", [[], ["Close five clients a month"]]),
        ("unlinked", [["Close five clients a month"], []]),
    ]
    page = (
        clients["manager"]
        .get(reverse("planning:plan_activity", args=[acme.org.slug, plan.pk]))
        .content.decode()
    )
    assert "unlinked" in page and "Leads reached a month" in page
