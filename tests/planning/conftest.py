from datetime import date

import pytest

from planning import services
from tests.factories import TeamFactory


@pytest.fixture
def plan(acme):
    """A draft plan of Acme owned by its manager, with one milestone, objective and step."""
    p = services.plan_create(
        actor=acme.manager,
        title="Growth 2027",
        ultimate_goal="Be the agency software companies trust first.",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
    )
    milestone = services.milestone_create(actor=acme.manager, plan=p, title="Build a pipeline")
    objective = services.objective_create(
        actor=acme.manager,
        milestone=milestone,
        title="Close five clients a month",
        team=TeamFactory(organization=acme.org, name="Sales"),
        owner=acme.manager,
        start_date=date(2027, 1, 1),
        due_date=date(2027, 3, 31),
    )
    services.step_create(
        actor=acme.manager, objective=objective, title="Reach out to leads", assignee=acme.member
    )
    return p


@pytest.fixture
def tree(plan):
    milestone = plan.milestones.get()
    objective = milestone.objectives.get()
    step = objective.steps.get()
    for node in (milestone, objective, step):
        node.plan = plan
    return milestone, objective, step
