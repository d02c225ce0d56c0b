"""Pages that say what is true (issue 18): each plan once on the Overview, in the group its status says;
empty dashboards that say nothing runs yet; a recurring step's "Mark done today" that records the day and
keeps the status; approved plans that become active when their period begins; the Outbox in words; and
recurring steps' rates in plain grammar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bizops.models import OutboundEmail
from bizops.notifications import KINDS
from bizops.views import EMAIL_KIND_LABELS
from planning import services
from planning.models import ActionStep, PlanStatus, PlanTransition, StepCompletion
from planning.progress import step_part
from planning.services.running import plan_activate_if_begun
from planning.tasks import activate_begun_plans
from tests.factories import make_plan
from tests.names import qualified

S = PlanStatus


def overview(client, acme) -> str:
    response = client.get(reverse("planning:org_home", args=[acme.org.slug]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, heading: str) -> str:
    """The card under ``heading``, up to the next card."""
    start = html.index(f">{heading}</h2>")
    end = html.find('<section class="card"', start)
    return html[start : end if end != -1 else len(html)]


# --- Overview: each plan once, where its status says ---------------------------------------------------


@pytest.mark.django_db
def test_overview_lists_each_plan_once_in_the_group_of_its_status(acme, clients):
    today = timezone.localdate()
    current = {"start": today - timedelta(days=30), "end": today + timedelta(days=300)}
    for status in (S.ACTIVE, S.AMENDING, S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.CLOSED):
        make_plan(acme.org, acme.manager, status=status, title=f"Plan {status}", **current)
    make_plan(
        acme.org, acme.manager, status=S.APPROVED, title="Plan approved", start=today + timedelta(days=20)
    )
    html = overview(clients["member"], acme)
    running = section(html, "Plans running now")
    approved = section(html, "Approved, starting later")
    drafts = section(html, "Being written and reviewed")
    for status in S.values:
        if status != S.CLOSED:
            assert html.count(f">Plan {status}</a>") == 1, status
    assert "Plan active" in running and "Plan amending" in running
    assert "Plan approved" in approved
    for status in (S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED):
        assert f"Plan {status}" in drafts and f"Plan {status}" not in running
    assert "Plan closed" not in html  # under All plans


@pytest.mark.django_db
def test_overview_with_only_a_draft_says_nothing_runs_yet(acme, clients, plan):
    html = overview(clients["manager"], acme)
    running = section(html, "Plans running now")
    assert "No plan runs yet" in running and "Growth 2027" not in running
    assert "Growth 2027" in section(html, "Being written and reviewed")


@pytest.mark.django_db
def test_overview_queries_stay_flat_as_plans_grow(acme, clients, django_assert_max_num_queries):
    client = clients["manager"]
    for status in (S.ACTIVE, S.APPROVED, S.DRAFT):
        make_plan(acme.org, acme.manager, status=status, milestones=1, objectives=1, steps=1)
    overview(client, acme)
    with django_assert_max_num_queries(50) as captured:
        overview(client, acme)
    count = len(captured.captured_queries)
    for i in range(10):
        for status in (S.ACTIVE, S.APPROVED, S.DRAFT, S.IN_REVIEW, S.CLOSED):
            make_plan(acme.org, acme.manager, status=status, title=f"More {i}", milestones=2, objectives=2)
    with django_assert_max_num_queries(count):
        html = overview(client, acme)
    assert html.count("More ") == 21  # eight a group, one of them the first plan of its status


# --- Dashboards: empty means nothing runs yet ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dashboard", "my_dashboard"])
def test_an_empty_dashboard_says_nothing_runs_yet(acme, clients, plan, name):
    html = clients["manager"].get(reverse(qualified(name), args=[acme.org.slug])).content.decode()
    assert "Nothing runs yet" in html
    assert "keeps pace" not in html and "keep pace" not in html
    assert "checked in during the last 7 days" not in html
    assert "No check-ins are due" in html


@pytest.mark.django_db
def test_a_dashboard_with_running_objectives_counts_them(acme, clients, django_assert_max_num_queries):
    today = timezone.localdate()
    window = {"start": today - timedelta(days=10), "end": today + timedelta(days=300)}
    make_plan(acme.org, acme.manager, status=S.ACTIVE, milestones=1, objectives=2, **window)
    client = clients["manager"]
    url = reverse("metrics:dashboard", args=[acme.org.slug])
    client.get(url)
    with django_assert_max_num_queries(60) as captured:
        html = client.get(url).content.decode()
    assert "Nothing runs yet" not in html
    assert "all 2 running objectives keep pace" in html or "Objectives at risk" in html
    make_plan(acme.org, acme.manager, status=S.ACTIVE, milestones=4, objectives=5, steps=3, **window)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert client.get(url).status_code == 200


# --- Mark done today -----------------------------------------------------------------------------------


@pytest.fixture
def daily(acme):
    today = timezone.localdate()
    plan = make_plan(
        acme.org,
        acme.manager,
        start=today - timedelta(days=30),
        end=today + timedelta(days=300),
        milestones=1,
        objectives=1,
        status=S.ACTIVE,
    )
    return ActionStep.objects.create(
        organization=acme.org,
        plan=plan,
        objective=plan.objectives.get(),
        title="Post on LinkedIn",
        assignee=acme.member,
        recurrence="daily",
        status="todo",
    )


@pytest.mark.django_db
def test_mark_done_today_records_the_day_keeps_the_status_and_says_so(acme, clients, daily):
    url = reverse("planning:step_status", args=[acme.org.slug, daily.pk])
    response = clients["member"].post(url, {"status": "done"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "“Post on LinkedIn” is done for today. It recurs, so its status stays to do." in html
    assert "in progress" not in html
    daily.refresh_from_db()
    assert daily.status == "todo"
    assert StepCompletion.objects.filter(step=daily, period_start=timezone.localdate()).count() == 1


@pytest.mark.django_db
def test_mark_done_today_from_my_work_shows_the_day_done(acme, clients, daily):
    daily.status = "doing"
    daily.save()
    url = reverse("planning:step_status", args=[acme.org.slug, daily.pk])
    response = clients["member"].post(url, {"status": "done"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Done today" in response.content.decode()
    daily.refresh_from_db()
    assert daily.status == "doing"


# --- Approved plans become active when their period begins ---------------------------------------------


def approve(acme, plan):
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    services.plan_approve(actor=acme.admin, plan=plan, comment="Go")
    plan.refresh_from_db()
    return plan


@pytest.mark.django_db
def test_a_plan_approved_after_its_period_began_is_active_and_says_why(acme, clients, plan, tree):
    plan.__class__.objects.filter(pk=plan.pk).update(period_start=timezone.localdate() - timedelta(days=3))
    plan.refresh_from_db()
    plan = approve(acme, plan)
    assert plan.status == S.ACTIVE and plan.activated_at is not None
    activation = PlanTransition.objects.get(plan=plan, action="activate")
    assert activation.actor is None and "period began" in activation.comment
    html = (
        clients["member"].get(reverse("planning:plan_review", args=[acme.org.slug, plan.pk])).content.decode()
    )
    assert "Running since" in html and "becomes active by itself once its period has begun" in html
    assert "activate it when the work starts" not in html


@pytest.mark.django_db
def test_a_plan_approved_before_its_start_is_activated_by_the_task_on_its_first_day(
    acme, clients, plan, tree
):
    plan = approve(acme, plan)  # Growth 2027 starts on 1 January 2027
    assert plan.status == S.APPROVED
    html = (
        clients["member"].get(reverse("planning:plan_review", args=[acme.org.slug, plan.pk])).content.decode()
    )
    assert "it becomes active by itself on 1 Jan 2027" in html
    eve = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert activate_begun_plans(now=eve.isoformat()) == 0
    plan.refresh_from_db()
    assert plan.status == S.APPROVED
    first_day = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    assert activate_begun_plans(now=first_day.isoformat()) == 1
    assert activate_begun_plans(now=first_day.isoformat()) == 0  # a second beat changes nothing
    plan.refresh_from_db()
    assert plan.status == S.ACTIVE
    assert PlanTransition.objects.filter(plan=plan, action="activate").count() == 1


@pytest.mark.django_db
def test_the_first_day_is_the_organizations(acme, plan, tree):
    acme.org.time_zone = "Pacific/Auckland"  # 13 hours ahead of UTC in January
    acme.org.save()
    plan = approve(acme, plan)
    new_year_in_auckland = datetime(2026, 12, 31, 11, 30, tzinfo=UTC)
    assert plan_activate_if_begun(plan_id=plan.pk, now=new_year_in_auckland) is True
    plan.refresh_from_db()
    assert plan.status == S.ACTIVE


# --- Outbox in words -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_names_every_kind_of_email_in_words(acme, clients, django_assert_max_num_queries):
    kinds = sorted({*KINDS, "invitation", "account_locked", "webhook_paused"})
    assert set(kinds) <= set(EMAIL_KIND_LABELS)
    for kind in kinds:
        OutboundEmail.objects.create(
            organization=acme.org, to_email="a@example.com", kind=kind, subject=f"About {kind}", body_text="x"
        )
    client = clients["owner"]
    url = reverse("outbox", args=[acme.org.slug])
    client.get(url)
    with django_assert_max_num_queries(40) as captured:
        html = client.get(url).content.decode()
    assert ">Decision on a plan<" in html and ">approval_decision<" not in html
    for kind in kinds:
        assert f"<td>{EMAIL_KIND_LABELS[kind]}</td>" in html
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            organization=acme.org, to_email="b@example.com", kind="mention", subject="More", body_text="x"
        )
        for _ in range(60)
    )
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert client.get(url).status_code == 200
    email = OutboundEmail.objects.filter(kind="approval_decision").get()
    detail = client.get(reverse("outbox_detail", args=[acme.org.slug, email.pk])).content.decode()
    assert "<dd>Decision on a plan</dd>" in detail


# --- Grammar of a recurring step's rate ----------------------------------------------------------------


def test_a_rate_over_one_occurrence_is_not_of_the_last_1_months():
    step = ActionStep(title="Report", recurrence="monthly", status="todo")
    start = date(2027, 3, 1)
    part = step_part(step, [], date(2027, 3, 10), start, date(2027, 12, 31))
    assert part.detail == "not done yet in its first month"
    part = step_part(step, [start], date(2027, 3, 10), start, date(2027, 12, 31))
    assert part.detail == "done in its first month"
    part = step_part(step, [start], date(2027, 5, 10), start, date(2027, 12, 31))
    assert part.detail == "done in 1 of the last 3 months"
