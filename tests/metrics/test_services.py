"""KPIs, measurements (corrections keep history), key results, check-ins, CSV import."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bizops.errors import Conflict, ValidationError
from metrics import services
from metrics.models import CheckIn, KeyResult, Measurement
from planning.models import PlanStatus
from planning.selectors import progress_tree
from tests.concurrency import run_in_threads


@pytest.mark.django_db
def test_second_value_for_a_period_corrects_and_keeps_history(acme, leads, march):
    first = services.measurement_record(actor=acme.member, kpi=leads, period=march, value="90")
    second = services.measurement_record(
        actor=acme.manager, kpi=leads, period=march.replace(day=2), value="96.5", note="recount"
    )
    assert first.period_start == second.period_start == march.replace(day=1)
    assert second.corrects_id == first.pk
    first.refresh_from_db()
    assert not first.is_current
    assert list(Measurement.objects.filter(kpi=leads, is_current=True).values_list("value", flat=True)) == [
        Decimal("96.5")
    ]
    assert Measurement.objects.filter(kpi=leads).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "abc", "1e30", "NaN", "Infinity"])
def test_bad_values_are_refused(acme, leads, march, value):
    with pytest.raises(ValidationError):
        services.measurement_record(actor=acme.member, kpi=leads, period=march, value=value)
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_who_records(acme, leads, march):
    services.measurement_record(actor=acme.member, kpi=leads, period=march, value=1)  # the owner
    services.measurement_record(actor=acme.manager, kpi=leads, period=march, value=2)
    with pytest.raises(PermissionDenied):
        services.measurement_record(actor=acme.viewer, kpi=leads, period=march, value=3)
    leads.owner = acme.admin
    leads.save()
    with pytest.raises(PermissionDenied):
        services.measurement_record(actor=acme.member, kpi=leads, period=march, value=4)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"direction": "increase", "amber_threshold": 120}, "amber_threshold"),
        ({"direction": "increase", "amber_threshold": 80, "red_threshold": 90}, "red_threshold"),
        ({"direction": "decrease", "amber_threshold": 80}, "amber_threshold"),
        ({"direction": "within"}, "target_upper"),
        ({"unit": "currency", "currency": "euros"}, "currency"),
        ({"name": "  "}, "name"),
        ({"target": "lots"}, "target"),
    ],
)
def test_kpi_definitions_that_contradict_themselves_are_refused(acme, fields, field):
    data = {
        "name": "Leads",
        "unit": "number",
        "direction": "increase",
        "target": 100,
        "frequency": "monthly",
        **fields,
    }
    with pytest.raises(ValidationError) as exc:
        services.kpi_create(actor=acme.manager, **data)
    assert field in exc.value.message_dict


@pytest.mark.django_db
def test_members_do_not_define_kpis_and_names_are_unique(acme, leads):
    with pytest.raises(PermissionDenied):
        services.kpi_create(
            actor=acme.member, name="Mine", unit="number", direction="increase", target=1, frequency="weekly"
        )
    with pytest.raises(ValidationError):
        services.kpi_create(
            actor=acme.manager,
            name="LEADS reached a month",
            unit="number",
            direction="increase",
            target=1,
            frequency="weekly",
        )


@pytest.mark.django_db
def test_key_result_check_in_sets_the_value_and_feeds_the_roll_up(acme, plan, key_result, tree):
    _, objective, _ = tree
    check_in = services.check_in_key_result(
        actor=acme.manager, key_result=key_result, value="3", confidence="on_track", note="Good month"
    )
    key_result.refresh_from_db()
    assert key_result.current == Decimal(3) and check_in.previous_value == 0
    figure = progress_tree(plan=plan).progress.objectives[objective.pk]
    # One step (not done, 0%) and the key result (3 of 5, 60%), equal weights.
    assert figure.value == pytest.approx(0.3)
    assert [p.kind for p in figure.parts] == ["step", "key_result"]


@pytest.mark.django_db
def test_a_failed_check_in_changes_nothing(acme, key_result):
    with pytest.raises(ValidationError):
        services.check_in_key_result(actor=acme.manager, key_result=key_result, value="3", confidence="meh")
    key_result.refresh_from_db()
    assert key_result.current == 0 and not CheckIn.objects.exists()


@pytest.mark.django_db
def test_who_checks_in(acme, plan, key_result, tree):
    _, objective, step = tree
    with pytest.raises(PermissionDenied):
        services.check_in_key_result(actor=acme.member, key_result=key_result, value=1, confidence="on_track")
    key_result.owner = acme.member
    key_result.save()
    services.check_in_key_result(actor=acme.member, key_result=key_result, value=1, confidence="on_track")
    with pytest.raises(PermissionDenied):
        services.check_in_objective(actor=acme.viewer, objective=objective, confidence="on_track")
    services.check_in_objective(actor=acme.manager, objective=objective, confidence="at_risk", note="Slow")
    services.check_in_step(actor=acme.member, step=step, status="doing", confidence="on_track", note="On it")
    step.refresh_from_db()
    assert step.status == "doing"
    assert CheckIn.objects.filter(plan=plan).count() == 3


@pytest.mark.django_db
def test_key_results_are_part_of_the_plan_and_locked_once_approved(acme, plan, key_result, tree):
    _, objective, _ = tree
    plan.status = PlanStatus.ACTIVE
    plan.save()
    with pytest.raises(Conflict):
        services.key_result_create(actor=acme.manager, objective=objective, title="Late", target=1)
    with pytest.raises(Conflict):
        services.key_result_update(actor=acme.manager, key_result=key_result, version=None, target=10)
    services.check_in_key_result(actor=acme.manager, key_result=key_result, value=4, confidence="on_track")
    plan.status = PlanStatus.CLOSED
    plan.save()
    with pytest.raises(Conflict):
        services.check_in_key_result(
            actor=acme.manager, key_result=key_result, value=5, confidence="on_track"
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"start": 5, "target": 5}, "target"),
        ({"start": 0, "target": 10, "direction": "decrease"}, "direction"),
        ({"kind": "percent", "target": 150}, "target"),
        ({"weight": 101}, "weight"),
        ({"kind": "bogus"}, "kind"),
    ],
)
def test_bad_key_results_are_refused(acme, tree, fields, field):
    _, objective, _ = tree
    with pytest.raises(ValidationError) as exc:
        services.key_result_create(
            actor=acme.manager, objective=objective, **{"title": "KR", "target": 10, **fields}
        )
    assert field in exc.value.message_dict
    assert not KeyResult.objects.exists()


@pytest.mark.django_db
def test_csv_import_saves_everything_or_nothing(acme, leads):
    good = b"kpi,period,value,note\nLeads reached a month,2027-01-01,80,\nleads reached a month,2027-02-10,95,late\n"
    result = services.measurements_import_csv(actor=acme.manager, content=good)
    assert result.ok and result.saved == 2
    bad = b"kpi,period,value\nLeads reached a month,2027-03-01,90\nNo such KPI,2027-03-01,1\nLeads reached a month,March,2\nLeads reached a month,2027-04-01,lots\n"
    result = services.measurements_import_csv(actor=acme.manager, content=bad)
    assert not result.ok and result.saved == 0
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert "No KPI named" in result.errors[0][1]
    assert Measurement.objects.filter(kpi=leads).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"name,when\nx,y\n", "Missing column"),
        (b"", "Missing column"),
        (b"kpi,period,value\n" + b"x" * (1024 * 1024), "larger than 1 MB"),
    ],
)
def test_csv_import_of_bad_files(acme, leads, content, message):
    result = services.measurements_import_csv(actor=acme.manager, content=content)
    assert not result.ok and message in result.errors[0][1]
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_a_period_target_overrides_the_standing_one(acme, march, client):
    from django.urls import reverse

    from metrics.selectors import kpi_rows

    leads = services.kpi_create(
        actor=acme.manager,
        name="Ramp",
        direction="increase",
        target=100,
        frequency="monthly",
        owner=acme.member,
    )
    services.measurement_record(actor=acme.member, kpi=leads, period=march, value=60)
    services.kpi_target_set(actor=acme.manager, kpi=leads, period=march, target="55")
    with pytest.raises(PermissionDenied):
        services.kpi_target_set(actor=acme.member, kpi=leads, period=march, target="10")
    row = kpi_rows(kpis=[leads], today=march)[0]
    assert row.latest_target == Decimal(55) and row.status.key == "green"
    services.kpi_target_set(actor=acme.manager, kpi=leads, period=march, target="")
    assert kpi_rows(kpis=[leads], today=march)[0].status.key == "amber"  # below the standing 100
    client.force_login(acme.manager.user)
    response = client.post(
        reverse("metrics:kpi_period_target", args=[acme.org.slug, leads.pk]),
        {"period": "2027-04-02", "target": "120"},
    )
    assert response.status_code == 302 and leads.period_targets.get().target == 120


@pytest.mark.postgres  # rows locked by one connection and waited for by another: PostgreSQL's locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("on", ["key_result", "objective"])
def test_a_check_in_racing_a_close_waits_for_it_and_is_refused(acme, key_result, on):
    """Real threads and connections: a transition holds the plan's row (as ``plan_close`` does); a
    check-in arriving meanwhile waits, then sees the plan closed and saves nothing."""
    from django.db import transaction

    from planning.models import Plan

    holding, outcome = threading.Event(), {}

    def close():
        with transaction.atomic():
            Plan.objects.select_for_update().get(pk=key_result.plan_id)
            holding.set()
            time.sleep(0.5)  # the check-in starts and must wait here
            Plan.objects.filter(pk=key_result.plan_id).update(status=PlanStatus.CLOSED)

    def check_in():
        holding.wait(timeout=5)
        try:
            if on == "key_result":
                services.check_in_key_result(
                    actor=acme.manager, key_result=key_result, value=4, confidence="on_track"
                )
            else:
                services.check_in_objective(
                    actor=acme.manager, objective=key_result.objective, confidence="at_risk"
                )
            outcome["result"] = "saved"
        except Conflict as exc:
            outcome["result"] = exc.message

    run_in_threads(close, check_in)
    assert outcome["result"] == "This plan is closed: check-ins are over."
    assert not CheckIn.objects.filter(plan_id=key_result.plan_id).exists()
    assert KeyResult.objects.get(pk=key_result.pk).current == key_result.current


@pytest.mark.postgres  # rows locked by one connection and waited for by another: PostgreSQL's locks
@pytest.mark.django_db(transaction=True)
def test_check_ins_on_one_key_result_take_turns_and_lose_no_value(acme, key_result):
    """Real threads and connections: while one check-in holds the key result's row, another waits for
    it, then records the first one's value as its previous value (no lost update)."""
    from django.db import transaction

    holding, outcome = threading.Event(), {}

    def first():
        with transaction.atomic():
            services.check_in_key_result(
                actor=acme.manager, key_result=key_result, value=3, confidence="on_track"
            )
            holding.set()
            time.sleep(0.5)  # the second check-in starts and must wait for this commit

    def second():
        holding.wait(timeout=5)
        check_in = services.check_in_key_result(
            actor=acme.manager, key_result=key_result, value=5, confidence="on_track"
        )
        outcome["previous"] = check_in.previous_value

    run_in_threads(first, second)
    assert outcome["previous"] == 3
    assert KeyResult.objects.get(pk=key_result.pk).current == 5
    assert list(CheckIn.objects.order_by("pk").values_list("previous_value", "value")) == [
        (key_result.current, 3),
        (3, 5),
    ]
