"""The metrics API's query counts stay flat as data grows.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from metrics import services
from metrics.models import KPI, CheckIn, KeyResult, KPITarget, Measurement
from metrics.rules import period_start
from planning.models import ActionStep, Objective, Plan
from tests.factories import MembershipFactory, TeamFactory
from tests.metrics.api.common import url
from tests.planning.factories import PlanFactory, api_client, build_tree

pytestmark = pytest.mark.django_db


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

    target = reverse("metrics_api:api_plan_progress", args=["acme", plan.pk])
    body = flat(api_client(acme.viewer), target, {}, grow, django_assert_max_num_queries)

    assert len(body["objectives"]) == 1000
    assert len(body["milestones"]) == 10
    assert all([p["kind"] for p in o["parts"]] == ["step", "key_result"] for o in body["objectives"])
