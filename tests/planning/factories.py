"""Planning factories for the API tests: every node inherits its plan's organization.

Plans run from two months ago to ten months ahead, so they count as "current" whatever day the suite
runs; ``build_tree`` fills a plan with bulk inserts for the query-count tests.
"""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone
from rest_framework.test import APIClient

from bizops.models import Membership
from planning.models import ActionStep, Milestone, Objective, Plan, Recurrence
from tests.factories import OrganizationFactory


def period() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=60), today + timedelta(days=300)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Plan {n}")
    ultimate_goal = "Be the agency software companies trust first."
    period_start = factory.LazyFunction(lambda: period()[0])
    period_end = factory.LazyFunction(lambda: period()[1])


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    plan = factory.SubFactory(PlanFactory)
    organization = factory.SelfAttribute("plan.organization")
    title = factory.Sequence(lambda n: f"Milestone {n}")
    position = factory.Sequence(lambda n: n)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    milestone = factory.SubFactory(MilestoneFactory)
    plan = factory.SelfAttribute("milestone.plan")
    organization = factory.SelfAttribute("milestone.organization")
    title = factory.Sequence(lambda n: f"Objective {n}")
    position = factory.Sequence(lambda n: n)


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionStep

    objective = factory.SubFactory(ObjectiveFactory)
    plan = factory.SelfAttribute("objective.plan")
    organization = factory.SelfAttribute("objective.organization")
    title = factory.Sequence(lambda n: f"Step {n}")
    position = factory.Sequence(lambda n: n)


def build_tree(
    plan: Plan, *, milestones: int, objectives: int, steps: int, people: list[Membership] | None = None
) -> int:
    """Fill ``plan`` with milestones × objectives × steps nodes (bulk inserts); returns the node count.

    Every node has an owner or assignee (round-robin over ``people``), every objective a team-less
    owner, and the first step of each objective repeats weekly, so the tree exercises every join and
    the completions query whatever its size.
    """
    org = plan.organization
    people = people or [None]
    ms = Milestone.objects.bulk_create(
        Milestone(organization=org, plan=plan, title=f"M{i}", position=i, owner=people[i % len(people)])
        for i in range(milestones)
    )
    objs = Objective.objects.bulk_create(
        Objective(
            organization=org,
            plan=plan,
            milestone=m,
            title=f"O{m.position}.{j}",
            position=j,
            owner=people[j % len(people)],
        )
        for m in ms
        for j in range(objectives)
    )
    ActionStep.objects.bulk_create(
        ActionStep(
            organization=org,
            plan=plan,
            objective=o,
            title=f"S{o.pk}.{k}",
            position=k,
            assignee=people[k % len(people)],
            recurrence=Recurrence.WEEKLY if k == 0 else Recurrence.NONE,
            status="done" if k % 3 == 1 else "todo",
        )
        for o in objs
        for k in range(steps)
    )
    return len(ms) + len(objs) + len(objs) * steps


def api_client(membership: Membership | None = None) -> APIClient:
    """A JSON client logged in as the membership's user, or anonymous."""
    client = APIClient()
    client.default_format = "json"
    if membership is not None:
        client.force_authenticate(user=membership.user)
    return client
