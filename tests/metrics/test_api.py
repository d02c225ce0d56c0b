"""The metrics API's behaviour: KPIs and their status, measurements and corrections, the CSV import, key
results, check-ins, the progress breakdown, ETag/If-Match, query counts and the OpenAPI schema. Who may
call what is in ``test_api_permissions.py``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from metrics import services
from metrics.models import KPI, CheckIn, KeyResult, KPITarget, Measurement
from metrics.rules import period_label, period_start, previous_period
from planning import services as planning_services
from planning.models import ActionStep, Objective, Plan
from tests.factories import MembershipFactory, TeamFactory
from tests.planning.factories import PlanFactory, api_client, build_tree

pytestmark = pytest.mark.django_db


def url(name: str, *args: int) -> str:
    return reverse(name, args=["acme", *args])


def month(ago: int) -> date:
    """The first day of the month ``ago`` months before this one."""
    start = period_start("monthly", timezone.localdate())
    for _ in range(ago):
        start = previous_period("monthly", start)
    return start


@pytest.fixture
def manager(acme):
    return api_client(acme.manager)


def kpi_payload(**change) -> dict:
    return {
        "name": "Revenue",
        "unit": "currency",
        "currency": "eur",
        "direction": "increase",
        "target": "1000",
        "amber_threshold": 900,
        "red_threshold": "700.5",
        "frequency": "monthly",
        **change,
    }


def saved() -> tuple[int, int, int, int]:
    return (
        KPI.objects.count(),
        Measurement.objects.count(),
        KeyResult.objects.count(),
        CheckIn.objects.count(),
    )


# --- KPIs -------------------------------------------------------------------------------------------


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


# --- Key results ------------------------------------------------------------------------------------


def test_add_a_key_result(acme, tree, manager):
    _, objective, _ = tree

    response = manager.post(
        url("api_key_result_list"),
        {
            "objective": objective.pk,
            "title": " Clients signed ",
            "target": 5,
            "weight": 3,
            "owner": acme.member.pk,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"v1"'
    assert response["Location"] == url("api_key_result_detail", body["id"])
    assert (body["title"], body["kind"], body["start"], body["target"], body["current"]) == (
        "Clients signed",
        "number",
        "0.0000",
        "5.0000",
        "0.0000",
    )
    assert (body["plan"], body["objective"], body["weight"], body["position"]) == (
        objective.plan_id,
        objective.pk,
        3,
        0,
    )
    assert body["owner"] == {"id": acme.member.pk, "name": acme.member.user.display_name}
    assert (body["progress"], body["progress_detail"]) == (0, "0 of 5 (from 0)")

    yes_no = manager.post(
        url("api_key_result_list"), {"objective": objective.pk, "title": "Launched", "kind": "yes_no"}
    )
    assert yes_no.status_code == 201
    assert (yes_no.json()["target"], yes_no.json()["position"]) == ("1.0000", 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"target": None}, "target"),  # a number needs a target
        ({"start": 5}, "target"),  # the target must differ from the start
        ({"start": 10}, "direction"),  # going down, but "increase"
        ({"kind": "percent", "target": 120}, "target"),
        ({"kind": "stars"}, "kind"),
        ({"direction": "within"}, "direction"),
        ({"weight": 101}, "weight"),
        ({"weight": "heavy"}, "weight"),
        ({"target": "lots"}, "target"),
        ({"target": "1e30"}, "target"),
        ({"current": "Infinity"}, "current"),
        ({"objective": None}, "objective"),
        ({"version": 1}, "version"),
        ({"progress": 50}, "progress"),
    ],
)
def test_bad_key_result_input_is_400_and_saves_nothing(tree, manager, change, field):
    _, objective, _ = tree
    data = {"objective": objective.pk, "title": "Clients signed", "target": 5, **change}
    data = {k: v for k, v in data.items() if v is not None}

    response = manager.post(url("api_key_result_list"), data)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field], response.json()
    assert not KeyResult.objects.exists()


def test_key_results_filter(acme, plan, tree, key_result, manager):
    milestone, _, _ = tree
    second = planning_services.objective_create(
        actor=acme.manager, milestone=milestone, title="Hire", owner=acme.admin
    )
    hire = services.key_result_create(actor=acme.manager, objective=second, title="Hires", target=2)
    mine = services.key_result_create(
        actor=acme.manager, objective=second, title="Mine", target=2, owner=acme.member
    )
    elsewhere = PlanFactory(organization=acme.org, owner=acme.manager)
    build_tree(elsewhere, milestones=1, objectives=1, steps=0)
    other_objective = Objective.objects.get(plan=elsewhere)
    far = services.key_result_create(actor=acme.manager, objective=other_objective, title="Far", target=1)

    def ids(**query):
        response = manager.get(url("api_key_result_list"), query)
        assert response.status_code == 200, response.json()
        return [kr["id"] for kr in response.json()["results"]]

    assert ids(plan=plan.pk) == [key_result.pk, hire.pk, mine.pk]
    assert ids(objective=second.pk) == [hire.pk, mine.pk]
    assert ids(owner=acme.admin.pk) == [hire.pk]  # no owner of its own: the objective's answers
    assert ids(owner=acme.member.pk) == [mine.pk]
    assert ids(owner=acme.manager.pk) == [key_result.pk]
    assert ids(plan=elsewhere.pk) == [far.pk]
    assert len(ids()) == 4
    for bad in ({"plan": "x", "owner": 0}, {"plan": "", "owner": ""}):  # empty is not "no filter"
        response = manager.get(url("api_key_result_list"), bad)
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"plan", "owner"}


def test_change_and_delete_a_key_result(acme, key_result, manager):
    target = url("api_key_result_detail", key_result.pk)

    response = manager.patch(target, {"target": 10, "title": "Clients", "owner": acme.member.pk})
    assert response.status_code == 200, response.json()
    assert (response.json()["target"], response.json()["title"], response.json()["owner"]["id"]) == (
        "10.0000",
        "Clients",
        acme.member.pk,
    )
    assert response["ETag"] == '"v2"'

    response = manager.patch(target, {"start": 20})  # now going down to 10 while "increase"
    assert response.status_code == 400
    assert "direction" in response.json()["fields"]
    assert KeyResult.objects.get(pk=key_result.pk).version == 2

    assert manager.delete(target).status_code == 204
    assert not KeyResult.objects.exists()


def test_key_results_of_a_plan_in_review_are_locked(acme, plan, tree, key_result, manager):
    _, objective, _ = tree
    Plan.objects.filter(pk=plan.pk).update(status="in_review")
    target = url("api_key_result_detail", key_result.pk)

    responses = [
        manager.post(url("api_key_result_list"), {"objective": objective.pk, "title": "Late", "target": 1}),
        manager.patch(target, {"title": "Sneaky"}),
        manager.delete(target),
    ]

    assert [r.status_code for r in responses] == [409] * 3
    assert all(r.json()["code"] == "conflict" for r in responses)
    assert list(KeyResult.objects.values_list("pk", "title", "version")) == [
        (key_result.pk, "Clients signed", 1)
    ]


# --- ETag and If-Match ------------------------------------------------------------------------------


@dataclass
class Versioned:
    """A KPI or key result under test: its URL, a valid change, the text field it changes, its service."""

    target: str
    field: str
    service: str
    model: type[KPI] | type[KeyResult]
    pk: int

    @property
    def change(self) -> dict:
        return {self.field: "Renamed"}


@pytest.fixture(params=["kpi", "key_result"])
def subject(request, leads, key_result) -> Versioned:
    if request.param == "kpi":
        return Versioned(url("api_kpi_detail", leads.pk), "name", "kpi_update", KPI, leads.pk)
    return Versioned(
        url("api_key_result_detail", key_result.pk), "title", "key_result_update", KeyResult, key_result.pk
    )


def test_two_clients_with_one_etag_the_first_patch_wins(acme, subject):
    first, second = api_client(acme.manager), api_client(acme.admin)
    etag = first.get(subject.target)["ETag"]
    assert etag == '"v1"' == second.get(subject.target)["ETag"]

    won = first.patch(subject.target, {subject.field: "First"}, HTTP_IF_MATCH=etag)
    lost = second.patch(subject.target, {subject.field: "Second"}, HTTP_IF_MATCH=etag)

    assert won.status_code == 200
    assert won["ETag"] == '"v2"'
    assert lost.status_code == 412
    assert set(lost.json()) == {"detail", "code", "fields"}
    assert lost.json()["code"] == "precondition_failed"
    assert first.get(subject.target).json()[subject.field] == "First"
    assert (
        second.patch(subject.target, {subject.field: "Second"}, HTTP_IF_MATCH=won["ETag"]).status_code == 200
    )


def test_a_stale_version_in_the_body_is_409_with_the_current_version(manager, subject):
    assert manager.patch(subject.target, {**subject.change, "version": 1}).status_code == 200

    response = manager.patch(subject.target, {subject.field: "Mine", "version": 1})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert response.json()["code"] == "conflict"
    assert manager.get(subject.target).json()[subject.field] == subject.change[subject.field]


def test_delete_with_a_stale_etag_is_412(manager, subject):
    manager.patch(subject.target, subject.change)  # now at v2

    response = manager.delete(subject.target, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412
    assert manager.get(subject.target).status_code == 200

    assert manager.delete(subject.target, HTTP_IF_MATCH='W/"v2"').status_code == 204
    assert manager.get(subject.target).status_code == 404


def test_a_stale_if_match_wins_over_bad_content(manager, subject):
    manager.patch(subject.target, subject.change)
    response = manager.patch(subject.target, {subject.field: ""}, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412


@pytest.mark.parametrize(
    ("if_match", "expected"), [('"v1"', 200), ("*", 200), ('"v0", "v1"', 200), ("v1", 412)]
)
def test_if_match_forms(manager, subject, if_match, expected):
    assert manager.patch(subject.target, subject.change, HTTP_IF_MATCH=if_match).status_code == expected


def test_a_save_between_the_if_match_check_and_the_service_lock_is_still_412(manager, subject, monkeypatch):
    original = getattr(services, subject.service)

    def someone_saves_first(**kwargs):
        subject.model.objects.filter(pk=subject.pk).update(
            version=F("version") + 1, **{subject.field: "Theirs"}
        )
        return original(**kwargs)

    monkeypatch.setattr(services, subject.service, someone_saves_first)

    response = manager.patch(subject.target, {subject.field: "Mine"}, HTTP_IF_MATCH='"v1"')

    assert response.status_code == 412
    assert getattr(subject.model.objects.get(pk=subject.pk), subject.field) == "Theirs"


def test_without_a_precondition_the_last_write_applies(manager, subject):
    manager.patch(subject.target, {subject.field: "One"})
    response = manager.patch(subject.target, {subject.field: "Two"})
    assert (response.status_code, response.json()[subject.field], response["ETag"]) == (200, "Two", '"v3"')


def test_a_check_in_moves_the_key_results_etag(manager, key_result):
    target = url("api_key_result_detail", key_result.pk)
    etag = manager.get(target)["ETag"]
    manager.post(
        url("api_check_in_list"),
        {"target": "key_result", "key_result": key_result.pk, "value": 2, "confidence": "on_track"},
    )
    assert manager.patch(target, {"title": "Stale"}, HTTP_IF_MATCH=etag).status_code == 412


# --- Check-ins --------------------------------------------------------------------------------------


def test_check_in_on_a_key_result_sets_its_value(acme, key_result, manager):
    response = manager.post(
        url("api_check_in_list"),
        {
            "target": "key_result",
            "key_result": key_result.pk,
            "value": "3",
            "confidence": "at_risk",
            "note": " Two in the pipe ",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["target"], body["key_result"], body["objective"], body["step"]) == (
        "key_result",
        key_result.pk,
        None,
        None,
    )
    assert (body["value"], body["previous_value"], body["confidence"], body["note"]) == (
        "3.0000",
        "0.0000",
        "at_risk",
        "Two in the pipe",
    )
    assert (body["title"], body["plan"], body["step_status"]) == ("Clients signed", key_result.plan_id, None)
    assert body["author"] == {"id": acme.manager.user.pk, "name": acme.manager.user.display_name}
    kr = manager.get(url("api_key_result_detail", key_result.pk)).json()
    assert (kr["current"], kr["progress"], kr["version"]) == ("3.0000", 60, 2)


def test_check_in_on_an_objective_and_on_a_step(acme, tree, manager):
    _, objective, step = tree

    response = manager.post(
        url("api_check_in_list"),
        {"target": "objective", "objective": objective.pk, "confidence": "off_track"},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["title"], response.json()["value"]) == (objective.title, None)

    response = api_client(acme.member).post(
        url("api_check_in_list"),
        {"target": "step", "step": step.pk, "status": "blocked", "confidence": "at_risk", "note": "Waiting"},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["step_status"], response.json()["step"]) == ("blocked", step.pk)
    assert ActionStep.objects.get(pk=step.pk).status == "blocked"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target": "key_result", "key_result": "kr", "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": None, "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": "abc", "confidence": "on_track"}, "value"),
        ({"target": "key_result", "key_result": "kr", "value": "1e30", "confidence": "on_track"}, "value"),
        (
            {
                "target": "key_result",
                "key_result": "kr",
                "value": 3,
                "status": "done",
                "confidence": "on_track",
            },
            "status",
        ),
        ({"target": "key_result", "value": 3, "confidence": "on_track"}, "key_result"),
        (
            {
                "target": "key_result",
                "key_result": "kr",
                "objective": "o",
                "value": 3,
                "confidence": "on_track",
            },
            "objective",
        ),
        ({"target": "key_result", "key_result": "kr", "value": 3}, "confidence"),
        ({"target": "key_result", "key_result": "kr", "value": 3, "confidence": "meh"}, "confidence"),
        ({"target": "objective", "objective": "o", "value": 3, "confidence": "on_track"}, "value"),
        ({"target": "objective", "objective": "o", "confidence": "on_track", "note": "x" * 5001}, "note"),
        ({"target": "step", "step": "s", "confidence": "on_track"}, "status"),
        ({"target": "step", "step": "s", "status": "finished", "confidence": "on_track"}, "status"),
        ({"target": "step", "key_result": "kr", "status": "done", "confidence": "on_track"}, "step"),
        ({"target": "planet", "confidence": "on_track"}, "target"),
        ({"key_result": "kr", "value": 3, "confidence": "on_track"}, "target"),
        ({"target": "objective", "objective": "o", "confidence": "on_track", "author": 1}, "author"),
    ],
)
def test_bad_check_ins_are_400_and_change_nothing(acme, tree, key_result, manager, payload, field):
    _, objective, step = tree
    ids = {"kr": key_result.pk, "o": objective.pk, "s": step.pk}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}

    response = manager.post(url("api_check_in_list"), data)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field], response.json()
    assert not CheckIn.objects.exists()
    assert KeyResult.objects.get(pk=key_result.pk).current == 0
    assert ActionStep.objects.get(pk=step.pk).status == "todo"


def test_no_check_ins_on_a_closed_plan(acme, plan, tree, key_result, manager):
    _, objective, step = tree
    Plan.objects.filter(pk=plan.pk).update(status="closed")

    responses = [
        manager.post(
            url("api_check_in_list"),
            {"target": "key_result", "key_result": key_result.pk, "value": 1, "confidence": "on_track"},
        ),
        manager.post(
            url("api_check_in_list"),
            {"target": "objective", "objective": objective.pk, "confidence": "on_track"},
        ),
        manager.post(
            url("api_check_in_list"),
            {"target": "step", "step": step.pk, "status": "done", "confidence": "on_track"},
        ),
    ]

    assert [r.status_code for r in responses] == [409] * 3
    assert not CheckIn.objects.exists()
    assert ActionStep.objects.get(pk=step.pk).status == "todo"


def test_check_ins_filter(acme, plan, tree, key_result, manager):
    _, objective, step = tree
    on_kr = services.check_in_key_result(
        actor=acme.manager, key_result=key_result, value=1, confidence="on_track"
    )
    on_objective = services.check_in_objective(actor=acme.owner, objective=objective, confidence="at_risk")
    on_step = services.check_in_step(actor=acme.member, step=step, status="doing", confidence="on_track")
    CheckIn.objects.filter(pk=on_kr.pk).update(created_at=timezone.now() - timedelta(days=10))
    other_plan = PlanFactory(organization=acme.org, owner=acme.manager)
    build_tree(other_plan, milestones=1, objectives=1, steps=0)
    elsewhere = services.check_in_objective(
        actor=acme.owner, objective=Objective.objects.get(plan=other_plan), confidence="on_track"
    )

    def ids(**query):
        response = manager.get(url("api_check_in_list"), query)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids() == [elsewhere.pk, on_step.pk, on_objective.pk, on_kr.pk]  # newest first
    assert ids(plan=plan.pk) == [on_step.pk, on_objective.pk, on_kr.pk]
    assert ids(objective=objective.pk) == [on_objective.pk, on_kr.pk]  # its key results' too
    assert ids(key_result=key_result.pk) == [on_kr.pk]
    assert ids(step=step.pk) == [on_step.pk]
    assert ids(author=acme.owner.user.pk) == [elsewhere.pk, on_objective.pk]
    assert ids(since=(timezone.localdate() - timedelta(days=2)).isoformat(), plan=plan.pk) == [
        on_step.pk,
        on_objective.pk,
    ]
    # A parameter sent empty is a value like any other, not "no filter".
    response = manager.get(url("api_check_in_list"), {"since": "", "author": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"since", "author"}
    response = manager.get(url("api_check_in_list"), {"since": "last week", "step": "one"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"since", "step"}
    # An id past 64 bits is a field error on every database (SQLite's driver would overflow).
    response = manager.get(url("api_check_in_list"), {"key_result": 2**63, "objective": 2**64})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"key_result", "objective"}
    assert ids(key_result=2**63 - 1) == []


# --- Progress ---------------------------------------------------------------------------------------


def test_the_progress_explains_every_figure(acme, plan, tree, key_result):
    milestone, objective, step = tree
    empty = planning_services.objective_create(
        actor=acme.manager, milestone=milestone, title="Hire", weight=0
    )
    services.check_in_key_result(actor=acme.manager, key_result=key_result, value=3, confidence="on_track")

    response = api_client(acme.viewer).get(reverse("api_plan_progress", args=["acme", plan.pk]))

    assert response.status_code == 200
    body = response.json()
    # The step (not done, 0%) and the key result (3 of 5, 60%) weigh the same: 30%. The empty objective
    # weighs nothing, so the milestone and the plan are at 30% too.
    assert body["objectives"] == [
        {
            "id": objective.pk,
            "title": objective.title,
            "milestone": milestone.pk,
            "percent": 30,
            "note": "",
            "parts": [
                {
                    "label": step.title,
                    "kind": "step",
                    "node_id": step.pk,
                    "percent": 0,
                    "weight": 1.0,
                    "detail": "to do",
                },
                {
                    "label": "Clients signed",
                    "kind": "key_result",
                    "node_id": key_result.pk,
                    "percent": 60,
                    "weight": 1.0,
                    "detail": "3 of 5 (from 0)",
                },
            ],
        },
        {
            "id": empty.pk,
            "title": "Hire",
            "milestone": milestone.pk,
            "percent": 0,
            "note": "No steps or key results yet.",
            "parts": [],
        },
    ]
    assert body["milestones"] == [
        {
            "id": milestone.pk,
            "title": milestone.title,
            "percent": 30,
            "note": "",
            "parts": [
                {
                    "label": objective.title,
                    "kind": "objective",
                    "node_id": objective.pk,
                    "percent": 30,
                    "weight": 1.0,
                    "detail": "",
                },
                {
                    "label": "Hire",
                    "kind": "objective",
                    "node_id": empty.pk,
                    "percent": 0,
                    "weight": 0.0,
                    "detail": "",
                },
            ],
        }
    ]
    assert body["plan"]["id"] == plan.pk
    assert body["plan"]["percent"] == 30
    assert [p["node_id"] for p in body["plan"]["parts"]] == [milestone.pk]


# --- Query counts stay flat as data grows -----------------------------------------------------------


def flat(client, target: str, query: dict, grow, django_assert_max_num_queries) -> dict:
    """The queries of ``target`` on the small data, then at most as many after ``grow()``."""
    with CaptureQueriesContext(connection) as small:
        response = client.get(target, query)
    assert response.status_code == 200, response.json()
    grow()
    with django_assert_max_num_queries(len(small)):
        response = client.get(target, query)
    assert response.status_code == 200
    return response.json()


def weekly_periods(count: int) -> list[date]:
    monday = period_start("weekly", timezone.localdate())
    return [monday - timedelta(weeks=i) for i in range(count)]


def bulk_measurements(kpis: list[KPI], per_kpi: int, *, history: int = 0) -> None:
    """``per_kpi`` measurements per KPI on distinct weeks; ``history`` of them per week are corrected."""
    rows = []
    for kpi in kpis:
        weeks = weekly_periods(per_kpi // (history + 1))
        for week in weeks:
            rows += [
                Measurement(
                    organization=kpi.organization,
                    kpi=kpi,
                    period_start=week,
                    value=i,
                    is_current=i == 0,
                    recorded_by=kpi.owner.user,
                )
                for i in range(history + 1)
            ]
    Measurement.objects.bulk_create(rows, batch_size=2000)


def make_kpis(acme, count: int, start: int = 0) -> list[KPI]:
    people = [acme.member, acme.admin, acme.manager]
    return [
        services.kpi_create(
            actor=acme.manager,
            name=f"KPI {start + i:04}",
            direction="increase",
            target=100,
            frequency="weekly",
            owner=people[i % 3],
        )
        for i in range(count)
    ]


def test_the_kpi_list_is_flat_from_10_to_10000_measurements(acme, tree, django_assert_max_num_queries):
    _, objective, _ = tree
    small = make_kpis(acme, 2)
    bulk_measurements(small, 5)
    for kpi in small:
        kpi.objectives.set([objective])

    def grow():
        kpis = make_kpis(acme, 58, start=2)
        bulk_measurements(kpis, 173)
        for kpi in kpis:
            kpi.objectives.set([objective])
            KPITarget.objects.create(
                organization=acme.org, kpi=kpi, period_start=weekly_periods(1)[0], target=90
            )

    body = flat(api_client(acme.viewer), url("api_kpi_list"), {}, grow, django_assert_max_num_queries)

    assert Measurement.objects.count() >= 10_000
    assert body["count"] == 60
    assert len(body["results"]) == 50
    assert all(row["latest"] and row["owner"] and row["objectives"] for row in body["results"])


def test_the_measurement_list_is_flat_from_10_to_10000_measurements(acme, django_assert_max_num_queries):
    kpi = make_kpis(acme, 1)[0]
    bulk_measurements([kpi], 10, history=1)

    def grow():
        Measurement.objects.filter(kpi=kpi).delete()
        bulk_measurements([kpi], 10_000, history=3)

    target = url("api_measurement_list", kpi.pk)
    body = flat(
        api_client(acme.viewer), target, {"include_history": "true"}, grow, django_assert_max_num_queries
    )

    assert body["count"] == 10_000
    assert len(body["results"]) == 50
    assert all(row["recorded_by"] for row in body["results"])


def objectives_with_key_results(acme, plan: Plan, milestones: int, objectives: int) -> list[KeyResult]:
    people = [acme.member, acme.admin, MembershipFactory(organization=acme.org)]
    build_tree(plan, milestones=milestones, objectives=objectives, steps=1, people=people)
    krs = KeyResult.objects.bulk_create(
        KeyResult(
            organization=acme.org,
            plan=plan,
            objective=o,
            title=f"KR {o.pk}",
            target=10,
            current=i % 11,
            weight=1 + i % 3,
            owner=people[i % 3],
        )
        for i, o in enumerate(Objective.objects.filter(plan=plan, key_results__isnull=True).order_by("pk"))
    )
    return krs


def test_the_key_result_list_is_flat_from_10_to_1000(acme, django_assert_max_num_queries):
    objectives_with_key_results(acme, PlanFactory(organization=acme.org), 1, 10)

    def grow():
        objectives_with_key_results(acme, PlanFactory(organization=acme.org), 10, 99)

    body = flat(api_client(acme.viewer), url("api_key_result_list"), {}, grow, django_assert_max_num_queries)

    assert body["count"] == 1000
    assert all(row["owner"] for row in body["results"])


def test_the_check_in_list_is_flat_from_10_to_1000(acme, django_assert_max_num_queries):
    authors = [acme.owner.user, acme.member.user, acme.admin.user]

    def check_ins(count: int) -> None:
        plan = PlanFactory(organization=acme.org)
        krs = objectives_with_key_results(acme, plan, 1, max(count // 3, 1))
        steps = list(ActionStep.objects.filter(plan=plan))
        rows = []
        for i in range(count):
            kr, step = krs[i % len(krs)], steps[i % len(steps)]
            target = ["key_result", "objective", "step"][i % 3]
            rows.append(
                CheckIn(
                    organization=acme.org,
                    plan=plan,
                    target=target,
                    key_result=kr if target == "key_result" else None,
                    objective=kr.objective if target == "objective" else None,
                    step=step if target == "step" else None,
                    value=i if target == "key_result" else None,
                    step_status="doing" if target == "step" else "",
                    confidence="on_track",
                    author=authors[i % 3],
                )
            )
        CheckIn.objects.bulk_create(rows)

    check_ins(10)
    body = flat(
        api_client(acme.viewer),
        url("api_check_in_list"),
        {},
        lambda: check_ins(990),
        django_assert_max_num_queries,
    )

    assert body["count"] == 1000
    assert all(row["author"] and row["title"] for row in body["results"])


def test_the_progress_is_flat_from_10_to_1000_objectives_and_key_results(acme, django_assert_max_num_queries):
    plan = PlanFactory(organization=acme.org, owner=acme.manager)
    team = TeamFactory(organization=acme.org)
    objectives_with_key_results(acme, plan, 1, 10)

    def grow():
        objectives_with_key_results(acme, plan, 9, 110)
        Objective.objects.filter(plan=plan).update(team=team)

    target = reverse("api_plan_progress", args=["acme", plan.pk])
    body = flat(api_client(acme.viewer), target, {}, grow, django_assert_max_num_queries)

    assert len(body["objectives"]) == 1000
    assert len(body["milestones"]) == 10
    assert all([p["kind"] for p in o["parts"]] == ["step", "key_result"] for o in body["objectives"])


# --- The OpenAPI schema -----------------------------------------------------------------------------

# operation id -> the statuses it documents: exactly those it can answer with.
METRICS_OPERATIONS = {
    "kpi_list": {"200", "400", "403", "404"},
    "kpi_create": {"201", "400", "403", "404"},
    "kpi_retrieve": {"200", "400", "403", "404"},
    "kpi_update": {"200", "400", "403", "404", "409", "412"},
    "kpi_destroy": {"204", "403", "404", "412"},
    "measurement_list": {"200", "400", "403", "404"},
    "measurement_create": {"201", "400", "403", "404"},
    "measurements_import": {"200", "400", "403", "404"},
    "key_result_list": {"200", "400", "403", "404"},
    "key_result_create": {"201", "400", "403", "404", "409"},
    "key_result_retrieve": {"200", "403", "404"},
    "key_result_update": {"200", "400", "403", "404", "409", "412"},
    "key_result_destroy": {"204", "403", "404", "409", "412"},
    "check_in_list": {"200", "400", "403", "404"},
    "check_in_create": {"201", "400", "403", "404", "409"},
    "plan_progress": {"200", "403", "404"},
}


def test_the_schema_documents_every_metrics_operation_without_warnings(tmp_path: Path, capsys):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    output = capsys.readouterr()
    assert not re.search(r"warning|error", output.err + output.out, re.IGNORECASE), output.err
    text = target.read_text()
    schema = yaml.safe_load(text)
    refs = set(re.findall(r"\$ref: '#/components/schemas/(\w+)'", text))
    assert refs <= set(schema["components"]["schemas"]), refs - set(schema["components"]["schemas"])
    operations = {
        op["operationId"]: (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if op["operationId"] in METRICS_OPERATIONS
    }
    assert set(operations) == set(METRICS_OPERATIONS)
    for operation_id, (path, method, op) in operations.items():
        assert path.startswith("/api/v1/orgs/{org_slug}/"), path
        assert set(op["responses"]) == METRICS_OPERATIONS[operation_id], operation_id
        assert op.get("summary") and op.get("tags"), operation_id
        if method in ("patch", "delete"):
            assert "If-Match" in {p["name"] for p in op["parameters"]}, operation_id
    assert "multipart/form-data" in operations["measurements_import"][2]["requestBody"]["content"]
