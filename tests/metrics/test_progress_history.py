"""Progress over time: the daily snapshot (once per subject and day, whatever runs twice), the
back-fill from check-ins and completions on approval, forecasts on known series, and the pages."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from metrics import services
from metrics.forecast import expected, forecast
from metrics.models import KeyResult, ProgressPoint
from metrics.tasks import backfill_progress, snapshot_progress
from planning import services as planning_services
from planning.models import ActionStep, Objective, Plan, PlanStatus
from tests.conftest import client_for
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def approve(acme, plan: Plan) -> Plan:
    planning_services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    planning_services.plan_approve(actor=acme.admin, plan=plan, comment="Go")
    plan.refresh_from_db()
    return plan


def points(**subject) -> dict[date, float]:
    return dict(ProgressPoint.objects.filter(**subject).values_list("day", "value"))


def plan_points(plan: Plan) -> dict[date, float]:
    return points(plan=plan, objective__isnull=True, key_result__isnull=True)


# --- Forecasts on known series ---------------------------------------------------------------------------

TODAY = date(2027, 3, 15)


def line(first: float, last: float, days: int) -> list[tuple[date, float]]:
    """A straight series of ``days`` + 1 points ending today."""
    return [(TODAY - timedelta(days=days - i), first + (last - first) * i / days) for i in range(days + 1)]


def test_forecast_carries_the_last_four_weeks_pace_to_the_due_date():
    result = forecast(line(0.2, 0.4, 28), today=TODAY, due=TODAY + timedelta(days=28))
    assert result.percent == 60
    assert result.rule == "At the pace of the last 4 weeks: 60% by 12 Apr."
    assert result.short == "60% by 12 Apr" and result.falls_short  # below 70%
    later = forecast(line(0.2, 0.4, 28), today=TODAY, due=TODAY + timedelta(days=56))
    assert later.short == "80% by 10 May" and not later.falls_short


def test_forecast_reads_only_the_last_four_weeks():
    # Fast early on, slow lately: the recent pace decides.
    series = [(TODAY - timedelta(days=60), 0.0), *line(0.5, 0.52, 28)]
    result = forecast(series, today=TODAY, due=TODAY + timedelta(days=56))
    assert result.percent == 56  # 0.52 + 2 × 0.02


def test_forecast_from_a_younger_history_says_since_when():
    result = forecast(line(0.1, 0.2, 10), today=TODAY, due=TODAY + timedelta(days=20))
    assert result.percent == 40
    assert result.rule == "At the pace since 5 Mar: 40% by 4 Apr."


def test_no_forecast_from_less_than_a_week():
    result = forecast(line(0.1, 0.3, 6), today=TODAY, due=TODAY + timedelta(days=20))
    assert result.value is None and result.short == ""
    assert "Not enough history yet" in result.rule and "6 so far" in result.rule


def test_no_progress_forecasts_the_same_figure_and_falls_short():
    result = forecast(line(0.3, 0.3, 28), today=TODAY, due=date(2027, 6, 30))
    assert result.percent == 30 and result.falls_short
    assert result.rule == "No progress in the last 4 weeks: 30% by 30 Jun."


def test_forecast_is_clamped_and_names_another_year():
    result = forecast(line(0.0, 0.6, 28), today=TODAY, due=date(2028, 1, 31))
    assert result.percent == 100
    assert result.short == "100% by 31 Jan 2028"
    falling = forecast(line(0.6, 0.2, 28), today=TODAY, due=date(2027, 6, 30))
    assert falling.percent == 0


def test_forecast_of_done_past_due_and_undated():
    assert forecast(line(0.5, 1.0, 28), today=TODAY, due=date(2027, 6, 30)).rule == "Done."
    past = forecast(line(0.2, 0.4, 28), today=TODAY, due=date(2027, 3, 1))
    assert past.value is None and past.rule == "Its due date, 1 Mar, has passed: it stands at 40%."
    assert forecast(line(0.2, 0.4, 28), today=TODAY, due=None).value is None
    assert forecast([], today=TODAY, due=TODAY).rule == "No progress recorded yet."


def test_expected_pace_is_a_straight_line_over_the_period():
    start, end = date(2027, 1, 1), date(2027, 12, 31)
    assert expected(start, start, end) == 0
    assert expected(end, start, end) == 1
    assert expected(date(2027, 7, 2), start, end) == pytest.approx(0.5, abs=0.01)
    assert expected(date(2028, 2, 1), start, end) == 1 and expected(date(2026, 1, 1), start, end) == 0


# --- The daily snapshot: exactly once per subject and day -----------------------------------------------


@pytest.fixture
def running(acme, plan, tree, key_result):
    """The fixture plan approved on its second day: it runs, with no history yet."""
    with time_machine.travel(at(2027, 1, 2), tick=False):
        return approve(acme, plan)


def test_the_snapshot_records_each_subject_once_a_day_however_often_it_runs(running, tree, key_result):
    _, objective, _ = tree
    with time_machine.travel(at(2027, 1, 3, 0), tick=False):
        snapshot_progress.delay()
        snapshot_progress.delay()  # a second beat, or a retry after a lost acknowledgement
        snapshot_progress.delay(now=at(2027, 1, 3, 23).isoformat())  # later the same day
    # 1 and 2 January: the plan, its objective and its key result, once each.
    assert set(plan_points(running)) == {date(2027, 1, 1), date(2027, 1, 2)}
    assert set(points(objective=objective)) == {date(2027, 1, 1), date(2027, 1, 2)}
    assert set(points(key_result=key_result)) == {date(2027, 1, 1), date(2027, 1, 2)}
    assert ProgressPoint.objects.count() == 6
    with time_machine.travel(at(2027, 1, 4, 1), tick=False):
        snapshot_progress.delay()
    assert ProgressPoint.objects.count() == 9


def test_the_database_refuses_a_second_point_for_a_subject_and_day(running, tree):
    _, objective, _ = tree
    row = {"organization_id": running.organization_id, "plan": running, "day": date(2027, 1, 5)}
    ProgressPoint.objects.create(**row, value=0.1)
    ProgressPoint.objects.create(**row, objective=objective, value=0.1)
    for extra in ({}, {"objective": objective}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ProgressPoint.objects.create(**row, **extra, value=0.2)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressPoint.objects.create(**row, value=1.5)
    assert ProgressPoint.objects.filter(value=0.1).count() == 2


def test_the_first_figure_of_a_day_stands_and_missing_days_are_filled(running, tree):
    day = date(2027, 1, 5)
    ProgressPoint.objects.create(organization_id=running.organization_id, plan=running, day=day, value=0.25)
    with time_machine.travel(at(2027, 1, 11), tick=False):  # no snapshot ran for days (a stopped beat)
        snapshot_progress.delay()
    assert plan_points(running)[day] == 0.25
    # The days missing before and after it were back-filled around the one that stood.
    assert set(plan_points(running)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(10)}


def test_the_day_recorded_is_the_organizations(acme, running):
    acme.org.time_zone = "Pacific/Auckland"  # UTC+13 in January
    acme.org.save()
    with time_machine.travel(at(2027, 1, 5, 12), tick=False):  # already 6 January in Auckland
        snapshot_progress.delay()
    assert max(plan_points(running)) == date(2027, 1, 5)


def test_plans_that_do_not_run_are_not_recorded(acme, plan, tree):
    with time_machine.travel(at(2027, 2, 1), tick=False):
        snapshot_progress.delay()
    assert not ProgressPoint.objects.exists()  # a draft
    finished = make_plan(acme.org, start=date(2026, 1, 1), end=date(2026, 6, 30), status=PlanStatus.ACTIVE)
    with time_machine.travel(at(2027, 2, 1), tick=False):
        snapshot_progress.delay()
    # A running plan whose period ended: recorded up to its last day, never after.
    assert max(plan_points(finished)) == date(2026, 6, 30)


# --- Back-fill: rebuilt from check-ins and completions ----------------------------------------------------


def test_history_is_rebuilt_from_check_ins_and_completions(acme, running, tree, key_result):
    _, objective, step = tree
    with time_machine.travel(at(2027, 1, 10), tick=False):
        services.check_in_key_result(
            actor=acme.manager, key_result=key_result, value=2, confidence="on_track"
        )
    with time_machine.travel(at(2027, 1, 20), tick=False):
        planning_services.step_set_status(actor=acme.member, step=step, status="done")
    ProgressPoint.objects.all().delete()
    with time_machine.travel(at(2027, 2, 1), tick=False):
        snapshot_progress.delay()
    kr = points(key_result=key_result)
    assert kr[date(2027, 1, 9)] == 0 and kr[date(2027, 1, 10)] == pytest.approx(0.4)
    mine = points(objective=objective)
    # The objective averages its step and its key result.
    assert mine[date(2027, 1, 9)] == 0
    assert mine[date(2027, 1, 19)] == pytest.approx(0.2)
    assert mine[date(2027, 1, 20)] == pytest.approx(0.7)
    assert mine[date(2027, 1, 31)] == pytest.approx(0.7)  # the live snapshot of the day just ended
    assert set(plan_points(running)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(31)}


def test_approval_back_fills_the_days_of_the_period_already_gone(
    acme, plan, tree, django_capture_on_commit_callbacks
):
    _, objective, _ = tree
    with time_machine.travel(at(2027, 1, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        approve(acme, plan)
    assert set(plan_points(plan)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(14)}
    assert len(points(objective=objective)) == 14


def test_back_fill_keeps_what_no_record_dates_as_it_stands(acme, running, tree, key_result):
    """A key result's value typed in without a check-in, a step done without a completion time:
    nothing says when they changed, so history shows them as they stand."""
    _, objective, step = tree
    KeyResult.objects.filter(pk=key_result.pk).update(current=5)
    ActionStep.objects.filter(pk=step.pk).update(status="done", completed_at=None)
    with time_machine.travel(at(2027, 1, 6), tick=False):
        snapshot_progress.delay()
    assert set(points(objective=objective).values()) == {1.0}


# --- Pages --------------------------------------------------------------------------------------------------


def test_the_progress_page_draws_history_pace_and_forecasts(acme, clients, running, tree, key_result):
    _, objective, _ = tree
    with time_machine.travel(at(2027, 1, 10), tick=False):
        services.check_in_key_result(
            actor=acme.manager, key_result=key_result, value=1, confidence="on_track"
        )
    with time_machine.travel(at(2027, 2, 1), tick=False):
        snapshot_progress.delay()
        url = reverse("metrics:plan_progress", args=[acme.org.slug, running.pk])
        viewer = client_for(acme.viewer)  # logged in on the day travelled to: the session is fresh
        html = viewer.get(url).content.decode()
        fragment = viewer.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'class="chart chart--progress"' in html and "chart__pace" in html and "chart__forecast" in html
    assert "At the pace of the last 4 weeks" in html or "At the pace since" in html
    assert objective.title in html and key_result.title in html
    assert "<h1>" not in fragment and "chart--progress" in fragment
    assert "Objectives and key results over time" in fragment


def test_the_progress_page_of_a_draft_says_when_history_starts(acme, clients, plan):
    html = (
        clients["owner"].get(reverse("metrics:plan_progress", args=[acme.org.slug, plan.pk])).content.decode()
    )
    assert "No history yet." in html and "chart--progress" not in html


def test_another_organizations_plan_is_not_found(acme, clients, running):
    url = reverse("metrics:plan_progress", args=[acme.org.slug, running.pk])
    assert clients["outsider"].get(url).status_code == 404
    assert clients["anonymous"].get(url).status_code == 302
    outsider_url = reverse("metrics:plan_progress", args=["globex", running.pk])
    assert clients["outsider"].get(outsider_url).status_code == 404


def test_the_map_of_a_running_plan_loads_its_history(acme, clients, running, plan):
    html = (
        clients["member"].get(reverse("planning:plan_map", args=[acme.org.slug, running.pk])).content.decode()
    )
    progress_url = reverse("metrics:plan_progress", args=[acme.org.slug, running.pk])
    assert f'hx-get="{progress_url}"' in html and 'hx-trigger="load"' in html


def test_the_progress_page_reads_in_a_fixed_number_of_queries(acme, django_assert_max_num_queries):
    def grow(objectives: int) -> Plan:
        plan = make_plan(acme.org, acme.manager, milestones=2, objectives=objectives, steps=3)
        for objective in Objective.objects.filter(plan=plan):
            services.key_result_create(actor=acme.manager, objective=objective, title="Signed", target=5)
        Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE, first_approved_at=at(2027, 1, 1))
        return plan

    small, big = grow(1), grow(12)
    with time_machine.travel(at(2027, 2, 20), tick=False):
        snapshot_progress.delay()
        assert ProgressPoint.objects.filter(plan=big).count() > 50 * 24
        viewer = client_for(acme.viewer)
        with django_assert_max_num_queries(30) as few:
            viewer.get(reverse("metrics:plan_progress", args=[acme.org.slug, small.pk]))
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = viewer.get(reverse("metrics:plan_progress", args=[acme.org.slug, big.pk]))
    assert response.content.decode().count('class="table__sub"') == 24


def test_the_dashboard_shows_trends_and_calls_a_stalled_objective_at_risk_by_forecast(
    acme, clients, running, tree, key_result
):
    _, objective, _ = tree
    # Due at the end of June: on 15 March, 10% keeps pace with its dates (it began on 1 March)...
    Objective.objects.filter(pk=objective.pk).update(start_date=date(2027, 3, 1), due_date=date(2027, 6, 30))
    KeyResult.objects.filter(pk=key_result.pk).update(current=1)  # 20%, with the open step: 10%
    # ...but it stood at 10% two weeks ago too.
    ProgressPoint.objects.create(
        organization_id=running.organization_id,
        plan=running,
        objective=objective,
        day=date(2027, 3, 1),
        value=0.1,
    )
    with time_machine.travel(at(2027, 3, 15), tick=False):
        html = (
            client_for(acme.manager).get(reverse("metrics:dashboard", args=[acme.org.slug])).content.decode()
        )
    risk = html.split('id="risk-h"')[1].split("</section>")[0]
    assert objective.title in risk
    assert "forecast: 10% by 30 Jun, below 70%" in risk
    assert "No progress since 1 Mar: 10% by 30 Jun." in risk
    assert reverse("metrics:plan_progress", args=[acme.org.slug, running.pk]) in html


def test_the_dashboard_reads_in_a_fixed_number_of_queries_as_history_grows(
    acme, clients, running, django_assert_max_num_queries
):
    url = reverse("metrics:dashboard", args=[acme.org.slug])
    with time_machine.travel(at(2027, 1, 3), tick=False):
        snapshot_progress.delay()
        manager = client_for(acme.manager)
        with django_assert_max_num_queries(40) as few:
            manager.get(url)
    with time_machine.travel(at(2027, 3, 1), tick=False):
        snapshot_progress.delay()
        assert len(plan_points(running)) == 59
        manager = client_for(acme.manager)
        with django_assert_max_num_queries(len(few.captured_queries)):
            html = manager.get(url).content.decode()
    assert "No progress in the last 4 weeks: 0% by 31 Dec." in html  # the plan's forecast


def test_an_objective_not_begun_has_no_forecast_and_is_not_at_risk_by_it(acme, running, tree):
    _, objective, _ = tree
    Objective.objects.filter(pk=objective.pk).update(start_date=date(2027, 4, 1), due_date=date(2027, 6, 30))
    with time_machine.travel(at(2027, 3, 15), tick=False):
        html = (
            client_for(acme.manager).get(reverse("metrics:dashboard", args=[acme.org.slug])).content.decode()
        )
        page = client_for(acme.viewer).get(reverse("metrics:plan_progress", args=[acme.org.slug, running.pk]))
    risk = html.split('id="risk-h"')[1].split("</section>")[0]
    assert objective.title not in risk
    assert "It begins on 1 Apr: no forecast before then." in page.content.decode()


def test_a_plan_approved_before_its_period_says_when_history_begins(acme, plan, tree):
    with time_machine.travel(at(2026, 12, 1), tick=False):
        approve(acme, plan)
        html = client_for(acme.viewer).get(reverse("metrics:plan_progress", args=[acme.org.slug, plan.pk]))
    assert "The period begins on 1 Jan 2027" in html.content.decode()
    assert "History starts tonight" not in html.content.decode()


# --- Through crashes and a real worker ----------------------------------------------------------------


class WorkerKilled(Exception):
    pass


def test_a_back_fill_cut_short_is_completed_by_the_next_run_without_a_duplicate(running, monkeypatch):
    from metrics.services import history

    real_insert = history._insert
    calls = []

    def dies_on_the_third_batch(rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise WorkerKilled
        return real_insert(rows)

    monkeypatch.setattr(history, "BATCH", 30)  # 10 days of the plan, its objective and key result
    monkeypatch.setattr(history, "_insert", dies_on_the_third_batch)
    with time_machine.travel(at(2027, 3, 1), tick=False):
        with pytest.raises(WorkerKilled):
            backfill_progress.run(running.pk)  # the approval's back-fill; its worker dies
        # Two batches landed, whole days each: every day recorded has its objective and key result.
        assert len(plan_points(running)) == 20 and ProgressPoint.objects.count() == 60
        monkeypatch.setattr(history, "_insert", real_insert)
        snapshot_progress.run()  # the next hour's run: records 28 February, back-fills what is missing
        snapshot_progress.run()
    assert set(plan_points(running)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(59)}
    assert ProgressPoint.objects.count() == 59 * 3


def test_a_hole_before_the_last_day_recorded_is_filled(running):
    with time_machine.travel(at(2027, 1, 11), tick=False):
        snapshot_progress.run()
        ProgressPoint.objects.filter(day=date(2027, 1, 4)).delete()
        assert len(plan_points(running)) == 9
    with time_machine.travel(at(2027, 1, 12), tick=False):
        snapshot_progress.run()
    assert set(plan_points(running)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(11)}
    assert ProgressPoint.objects.count() == 33


def test_an_approval_stands_when_the_back_fill_cannot_be_queued(
    acme, plan, tree, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(backfill_progress, "delay", broker_down)
    with time_machine.travel(at(2027, 1, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        approve(acme, plan)
    assert plan.status == PlanStatus.ACTIVE
    assert "could not enqueue the progress back-fill" in caplog.text
    monkeypatch.undo()
    with time_machine.travel(at(2027, 1, 15), tick=False):
        snapshot_progress.run()  # the next hour finds the plan without history
    assert len(plan_points(plan)) == 14


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_records_each_day_once_when_the_task_is_sent_twice(
    acme, plan, tree, key_result, settings
):
    from celery.contrib.testing.worker import start_worker

    from bizops.celery import app

    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE, first_approved_at=at(2027, 1, 1))
    now = at(2027, 1, 11).isoformat()
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        snapshot_progress.delay(now)
        snapshot_progress.delay(now)  # a second beat at the same moment
        # The next day's run comes after both (one worker, taken in order): when its day is there,
        # they are done.
        snapshot_progress.delay(at(2027, 1, 12).isoformat())
        # The back-fill of 1 to 9 January is a task of its own, queued by the first run.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ProgressPoint.objects.count() < 33:
            time.sleep(0.2)
        time.sleep(1)  # the queued back-fills the other runs asked for: nothing left to add
    assert set(plan_points(plan)) == {date(2027, 1, 1) + timedelta(days=i) for i in range(11)}
    assert ProgressPoint.objects.count() == 33  # 11 days of the plan, its objective, its key result


# --- The API ----------------------------------------------------------------------------------------------


def test_the_history_api_gives_the_series_and_every_forecast(acme, running, tree, key_result):
    _, objective, _ = tree
    with time_machine.travel(at(2027, 1, 10), tick=False):
        services.check_in_key_result(
            actor=acme.manager, key_result=key_result, value=1, confidence="on_track"
        )
    url = reverse("metrics_api:api_plan_history", args=[acme.org.slug, running.pk])
    with time_machine.travel(at(2027, 2, 1), tick=False):
        snapshot_progress.delay()
        data = client_for(acme.viewer).get(url).json()
    assert data["id"] == running.pk and len(data["series"]) == 32  # 1 to 31 January, and today
    assert data["series"][0] == {"day": "2027-01-01", "percent": 0}
    assert data["series"][-1]["day"] == "2027-02-01"
    assert data["forecast"]["due"] == "2027-12-31" and data["forecast"]["rule"].startswith("At the pace of")
    (line,) = data["objectives"]
    assert line["id"] == objective.pk and line["expected_percent"] == 35  # 31 of 89 days
    assert line["forecast"]["rule"].endswith("by 31 Mar.") and line["forecast"]["percent"] is not None
    assert line["key_results"][0]["id"] == key_result.pk and line["key_results"][0]["percent"] == 20


def test_the_history_api_answers_404_for_another_organizations_plan(acme, other, running):
    outsider = client_for(other.owner)
    for slug in (acme.org.slug, other.org.slug):
        response = outsider.get(reverse("metrics_api:api_plan_history", args=[slug, running.pk]))
        assert response.status_code == 404


def test_today_is_the_organizations_on_the_page_and_in_the_api(acme, running):
    acme.org.time_zone = "America/Los_Angeles"
    acme.org.save()
    url = reverse("metrics_api:api_plan_history", args=[acme.org.slug, running.pk])
    with time_machine.travel(at(2027, 2, 1, 3), tick=False):  # still 31 January, 19:00, in Los Angeles
        snapshot_progress.delay()
        data = client_for(acme.viewer).get(url).json()
    days = [point["day"] for point in data["series"]]
    assert days[-2:] == ["2027-01-30", "2027-01-31"]  # recorded up to the day before, then today, live
    assert len(days) == len(set(days)) == 31


def test_a_plan_that_does_not_run_forecasts_nothing(acme, clients, plan, tree):
    with time_machine.travel(at(2027, 3, 1), tick=False):
        html = client_for(acme.viewer).get(reverse("metrics:plan_progress", args=[acme.org.slug, plan.pk]))
    assert "The plan is not running: no forecast." in html.content.decode()
    assert "Not enough history" not in html.content.decode()
