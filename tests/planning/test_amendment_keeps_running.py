"""An approved plan's work runs through an amendment and its review: while the amendment is reviewed or
sent back for changes, its steps are still work (My work, overdue, reminders) and its key results are
still checked in on. A plan never approved is not work until it is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from metrics import services as metrics_services
from metrics.models import KeyResult
from planning import selectors, services
from planning.models import ActionStep, Plan, PlanStatus


def _amendment_in_review(acme, plan):
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    services.plan_approve(actor=acme.admin, plan=Plan.objects.get(pk=plan.pk))
    plan = Plan.objects.get(pk=plan.pk)
    assert plan.first_approved_at is not None
    services.plan_start_amendment(actor=acme.manager, plan=plan)
    services.plan_submit(actor=acme.manager, plan=Plan.objects.get(pk=plan.pk), approvers=[acme.admin])
    return Plan.objects.get(pk=plan.pk)


@pytest.mark.django_db
def test_an_amendment_in_review_keeps_the_approved_work_running(acme, clients, plan, tree):
    _, objective, step = tree
    kr = metrics_services.key_result_create(
        actor=acme.manager, objective=objective, title="Clients signed", start=0, target=5, owner=acme.member
    )
    yesterday = date.today() - timedelta(days=1)
    ActionStep.objects.filter(pk=step.pk).update(due_date=yesterday)
    Plan.objects.filter(pk=plan.pk).update(period_start=yesterday - timedelta(days=30))
    plan = _amendment_in_review(acme, Plan.objects.get(pk=plan.pk))
    assert plan.status == PlanStatus.IN_REVIEW and plan.runs

    work = selectors.my_work(membership=acme.member)
    assert [s.pk for s in work.overdue] == [step.pk] and not work.in_planning
    assert ActionStep.objects.overdue(date.today()).filter(pk=step.pk).exists()
    assert KeyResult.objects.running().filter(pk=kr.pk).exists()
    page = clients["member"].get(reverse("metrics:check_in", args=[acme.org.slug])).content.decode()
    assert "Clients signed" in page and "Reach out to leads" in page

    services.plan_request_changes(actor=acme.admin, plan=plan, comment="Not yet.")
    assert Plan.objects.get(pk=plan.pk).runs
    assert [s.pk for s in selectors.my_work(membership=acme.member).overdue] == [step.pk]


@pytest.mark.django_db
def test_a_plan_never_approved_is_not_work_while_reviewed(acme, plan, tree):
    _, _, step = tree
    ActionStep.objects.filter(pk=step.pk).update(due_date=date.today() - timedelta(days=1))
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin])
    plan = Plan.objects.get(pk=plan.pk)
    assert not plan.runs
    work = selectors.my_work(membership=acme.member)
    assert not work.overdue and [s.pk for s in work.in_planning] == [step.pk]
    assert not ActionStep.objects.overdue(date.today()).filter(pk=step.pk).exists()
