"""One audit trail: every write service records who did what, append-only; admins read and export it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bizops import services
from bizops.models import AuditEvent, Invitation, Team, Webhook
from tests.factories import MembershipFactory
from tests.names import qualified


@pytest.mark.django_db
def test_audit_events_are_append_only(acme):
    event = AuditEvent.objects.create(
        organization=acme.org, kind="team", action="created", object_repr="Sales"
    )
    event.object_repr = "Renamed"
    with pytest.raises(AuditEvent.AppendOnly):
        event.save()
    with pytest.raises(AuditEvent.AppendOnly):
        event.delete()
    with pytest.raises(AuditEvent.AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AuditEvent.AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "Sales"


def _events(acme, **filters):
    return list(AuditEvent.objects.filter(organization=acme.org, **filters).order_by("pk"))


@pytest.mark.django_db
def test_people_teams_and_settings_are_recorded_with_before_and_after(acme, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    services.organization_update(
        actor=acme.admin, organization=acme.org, name="Acme Copywriting", approvals_required=2
    )
    services.membership_change_role(actor=acme.admin, membership=acme.member, role="manager")
    team = services.team_create(actor=acme.manager, name="Sales", lead=acme.manager)
    services.team_add_member(actor=acme.manager, team=team, membership=acme.viewer)
    services.team_update(actor=acme.manager, team=team, name="Sales & Outreach", lead=acme.manager)
    invitation = services.invitation_create(actor=acme.admin, email="new@example.com", role="member")
    services.invitation_revoke(actor=acme.admin, invitation=invitation)
    services.membership_remove(actor=acme.admin, membership=acme.viewer)
    hook = services.webhook_create(actor=acme.admin, url="http://127.0.0.1:9/hook", events=["plan.submitted"])
    services.webhook_pause(actor=acme.admin, hook=hook)
    services.webhook_rotate_secret(actor=acme.admin, hook=hook)
    secret = Webhook.objects.get(pk=hook.pk).secret
    services.team_delete(actor=acme.manager, team=team)

    trail = [(e.kind, e.action, e.actor_id) for e in _events(acme)]
    assert trail == [
        ("organization", "changed settings", acme.admin.user_id),
        ("membership", "changed the role of", acme.admin.user_id),
        ("team", "created", acme.manager.user_id),
        ("team", "added a member to", acme.manager.user_id),
        ("team", "changed", acme.manager.user_id),
        ("invitation", "invited", acme.admin.user_id),
        ("invitation", "withdrew", acme.admin.user_id),
        ("membership", "removed", acme.admin.user_id),
        ("webhook", "created", acme.admin.user_id),
        ("webhook", "paused", acme.admin.user_id),
        ("webhook", "rotated the signing secret of", acme.admin.user_id),
        ("team", "deleted", acme.manager.user_id),
    ]
    settings_event, role_event = _events(acme)[:2]
    assert settings_event.changes == {"name": ["Acme", "Acme Copywriting"], "approvals_required": [1, 2]}
    assert role_event.changes == {"role": ["Member", "Manager"]}
    assert _events(acme, kind="team", action="changed")[0].changes == {"name": ["Sales", "Sales & Outreach"]}
    assert not any(secret in str(e.changes) or secret in e.comment for e in _events(acme))


@pytest.mark.django_db
def test_core_services_check_their_own_permission(acme):
    """The services are the last line, whatever view or script calls them."""
    from django.core.exceptions import PermissionDenied

    team = Team.objects.create(organization=acme.org, name="Ops")
    invitation = Invitation.objects.create(
        organization=acme.org,
        email="x@example.com",
        role="member",
        expires_at=timezone.now() + timedelta(days=1),
    )
    calls = [
        lambda: services.team_create(actor=acme.member, name="Rogue"),
        lambda: services.team_delete(actor=acme.member, team=team),
        lambda: services.team_add_member(actor=acme.viewer, team=team, membership=acme.member),
        lambda: services.membership_remove(actor=acme.manager, membership=acme.member),
        lambda: services.membership_change_role(actor=acme.manager, membership=acme.member, role="admin"),
        lambda: services.invitation_create(actor=acme.manager, email="y@example.com", role="member"),
        lambda: services.invitation_revoke(actor=acme.member, invitation=invitation),
        lambda: services.organization_update(actor=acme.manager, organization=acme.org, name="Mine"),
        lambda: services.webhook_create(
            actor=acme.manager, url="https://example.com/x", events=["plan.submitted"]
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not _events(acme)
    assert Team.objects.filter(organization=acme.org).count() == 1


@pytest.mark.django_db
def test_a_plans_activity_tab_reads_the_trail(acme, clients, plan, tree):
    from planning import services as planning

    _, objective, _ = tree
    planning.node_update(actor=acme.manager, node=objective, version=None, title="Close six clients a month")
    planning.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    html = (
        clients["viewer"]
        .get(reverse("planning:plan_activity", args=[acme.org.slug, plan.pk]))
        .content.decode()
    )
    assert "submitted for review" in html and "Close six clients a month" in html
    assert "<del>Close five clients a month</del>" in html


@pytest.mark.django_db
def test_the_audit_page_is_for_admins_and_filters(acme, other, clients):
    services.team_create(actor=acme.manager, name="Sales")
    services.organization_update(actor=acme.admin, organization=acme.org, name="Acme Two")
    services.team_create(actor=other.owner, name="Globex secret team")
    url = reverse("audit_log", args=[acme.org.slug])
    for role, status in {
        "owner": 200,
        "admin": 200,
        "manager": 403,
        "member": 403,
        "viewer": 403,
        "outsider": 404,
    }.items():
        assert clients[role].get(url).status_code == status, role
    html = clients["admin"].get(url).content.decode()
    assert "Sales" in html and "Acme Two" in html and "Globex secret team" not in html
    only_teams = clients["admin"].get(url, {"kind": "team"}).content.decode()
    assert "Sales" in only_teams and "changed settings" not in only_teams
    by_admin = clients["admin"].get(url, {"actor": acme.admin.pk}).content.decode()
    assert "changed settings" in by_admin and "<strong>Sales</strong>" not in by_admin
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "Nothing matches." in clients["admin"].get(url, {"start": tomorrow}).content.decode()
    bad = clients["admin"].get(url, {"start": tomorrow, "end": "2000-01-01"})
    assert bad.status_code == 400 and "Choose an end on or after the start." in bad.content.decode()


@pytest.mark.django_db
def test_the_audit_csv_export_holds_the_filtered_events(acme, clients):
    services.team_create(actor=acme.manager, name="=HYPERLINK(evil)")
    services.organization_update(actor=acme.admin, organization=acme.org, name="Acme Two")
    response = clients["owner"].get(reverse("audit_log_csv", args=[acme.org.slug]), {"kind": "team"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["when", "who", "action", "kind"]
    assert len(rows) == 2 and rows[1][3] == "team" and rows[1][4] == "'=HYPERLINK(evil)"
    assert clients["member"].get(reverse("audit_log_csv", args=[acme.org.slug])).status_code == 403


@pytest.mark.django_db
def test_the_audit_page_stays_flat_in_queries(acme, clients, django_assert_max_num_queries):
    url = reverse("audit_log", args=[acme.org.slug])

    def add(count):
        for i in range(count):
            services.team_create(actor=acme.manager, name=f"Team {AuditEvent.objects.count()}-{i}")
        MembershipFactory(organization=acme.org)

    add(3)
    with django_assert_max_num_queries(15) as small:
        assert clients["admin"].get(url).status_code == 200
    add(120)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert clients["admin"].get(url).status_code == 200


@pytest.mark.django_db
def test_the_audit_api_is_read_only_for_admins(acme, other):
    from tests.planning.factories import api_client

    services.team_create(actor=acme.manager, name="Sales")
    services.organization_update(actor=acme.admin, organization=acme.org, name="Acme Two")
    services.team_create(actor=other.manager, name="Their team")
    url = reverse("api_audit_events", args=[acme.org.slug])

    body = api_client(acme.admin).get(url, {"kind": "team"}).json()
    assert [(e["kind"], e["action"], e["object_repr"]) for e in body["results"]] == [
        ("team", "created", "Sales")
    ]
    assert body["results"][0]["actor"] == acme.manager.user_id
    everything = api_client(acme.owner).get(url).json()
    assert "Their team" not in str(everything)  # another organization's trail never shows
    assert {"organization", "team"} <= {e["kind"] for e in everything["results"]}
    mine = api_client(acme.admin).get(url, {"actor": acme.admin.user_id}).json()["results"]
    assert {e["actor"] for e in mine} == {acme.admin.user_id}

    for role in ("manager", "member", "viewer"):
        assert api_client(getattr(acme, role)).get(url).status_code == 403, role
    assert api_client(other.admin).get(url).status_code == 404
    assert api_client().get(url).status_code in (401, 403)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(api_client(acme.admin), method)(url, {}).status_code == 405, method

    for bad in (
        {"start": "tomorrow"},
        {"start": "2027-02-01", "end": "2027-01-01"},
        {"kind": "x;drop"},
        {"who": "1"},
    ):
        response = api_client(acme.admin).get(url, bad)
        assert response.status_code == 400 and response.json()["fields"], bad


@pytest.mark.django_db
def test_the_audit_api_stays_flat_in_queries(acme, django_assert_max_num_queries):
    from tests.planning.factories import api_client

    url = reverse("api_audit_events", args=[acme.org.slug])
    client = api_client(acme.admin)
    services.team_create(actor=acme.manager, name="First")
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    for i in range(60):
        services.team_create(actor=acme.manager, name=f"Team {i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url).json()["results"]) > 1


@pytest.mark.django_db
def test_a_plans_activity_tab_stays_flat_in_queries(acme, clients, django_assert_max_num_queries):
    from metrics import services as metrics_services
    from planning import services as planning_services
    from tests.factories import make_plan

    def grow(plan, count):
        milestone = plan.milestones.first()
        for i in range(count):
            planning_services.node_update(
                actor=acme.manager, node=milestone, version=None, title=f"Pipeline {i}"
            )
            milestone.refresh_from_db()
        objective = plan.objectives.first()
        kpi = metrics_services.kpi_create(
            actor=acme.manager,
            name=f"Leads {plan.pk}-{count}",
            unit="number",
            direction="increase",
            target=10,
            frequency="monthly",
            objectives=[objective],
        )
        for i in range(count):
            metrics_services.kpi_update(actor=acme.manager, kpi=kpi, version=None, target=11 + i)
            kpi.refresh_from_db()

    plan = make_plan(acme.org, acme.manager, milestones=1, objectives=1, steps=1)
    url = reverse("planning:plan_activity", args=[acme.org.slug, plan.pk])
    grow(plan, 2)
    with django_assert_max_num_queries(20) as small:
        assert clients["manager"].get(url).status_code == 200
    grow(plan, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = clients["manager"].get(url)
    assert response.status_code == 200 and "Leads" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "dates", [{"end": "9999-12-31"}, {"start": "0001-01-01"}, {"start": "0001-01-01", "end": "9999-12-31"}]
)
def test_the_first_and_last_days_there_are_filter_without_error(acme, clients, dates):
    from tests.planning.factories import api_client

    services.team_create(actor=acme.manager, name="Sales")
    for name in ("audit_log", "audit_log_csv"):
        assert (
            clients["admin"].get(reverse(qualified(name), args=[acme.org.slug]), dates).status_code == 200
        ), name
    response = api_client(acme.admin).get(reverse("api_audit_events", args=[acme.org.slug]), dates)
    assert response.status_code == 200 and response.json()["count"] >= 1
