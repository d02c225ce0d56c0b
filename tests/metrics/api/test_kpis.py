"""KPIs over the API: defining, listing with their latest value, status and target, one with its last periods, changing and deleting.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metrics import services
from metrics.models import KPI, KPITarget, Measurement
from metrics.rules import period_label
from tests.metrics.api.common import kpi_payload, month, saved, url
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db


def test_define_a_kpi(acme, tree, manager):
    _, objective, _ = tree

    response = manager.post(
        url("api_kpi_list"), kpi_payload(owner=acme.member.pk, objectives=[objective.pk], description="Cash")
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    kpi = KPI.objects.get(pk=body["id"])
    assert response["ETag"] == '"v1"'
    assert response["Location"] == url("api_kpi_detail", kpi.pk)
    assert kpi.organization == acme.org
    assert (body["name"], body["currency"], body["target"], body["red_threshold"]) == (
        "Revenue",
        "EUR",
        "1000.0000",
        "700.5000",
    )
    assert body["owner"] == {"id": acme.member.pk, "name": acme.member.user.display_name}
    assert body["objectives"] == [objective.pk]
    assert body["latest"] is None
    assert body["status"] == {
        "key": "none",
        "label": "No data",
        "reason": "No measurement for this period yet.",
    }
    assert len(body["series"]) == 12
    assert body["series"][-1]["period"] == month(0).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amber_threshold": 1200}, "amber_threshold"),  # higher is better: amber above the target
        ({"amber_threshold": 800, "red_threshold": 850}, "red_threshold"),  # red above amber
        ({"direction": "decrease"}, "amber_threshold"),  # lower is better: amber below the target
        ({"direction": "within", "target_upper": None}, "target_upper"),
        ({"direction": "within", "target_upper": 900}, "target_upper"),  # upper below the target
        (
            {"direction": "within", "target_upper": 1100, "amber_threshold": 50, "red_threshold": 10},
            "red_threshold",
        ),
        ({"target": "lots"}, "target"),
        ({"target": "1e30"}, "target"),
        ({"target": "NaN"}, "target"),
        ({"target": "Infinity"}, "target"),
        ({"target": None}, "target"),
        ({"amber_threshold": "12,5,1"}, "amber_threshold"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"currency": "euros"}, "currency"),
        ({"unit": "stars"}, "unit"),
        ({"direction": "sideways"}, "direction"),
        ({"frequency": "daily"}, "frequency"),
        ({"version": 1}, "version"),  # not settable on create
        ({"latest": 5}, "latest"),  # read-only
    ],
)
def test_bad_kpi_input_is_400_with_field_messages_and_saves_nothing(manager, change, field):
    data = {k: v for k, v in kpi_payload(**change).items() if v is not None}
    before = saved()

    response = manager.post(url("api_kpi_list"), data)

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"][field], body
    assert saved() == before


def test_kpi_names_are_unique_whatever_the_case(leads, manager):
    response = manager.post(url("api_kpi_list"), kpi_payload(name="LEADS reached a month"))
    assert response.status_code == 400
    assert response.json()["fields"]["name"] == ["A KPI with this name exists already."]
    assert KPI.objects.count() == 1


def test_the_list_gives_each_kpis_latest_value_status_and_target(acme, leads, manager):
    churn = services.kpi_create(
        actor=acme.manager,
        name="Churn",
        unit="percent",
        direction="decrease",
        target=5,
        amber_threshold=7,
        red_threshold=10,
        frequency="monthly",
    )
    services.kpi_create(
        actor=acme.manager, name="NPS", direction="stay_above", target=40, frequency="quarterly"
    )
    services.measurement_record(actor=acme.member, kpi=leads, period=month(2), value=95)
    services.measurement_record(actor=acme.member, kpi=leads, period=month(1), value=80)
    services.measurement_record(actor=acme.manager, kpi=churn, period=month(1), value=12)
    KPITarget.objects.create(organization=acme.org, kpi=leads, period_start=month(0), target=120)

    response = api_client(acme.viewer).get(url("api_kpi_list"))

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert list(rows) == ["Churn", "Leads reached a month", "NPS"]
    lead = rows["Leads reached a month"]
    assert lead["latest"]["value"] == "80.0000"
    assert lead["latest"]["period"] == month(1).isoformat()
    assert lead["status"] == {
        "key": "amber",
        "label": "At risk",
        "reason": "80 is below the amber line of 85.",
    }
    assert (lead["target"], lead["current_target"]) == ("100.0000", "120.0000")
    assert lead["owner"]["id"] == acme.member.pk
    assert rows["Churn"]["status"]["key"] == "red"
    assert rows["Churn"]["status"]["reason"] == "12 is above the red line of 10."
    assert rows["NPS"]["status"]["key"] == "none"
    assert rows["NPS"]["latest"] is None
    assert "series" not in lead


def test_a_kpi_with_its_last_periods(acme, leads, manager):
    services.measurement_record(actor=acme.member, kpi=leads, period=month(2), value=60)
    services.measurement_record(actor=acme.member, kpi=leads, period=month(0), value=101)
    KPITarget.objects.create(organization=acme.org, kpi=leads, period_start=month(2), target=50)

    response = manager.get(url("api_kpi_detail", leads.pk), {"periods": 3})

    assert response.status_code == 200
    assert response["ETag"] == '"v1"'
    assert response.json()["series"] == [
        {
            "period": month(2).isoformat(),
            "label": period_label("monthly", month(2)),
            "value": "60.0000",
            "target": "50.0000",
            "status": "red",
        },
        {
            "period": month(1).isoformat(),
            "label": period_label("monthly", month(1)),
            "value": None,
            "target": "100.0000",
            "status": None,
        },
        {
            "period": month(0).isoformat(),
            "label": period_label("monthly", month(0)),
            "value": "101.0000",
            "target": "100.0000",
            "status": "green",
        },
    ]
    assert len(manager.get(url("api_kpi_detail", leads.pk)).json()["series"]) == 12
    response = manager.get(url("api_kpi_detail", leads.pk), {"periods": 0})
    assert response.status_code == 400
    assert "periods" in response.json()["fields"]


def test_change_a_kpi(acme, leads, tree, manager):
    _, objective, _ = tree
    response = manager.patch(
        url("api_kpi_detail", leads.pk), {"amber_threshold": 90, "objectives": [objective.pk], "owner": None}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["amber_threshold"], body["red_threshold"], body["owner"]) == ("90.0000", "70.0000", None)
    assert body["objectives"] == [objective.pk]
    assert (body["version"], response["ETag"]) == (2, '"v2"')

    response = manager.patch(url("api_kpi_detail", leads.pk), {"objectives": []})
    assert response.json()["objectives"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amber_threshold": 120}, "amber_threshold"),  # contradicts the stored target of 100
        ({"direction": "decrease"}, "amber_threshold"),  # contradicts the stored thresholds
        ({"target": "abc"}, "target"),
        ({"name": ""}, "name"),
        ({"id": 5}, "id"),
    ],
)
def test_a_bad_kpi_change_saves_nothing(leads, manager, change, field):
    response = manager.patch(url("api_kpi_detail", leads.pk), change)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    leads.refresh_from_db()
    assert (leads.version, leads.amber_threshold, leads.direction) == (1, Decimal(85), "increase")


def test_delete_a_kpi_with_its_history(acme, leads, manager):
    services.measurement_record(actor=acme.member, kpi=leads, period=month(1), value=1)

    assert manager.delete(url("api_kpi_detail", leads.pk)).status_code == 204

    assert not KPI.objects.exists()
    assert not Measurement.objects.exists()
    assert manager.get(url("api_kpi_detail", leads.pk)).status_code == 404
