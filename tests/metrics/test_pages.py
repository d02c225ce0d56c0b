"""Metrics pages: permissions, what they show, and flat query counts as data grows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics.models import KPI, KeyResult, Measurement
from planning.models import Objective, PlanStatus
from tests.factories import make_plan
from tests.names import qualified

READ = {"owner": 200, "admin": 200, "manager": 200, "member": 200, "viewer": 200}
MANAGE = {"owner": 200, "admin": 200, "manager": 200, "member": 403, "viewer": 403}


@pytest.mark.django_db
def test_permission_matrix_of_the_metrics_pages(acme, clients, plan, tree, leads, key_result):
    _, objective, step = tree
    slug = acme.org.slug
    pages = {
        reverse("metrics:dashboard", args=[slug]): READ,
        reverse("metrics:my_dashboard", args=[slug]): READ,
        reverse("metrics:team_dashboard", args=[slug, objective.team_id]): READ,
        reverse("metrics:plan_summary", args=[slug, plan.pk]): READ,
        reverse("metrics:plan_progress", args=[slug, plan.pk]): READ,
        reverse("metrics:kpi_list", args=[slug]): READ,
        reverse("metrics:kpi_detail", args=[slug, leads.pk]): READ,
        reverse("metrics:kpi_create", args=[slug]): MANAGE,
        reverse("metrics:kpi_edit", args=[slug, leads.pk]): MANAGE,
        reverse("metrics:measurements_import", args=[slug]): MANAGE,
        reverse("metrics:measurements_export", args=[slug]): READ,
        reverse("metrics:check_ins_export", args=[slug]): READ,
        reverse("metrics:objective_measures", args=[slug, objective.pk]): READ,
        reverse("metrics:key_result_detail", args=[slug, key_result.pk]): READ,
        reverse("metrics:step_check_in", args=[slug, step.pk]): {**MANAGE, "member": 200},  # the assignee
        reverse("metrics:alignment", args=[slug]): READ,
        # Everyone reads what an objective serves; only the plan's editors see the picker (its POST: 403).
        reverse("metrics:objective_alignment", args=[slug, objective.pk]): READ,
    }
    for url, expected in pages.items():
        assert clients["anonymous"].get(url).status_code == 302, url
        assert clients["outsider"].get(url).status_code == 404, url
        for role, status in expected.items():
            assert clients[role].get(url).status_code == status, (url, role)


@pytest.mark.django_db
def test_another_organizations_metrics_answer_404(acme, other, clients):
    foreign_kpi = KPI.objects.create(organization=other.org, name="Theirs", target=1)
    foreign_plan = make_plan(other.org, other.manager, milestones=1, objectives=1, steps=1)
    foreign_objective = foreign_plan.objectives.get()
    foreign_kr = KeyResult.objects.create(
        organization=other.org, plan=foreign_plan, objective=foreign_objective, title="KR", target=5
    )
    slug = acme.org.slug
    owner = clients["owner"]
    for url in [
        reverse("metrics:kpi_detail", args=[slug, foreign_kpi.pk]),
        reverse("metrics:kpi_edit", args=[slug, foreign_kpi.pk]),
        reverse("metrics:objective_measures", args=[slug, foreign_objective.pk]),
        reverse("metrics:key_result_detail", args=[slug, foreign_kr.pk]),
        reverse("metrics:step_check_in", args=[slug, foreign_plan.steps.get().pk]),
        reverse("metrics:plan_summary", args=[slug, foreign_plan.pk]),
        reverse("metrics:plan_progress", args=[slug, foreign_plan.pk]),
        reverse("metrics:objective_alignment", args=[slug, foreign_objective.pk]),
    ]:
        assert owner.get(url).status_code == 404, url
    alignment = reverse("metrics:objective_alignment", args=[slug, foreign_objective.pk])
    assert owner.post(alignment, {"action": "clear"}).status_code == 404
    response = owner.post(
        reverse("metrics:measurement_create", args=[slug, foreign_kpi.pk]),
        {"period": "2027-01-01", "value": "1"},
    )
    assert response.status_code == 404
    assert not Measurement.objects.exists()
    assert "Theirs" not in owner.get(reverse("metrics:measurements_export", args=[slug])).getvalue().decode()


@pytest.mark.django_db
def test_record_in_two_clicks_from_the_list(acme, clients, leads):
    url = reverse("metrics:measurement_create", args=[acme.org.slug, leads.pk])
    page = clients["member"].get(reverse("metrics:kpi_list", args=[acme.org.slug])).content.decode()
    assert f'hx-post="{url}"' in page
    response = clients["member"].post(
        url,
        {"from": "list", "period": date.today().isoformat(), "value": "42"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="kpi-{leads.pk}"' in html and "Saved" in html and "<html" not in html
    bad = clients["member"].post(
        url,
        {"from": "list", "period": date.today().isoformat(), "value": "x"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 400 and "Enter a number" in bad.content.decode()
    assert Measurement.objects.filter(kpi=leads).count() == 1


@pytest.mark.django_db
def test_kpi_page_shows_chart_status_and_history(acme, clients, leads):
    Measurement.objects.create(
        organization=acme.org,
        kpi=leads,
        period_start=date.today().replace(day=1),
        value=Decimal(72),
        recorded_by=acme.member.user,
    )
    html = (
        clients["viewer"].get(reverse("metrics:kpi_detail", args=[acme.org.slug, leads.pk])).content.decode()
    )
    assert "<svg" in html and "chart__target" in html
    assert "At risk" in html and "72 is below the amber line of 85." in html
    assert acme.member.user.display_name in html
    assert (
        "Record" not in html.split("<main", 1)[1].split("The last periods")[0] or "Record a value" not in html
    )


@pytest.mark.django_db
def test_kpi_history_strikes_out_a_corrected_value_and_escapes_notes(acme, clients, leads):
    from metrics import services

    period = date.today().replace(day=1)
    services.measurement_record(actor=acme.member, kpi=leads, period=period, value="70", note="first")
    services.measurement_record(
        actor=acme.member, kpi=leads, period=period, value="80.5", note="<script>x</script> fixed"
    )
    html = (
        clients["viewer"].get(reverse("metrics:kpi_detail", args=[acme.org.slug, leads.pk])).content.decode()
    )
    history = html[html.index("<h2>Measurements</h2>") :]
    rows = history.split("<tr")[2:]  # after the header row; newest first
    assert '<td class="num">80.50</td>' in rows[0] and "fixed" in rows[0]
    assert "&lt;script&gt;x&lt;/script&gt; fixed" in rows[0] and "<script>x" not in history
    assert 'class="superseded"' in rows[1] and "<del>70</del>" in rows[1] and "corrected" in rows[1]
    assert acme.member.user.display_name in rows[0]


@pytest.mark.django_db
def test_csv_export_neutralises_formulas(acme, clients, leads):
    Measurement.objects.create(
        organization=acme.org, kpi=leads, period_start=date(2027, 1, 1), value=1, note="=HYPERLINK(1)"
    )
    body = (
        clients["member"]
        .get(reverse("metrics:measurements_export", args=[acme.org.slug]))
        .getvalue()
        .decode()
    )
    assert "'=HYPERLINK(1)" in body
    assert body.splitlines()[0] == "kpi,period,value,note,current,recorded_by,recorded_at"


@pytest.mark.django_db
def test_csv_import_page_reports_rows_and_saves_nothing(acme, clients, leads):
    url = reverse("metrics:measurements_import", args=[acme.org.slug])
    bad = SimpleUploadedFile(
        "m.csv",
        b"kpi,period,value\nLeads reached a month,2027-01-01,9\nNope,2027-01-01,1\n",
        content_type="text/csv",
    )
    response = clients["manager"].post(url, {"file": bad})
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode() and "No KPI named" in response.content.decode()
    assert not Measurement.objects.exists()
    wrong_type = SimpleUploadedFile("m.xlsx", b"PK\x03\x04", content_type="application/vnd.ms-excel")
    assert clients["manager"].post(url, {"file": wrong_type}).status_code == 400
    good = SimpleUploadedFile(
        "m.csv", b"kpi,period,value\nLeads reached a month,2027-01-01,9\n", content_type="text/csv"
    )
    assert clients["manager"].post(url, {"file": good}).status_code == 302
    assert Measurement.objects.count() == 1


@pytest.mark.django_db
def test_check_in_pages_update_values(acme, clients, key_result, tree):
    _, objective, _ = tree
    url = reverse("metrics:key_result_detail", args=[acme.org.slug, key_result.pk])
    response = clients["manager"].post(
        url, {"form": "check_in", "value": "2", "confidence": "at_risk", "note": "<b>slow</b>"}
    )
    assert response.status_code == 302
    key_result.refresh_from_db()
    assert key_result.current == 2
    page = clients["manager"].get(url).content.decode()
    assert "Previous check-in" in page and "&lt;b&gt;slow&lt;/b&gt;" in page
    assert (
        clients["viewer"].post(url, {"form": "check_in", "value": "3", "confidence": "on_track"}).status_code
        == 403
    )
    measures = (
        clients["member"]
        .get(reverse("metrics:objective_measures", args=[acme.org.slug, objective.pk]))
        .content.decode()
    )
    assert "Clients signed" in measures and "2 of 5" in measures


@pytest.mark.django_db
def test_timelines_show_each_check_in_newest_first_and_escape_notes(acme, clients, key_result, tree):
    from metrics import services

    _, objective, step = tree
    slug = acme.org.slug
    services.check_in_key_result(
        actor=acme.manager, key_result=key_result, value=2, confidence="at_risk", note="<b>slow</b>\nstill"
    )
    services.check_in_objective(actor=acme.manager, objective=objective, confidence="on_track", note="Fine")
    services.check_in_step(actor=acme.member, step=step, status="doing", confidence="off_track")
    kr_page = (
        clients["member"]
        .get(reverse("metrics:key_result_detail", args=[slug, key_result.pk]))
        .content.decode()
    )
    timeline = kr_page[kr_page.index('class="timeline"') :]
    assert "At risk" in timeline and "0 → <strong>2</strong>" in timeline
    assert "&lt;b&gt;slow&lt;/b&gt;<br>still" in timeline and "<b>slow" not in timeline
    assert acme.manager.user.display_name in timeline
    assert " on <a" not in timeline  # one key result's own timeline does not name it on every entry
    measures = (
        clients["member"]
        .get(reverse("metrics:objective_measures", args=[slug, objective.pk]))
        .content.decode()
    )
    timeline = measures[measures.index('class="timeline"') :]
    kr_link = (
        f'on <a href="{reverse("metrics:key_result_detail", args=[slug, key_result.pk])}">Clients signed</a>'
    )
    assert kr_link in timeline
    assert timeline.index("Fine") < timeline.index("slow")  # newest first
    step_page = clients["member"].get(reverse("metrics:step_check_in", args=[slug, step.pk])).content.decode()
    assert "Status: Doing" in step_page and "Off track" in step_page


def _grow(org, owner, objectives_per_plan, plans=2):
    """Running plans with key results, check-ins and KPIs linked to their objectives."""
    from metrics.models import CheckIn

    today = date.today()
    for i in range(plans):
        plan = make_plan(
            org,
            owner,
            title=f"Running {i}",
            start=today - timedelta(days=30),
            end=today + timedelta(days=300),
            status=PlanStatus.ACTIVE,
            milestones=2,
            objectives=objectives_per_plan // 2,
            steps=1,
        )
        objectives = list(Objective.objects.filter(plan=plan))
        krs = KeyResult.objects.bulk_create(
            KeyResult(organization=org, plan=plan, objective=o, title="KR", target=10, current=3)
            for o in objectives
        )
        CheckIn.objects.bulk_create(
            CheckIn(
                organization=org,
                plan=plan,
                target="key_result",
                key_result=kr,
                value=3,
                confidence="at_risk",
                author=owner.user,
            )
            for kr in krs
        )
        kpi = KPI.objects.create(organization=org, name=f"KPI {i} {len(objectives)}", target=10)
        kpi.objectives.add(*objectives[:50])


@pytest.mark.django_db
@pytest.mark.parametrize("viewname", ["dashboard", "my_dashboard"])
def test_dashboards_do_not_grow_with_objectives(acme, clients, viewname, django_assert_max_num_queries):
    _grow(acme.org, acme.manager, 10)
    url = reverse(qualified(viewname), args=[acme.org.slug])
    with django_assert_max_num_queries(25) as captured:
        assert clients["manager"].get(url).status_code == 200
    _grow(acme.org, acme.manager, 1000)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert clients["manager"].get(url).status_code == 200


@pytest.mark.django_db
def test_team_dashboard_and_objective_page_do_not_grow(acme, clients, tree, django_assert_max_num_queries):
    _, objective, _ = tree
    urls = [
        reverse("metrics:team_dashboard", args=[acme.org.slug, objective.team_id]),
        reverse("metrics:objective_measures", args=[acme.org.slug, objective.pk]),
    ]
    _grow(acme.org, acme.manager, 10)
    counts = []
    for url in urls:
        with django_assert_max_num_queries(25) as captured:
            clients["manager"].get(url)
        counts.append(len(captured.captured_queries))
    _grow(acme.org, acme.manager, 500)
    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            clients["manager"].get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("viewname", ["kpi_list", "kpi_detail"])
def test_kpi_pages_do_not_grow_with_measurements(
    acme, clients, leads, viewname, django_assert_max_num_queries
):
    def measure(n):
        start = date.today().replace(day=1)
        rows = []
        for kpi in KPI.objects.filter(organization=acme.org):
            day = start
            for _ in range(n):
                rows.append(
                    Measurement(
                        organization=acme.org,
                        kpi=kpi,
                        period_start=day,
                        value=5,
                        recorded_by=acme.member.user,
                    )
                )
                day = (day - timedelta(days=1)).replace(day=1)
        Measurement.objects.bulk_create(rows)

    KPI.objects.bulk_create(
        KPI(organization=acme.org, name=f"Other {i}", target=3, frequency="monthly") for i in range(9)
    )
    measure(1)
    args = [acme.org.slug] + ([leads.pk] if viewname == "kpi_detail" else [])
    url = reverse(qualified(viewname), args=args)
    with django_assert_max_num_queries(14) as captured:
        assert clients["member"].get(url).status_code == 200
    Measurement.objects.all().delete()
    measure(1000)  # 10 KPIs × 1,000 monthly periods = 10,000 measurements
    assert Measurement.objects.count() == 10_000
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert clients["member"].get(url).status_code == 200


@pytest.mark.django_db
def test_dashboard_tells_who_has_not_checked_in_and_counts_every_overdue_step(acme):
    """Check-ins on an objective or on one of its key results both count; old ones do not."""
    from django.utils import timezone

    from metrics.models import CheckIn
    from metrics.selectors import dashboard
    from planning.models import ActionStep

    today = date.today()
    plan = make_plan(
        acme.org,
        acme.manager,
        start=today - timedelta(days=60),
        end=today + timedelta(days=300),
        status=PlanStatus.ACTIVE,
        milestones=1,
        objectives=3,
        steps=1,
    )
    on_kr, on_objective, silent = Objective.objects.filter(plan=plan).order_by("position")
    kr = KeyResult.objects.create(organization=acme.org, plan=plan, objective=on_kr, title="KR", target=5)
    CheckIn.objects.create(
        organization=acme.org,
        plan=plan,
        target="key_result",
        key_result=kr,
        value=1,
        confidence="on_track",
        author=acme.manager.user,
    )
    CheckIn.objects.create(
        organization=acme.org,
        plan=plan,
        target="objective",
        objective=on_objective,
        confidence="off_track",
        author=acme.manager.user,
    )
    old = CheckIn.objects.create(
        organization=acme.org,
        plan=plan,
        target="objective",
        objective=silent,
        confidence="on_track",
        author=acme.manager.user,
    )
    CheckIn.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    ActionStep.objects.filter(plan=plan).update(due_date=today - timedelta(days=1))

    board = dashboard(organization=acme.org, today=today, limit=2)

    assert [(owner, [o.pk for o in objectives]) for owner, objectives in board.missing] == [
        (acme.manager, [silent.pk])
    ]
    assert [o.pk for o in board.at_risk] == [on_objective.pk]  # its latest confidence is off track
    assert (len(board.overdue), board.overdue_count) == (2, 3)
