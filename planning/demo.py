"""The demo plan: the copywriting agency's year, from the template, with steps for the demo members."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from bizops.models import Membership, Organization, Team

from .models import ActionStep, Objective, StepCompletion, StepStatus
from .services import plan_approve, plan_clone, plan_create_from_template, plan_submit


def load(org: Organization, people: dict[str, Membership]) -> None:
    today = timezone.localdate()
    # A twelve-month plan that started two months ago: some work done, most of it ahead.
    start = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    plan = plan_create_from_template(
        actor=people["manager"],
        title=f"Growth plan {start:%b %Y} – {end:%b %Y}",
        period_start=start,
        period_end=end,
        owner=people["manager"],
        assignees=[people["mia"], people["sam"], people["lee"]],
    )
    teams = {team.name: team for team in Team.objects.filter(organization=org)}
    objectives = list(Objective.objects.filter(plan=plan).order_by("milestone__position", "position"))
    for objective in objectives:
        objective.team = teams["Content"] if "LinkedIn" in objective.title else teams["Sales"]
    Objective.objects.bulk_update(objectives, ["team"])
    # Some history, so the map and My work show real progress on the first run.
    steps = list(ActionStep.objects.filter(plan=plan).select_related("assignee__user"))
    completions = []
    for step in steps:
        if step.recurrence == "daily":
            assert step.assignee is not None  # every step was handed round-robin to ``assignees``
            for days_ago in (1, 2, 4, 5):
                completions.append(
                    StepCompletion(
                        organization=org,
                        step=step,
                        period_start=today - timedelta(days=days_ago),
                        done_by=step.assignee.user,
                        done_at=timezone.now() - timedelta(days=days_ago),
                    )
                )
        elif step.recurrence == "none" and "proposal template" in step.title:
            step.status = StepStatus.DONE
            step.completed_at = timezone.now() - timedelta(days=20)  # the progress history shows when
            step.save(update_fields=["status", "completed_at"])
    StepCompletion.objects.bulk_create(completions)
    # Through the real workflow: the manager submits, the owner approves (the baseline is frozen and
    # the members are told by email, into the outbox), and the plan goes live: its period began two
    # months ago, so the approval activates it.
    plan_submit(actor=people["manager"], plan=plan, comment="Our plan for the year: please review.")
    plan_approve(actor=people["owner"], plan=plan, comment="Ambitious and measurable. Go!")
    # Next period's plan, being written: a copy moved a year on.
    next_start = end + timedelta(days=1)
    plan_clone(
        actor=people["manager"],
        source=plan,
        title=f"Growth plan {next_start:%b %Y} – {date(next_start.year + 1, next_start.month, 1) - timedelta(days=1):%b %Y}",
        period_start=next_start,
        period_end=date(next_start.year + 1, next_start.month, 1) - timedelta(days=1),
    )
