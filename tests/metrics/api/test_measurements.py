"""Measurements over the API: a second value corrects the first, filters and pages, refusals; and the CSV import, all or nothing.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrics import services
from metrics.models import Measurement
from metrics.rules import period_label
from tests.metrics.api.common import month, url
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db


# --- Measurements -----------------------------------------------------------------------------------


def test_a_second_value_for_a_period_corrects_the_first_and_keeps_it(acme, leads):
    member = api_client(acme.member)
    first = member.post(
        url("api_measurement_list", leads.pk), {"period": month(1) + timedelta(days=9), "value": 90}
    )
    assert first.status_code == 201, first.json()
    assert first.json()["period"] == month(1).isoformat()
    assert first.json()["corrects"] is None
    assert first.json()["recorded_by"]["id"] == acme.member.user.pk

    second = api_client(acme.manager).post(
        url("api_measurement_list", leads.pk), {"period": month(1), "value": "96.5", "note": " recount "}
    )

    assert second.status_code == 201
    body = second.json()
    assert (body["value"], body["note"], body["is_current"], body["corrects"]) == (
        "96.5000",
        "recount",
        True,
        first.json()["id"],
    )
    assert body["label"] == period_label("monthly", month(1))
    current = member.get(url("api_measurement_list", leads.pk)).json()
    assert [m["id"] for m in current["results"]] == [body["id"]]
    history = member.get(url("api_measurement_list", leads.pk), {"include_history": "true"}).json()
    assert [(m["value"], m["is_current"]) for m in history["results"]] == [
        ("96.5000", True),
        ("90.0000", False),
    ]
    # The list's status follows the correction.
    row = member.get(url("api_kpi_list")).json()["results"][0]
    assert row["latest"]["value"] == "96.5000"


def test_measurements_filter_by_period(acme, leads, manager):
    for ago, value in [(4, 1), (3, 2), (2, 3), (1, 4)]:
        services.measurement_record(actor=acme.manager, kpi=leads, period=month(ago), value=value)

    def values(**query):
        response = manager.get(url("api_measurement_list", leads.pk), query)
        assert response.status_code == 200, response.json()
        return [m["value"] for m in response.json()["results"]]

    assert values() == ["4.0000", "3.0000", "2.0000", "1.0000"]
    # Periods that overlap the days asked for: the 15th of a month takes in that month.
    assert values(period_from=month(3) + timedelta(days=14)) == ["4.0000", "3.0000", "2.0000"]
    assert values(period_to=month(3) + timedelta(days=14)) == ["2.0000", "1.0000"]
    assert values(period_from=month(3), period_to=month(2)) == ["3.0000", "2.0000"]
    # A filter sent empty is a value like any other (not "no filter"): refused, like a wrong one.
    response = manager.get(url("api_measurement_list", leads.pk), {"period_to": "", "include_history": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"period_to", "include_history"}

    response = manager.get(
        url("api_measurement_list", leads.pk), {"period_from": "soon", "include_history": "perhaps"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"period_from", "include_history"}
    response = manager.get(
        url("api_measurement_list", leads.pk), {"period_from": month(1), "period_to": month(2)}
    )
    assert response.status_code == 400
    assert "period_to" in response.json()["fields"]


def test_measurements_are_paginated(acme, leads, manager):
    for ago in range(3):
        services.measurement_record(actor=acme.manager, kpi=leads, period=month(ago), value=ago)
    body = manager.get(url("api_measurement_list", leads.pk), {"limit": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": "abc"}, "value"),
        ({"value": "1e30"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": ""}, "value"),
        ({"value": None}, "value"),
        ({"period": "March"}, "period"),
        ({"period": None}, "period"),
        ({"period": "far"}, "period"),  # more than a year ahead
        ({"note": "x" * 2001}, "note"),
        ({"kpi": 1}, "kpi"),
    ],
)
def test_bad_measurements_are_400_and_save_nothing(acme, leads, change, field):
    data = {"period": month(1), "value": "12", **change}
    if data["period"] == "far":
        data["period"] = timezone.localdate() + timedelta(days=400)
    data = {k: v for k, v in data.items() if v is not None}
    services.measurement_record(actor=acme.member, kpi=leads, period=month(1), value=5)

    response = api_client(acme.member).post(url("api_measurement_list", leads.pk), data)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field]
    assert list(Measurement.objects.values_list("value", "is_current")) == [(Decimal(5), True)]


# --- CSV import -------------------------------------------------------------------------------------


def upload(text: str | bytes, name: str = "values.csv") -> dict:
    content = text.encode() if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_import_measurements(acme, leads, manager):
    services.measurement_record(actor=acme.member, kpi=leads, period=month(2), value=50)
    csv = (
        "kpi,period,value,note\n"
        f"Leads reached a month,{month(2)},55,recount\n"
        f'leads reached a MONTH,{month(1) + timedelta(days=3)},"1,200.5",\n'
    )

    response = manager.post(url("api_measurements_import"), upload(csv), format="multipart")

    assert response.status_code == 200, response.json()
    assert response.json() == {"rows": 2, "saved": 2}
    assert list(
        Measurement.objects.filter(is_current=True)
        .order_by("period_start")
        .values_list("period_start", "value")
    ) == [(month(2), Decimal(55)), (month(1), Decimal("1200.5"))]
    assert Measurement.objects.filter(is_current=False).count() == 1  # the correction kept the old value


def test_an_import_with_bad_rows_saves_nothing_and_says_which(acme, leads, manager):
    csv = (
        "kpi,period,value,note\n"
        f"Leads reached a month,{month(1)},10,\n"
        f"Sales calls,{month(1)},3,\n"
        f"Leads reached a month,01/03/2026,4,\n"
        f"Leads reached a month,{month(2)},many,\n"
    )

    response = manager.post(url("api_measurements_import"), upload(csv), format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert [e["line"] for e in body["errors"]] == [3, 4, 5]
    assert "No KPI named “Sales calls”" in body["errors"][0]["message"]
    assert "not a date" in body["errors"][1]["message"]
    assert "not a number" in body["errors"][2]["message"]
    assert body["fields"]["file"][0].startswith("Line 3: ")
    assert not Measurement.objects.exists()


def test_an_import_with_a_period_too_far_ahead_saves_nothing(acme, leads, manager):
    far = timezone.localdate() + timedelta(days=400)
    csv = f"kpi,period,value\nLeads reached a month,{month(1)},10\nLeads reached a month,{far},4\n"

    response = manager.post(url("api_measurements_import"), upload(csv), format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 0
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("kpi,period,value\n", name="values.xlsx"), "Upload a .csv file."),
        (upload("kpi,period,value\n" + "x" * (1024 * 1024)), "The file is larger than 1 MB."),
        ({}, "No file was submitted."),
        ({"file": "kpi,period,value"}, "The submitted data was not a file"),
    ],
)
def test_only_csv_files_up_to_1_mb(leads, manager, file, message):
    response = manager.post(url("api_measurements_import"), file, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["fields"]["file"][0]
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,day,amount\nLeads,2026-01-01,3\n", "Missing column(s): kpi, period, value."),
        (b"kpi,period,value\n\xff\xfe,\x00", "The file is not UTF-8 text."),
    ],
)
def test_a_file_that_is_not_the_expected_csv(leads, manager, content, message):
    response = manager.post(url("api_measurements_import"), upload(content), format="multipart")
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
