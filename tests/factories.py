"""Factories that keep every object inside one organization unless told otherwise."""

import factory
from django.utils import timezone

from bizops.models import Invitation, Membership, Organization, Team, User
from bizops.roles import Role

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    time_zone = "UTC"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    time_zone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


# --- Planning ---------------------------------------------------------------------------------------


def make_plan(org, owner=None, *, start=None, end=None, milestones=0, objectives=0, steps=0, **fields):
    """A plan with ``milestones`` × ``objectives`` × ``steps`` nodes, built with bulk inserts."""
    from datetime import date

    from planning.models import ActionStep, Milestone, Objective, Plan

    start = start or date(2027, 1, 1)
    end = end or date(2027, 12, 31)
    plan = Plan.objects.create(
        organization=org,
        title=fields.pop("title", "Growth plan"),
        ultimate_goal=fields.pop("ultimate_goal", "Be the agency software companies trust first."),
        period_start=start,
        period_end=end,
        owner=owner,
        **fields,
    )
    ms = Milestone.objects.bulk_create(
        Milestone(organization=org, plan=plan, title=f"Milestone {i}", position=i) for i in range(milestones)
    )
    objs = Objective.objects.bulk_create(
        Objective(
            organization=org,
            plan=plan,
            milestone=m,
            title=f"Objective {m.position}.{j}",
            position=j,
            owner=owner,
        )
        for m in ms
        for j in range(objectives)
    )
    ActionStep.objects.bulk_create(
        ActionStep(
            organization=org, plan=plan, objective=o, title=f"Step {o.pk}.{k}", position=k, assignee=owner
        )
        for o in objs
        for k in range(steps)
    )
    return plan
