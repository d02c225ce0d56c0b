"""The rules about steps, said once (``planning.models.StepQuerySet``): which are overdue and which are
due this week; in SQL and in Python they agree, and so do every page, the API and the reminder email."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bizops.models import OutboundEmail
from metrics.reminders import load_memberships, send_overdue_steps
from metrics.selectors import dashboard
from planning.models import ActionStep, PlanStatus, StepQuerySet
from planning.selectors import my_work, team_workload
from tests.factories import TeamFactory
from tests.planning.factories import PlanFactory, StepFactory

WEDNESDAY = date(2027, 3, 17)
SUNDAY = date(2027, 3, 21)
RUNNING = ["approved", "active", "amending"]
NOT_RUNNING = ["draft", "in_review", "changes_requested", "closed"]
AMENDED = ["in_review", "changes_requested"]

# (plan status, step fields, days from today it is due or None) -> (overdue, due this week)
CASES = {
    "open, due yesterday": ("active", {}, -1, (True, False)),
    "doing, due ten days ago": ("active", {"status": "doing"}, -10, (True, False)),
    "blocked, due yesterday": ("active", {"status": "blocked"}, -1, (True, False)),
    "done, due yesterday": ("active", {"status": "done"}, -1, (False, False)),
    "due today": ("active", {}, 0, (False, True)),
    "due on Sunday": ("active", {}, 4, (False, True)),
    "due next Monday": ("active", {}, 5, (False, False)),
    "done, due today": ("active", {"status": "done"}, 0, (False, False)),
    "no due date": ("active", {}, None, (False, False)),
    "recurring, dated yesterday": ("active", {"recurrence": "weekly"}, -1, (False, False)),
    "recurring, dated today": ("active", {"recurrence": "daily"}, 0, (False, False)),
    **{f"due yesterday in an {s} plan": (s, {}, -1, (True, False)) for s in ("approved", "amending")},
    **{f"due yesterday in a {s} plan": (s, {}, -1, (False, False)) for s in NOT_RUNNING},
    **{f"due today in a {s} plan": (s, {}, 0, (False, False)) for s in NOT_RUNNING},
    # An amendment of an approved plan under review, or sent back: its approved work goes on.
    **{
        f"due yesterday in an amendment {s}": (f"{s}, approved before", {}, -1, (True, False))
        for s in AMENDED
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES))
def test_the_rule_in_sql_and_in_python(acme, case):
    plan_status, fields, days, (overdue, this_week) = CASES[case]
    status, _, approved_before = plan_status.partition(", ")
    plan = PlanFactory(
        organization=acme.org, status=status, first_approved_at=timezone.now() if approved_before else None
    )
    due = None if days is None else WEDNESDAY + timedelta(days=days)
    step = StepFactory(objective__milestone__plan=plan, due_date=due, **fields)

    assert ActionStep.objects.overdue(WEDNESDAY).filter(pk=step.pk).exists() is overdue
    assert StepQuerySet.is_overdue(step, runs=plan.runs, today=WEDNESDAY) is overdue
    assert ActionStep.objects.due_this_week(WEDNESDAY).filter(pk=step.pk).exists() is this_week
    assert StepQuerySet.is_due_this_week(step, runs=plan.runs, today=WEDNESDAY) is this_week


def test_a_week_runs_monday_to_sunday():
    assert StepQuerySet.week_end(WEDNESDAY) == SUNDAY
    assert StepQuerySet.week_end(SUNDAY) == SUNDAY
    assert StepQuerySet.week_end(SUNDAY + timedelta(days=1)) == SUNDAY + timedelta(days=7)


@pytest.mark.django_db
def test_the_plans_running_statuses_are_the_ones_whose_steps_can_be_overdue(acme):
    yesterday = WEDNESDAY - timedelta(days=1)
    for status in PlanStatus.values:
        StepFactory(
            objective__milestone__plan=PlanFactory(organization=acme.org, status=status), due_date=yesterday
        )
    late = ActionStep.objects.overdue(WEDNESDAY).values_list("plan__status", flat=True)
    assert sorted(late) == sorted(RUNNING)


# --- Every reader agrees ----------------------------------------------------------------------------


@pytest.fixture
def steps(acme):
    """The member's steps on today's date, in a running plan, a draft and a plan in review."""
    today = timezone.localdate()
    running = PlanFactory(organization=acme.org, owner=acme.manager, status="active", title="Running")
    draft = PlanFactory(organization=acme.org, owner=acme.manager, status="draft", title="Draft")
    review = PlanFactory(organization=acme.org, owner=acme.manager, status="in_review", title="In review")
    team = TeamFactory(organization=acme.org, name="Ops")
    team.members.add(acme.member)
    made = {}
    for title, plan, days, fields in [
        ("Late and open", running, -3, {}),
        ("Late and blocked", running, -1, {"status": "blocked"}),
        ("Late but done", running, -3, {"status": "done"}),
        ("Due today", running, 0, {}),
        ("Weekly chore", running, -3, {"recurrence": "weekly"}),
        ("Late in a draft", draft, -3, {}),
        ("Late in review", review, -3, {}),
    ]:
        made[title] = StepFactory(
            objective__milestone__plan=plan,
            objective__team=team,
            assignee=acme.member,
            title=title,
            due_date=today + timedelta(days=days),
            **fields,
        )
    return {"today": today, "plans": (running, draft, review), "team": team, **made}


OVERDUE = {"Late and open", "Late and blocked"}


@pytest.mark.django_db
def test_my_work_the_dashboard_the_workload_and_the_email_name_the_same_overdue_steps(acme, steps):
    today = steps["today"]

    assert {s.title for s in my_work(membership=acme.member, today=today).overdue} == OVERDUE

    board = dashboard(organization=acme.org, member=acme.member, today=today)
    assert {s.title for s in board.overdue} == OVERDUE
    assert board.overdue_count == len(OVERDUE)

    workload = dict(team_workload(organization=acme.org, today=today))[steps["team"]]
    assert {row.membership.pk: row.overdue for row in workload} == {acme.member.pk: len(OVERDUE)}

    sent = send_overdue_steps(load_memberships([acme.member.pk]), {acme.member.pk: today.isoformat()})
    assert sent == 1
    email = OutboundEmail.objects.get(kind="overdue_steps", recipient=acme.member.user)
    assert set(re.findall(r"^  - (.+?) \(", email.body_text, re.MULTILINE)) == OVERDUE


@pytest.mark.django_db
def test_the_strategy_map_marks_overdue_only_the_running_plans_late_steps(acme, steps, clients):
    running, draft, review = steps["plans"]
    pages = {
        plan.title: clients["member"]
        .get(reverse("planning:plan_map", args=[acme.org.slug, plan.pk]))
        .content.decode()
        for plan in (running, draft, review)
    }
    assert pages["Running"].count("overdue since") == len(OVERDUE)
    assert "Late in a draft" in pages["Draft"] and "overdue since" not in pages["Draft"]
    assert "Late in review" in pages["In review"] and "overdue since" not in pages["In review"]


@pytest.mark.django_db
def test_nothing_overdue_sends_no_email(acme, steps):
    ActionStep.objects.filter(title__in=OVERDUE).update(status="done")
    today = steps["today"]
    assert my_work(membership=acme.member, today=today).overdue == []
    assert dashboard(organization=acme.org, member=acme.member, today=today).overdue_count == 0
    assert send_overdue_steps(load_memberships([acme.member.pk]), {acme.member.pk: today.isoformat()}) == 0
