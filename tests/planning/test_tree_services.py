"""The tree's rules: validation, permissions, moves, deletes, locking and the activity log."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from bizops.errors import Conflict, ValidationError
from bizops.models import AuditEvent
from planning import services
from planning.models import ActionStep, Milestone, Objective, PlanStatus, StepCompletion
from tests.factories import MembershipFactory, TeamFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Early", "due_date": date(2026, 12, 31)}, "due_date"),
        ({"title": "Late", "start_date": date(2028, 1, 1)}, "start_date"),
        ({"title": "Backwards", "start_date": date(2027, 5, 1), "due_date": date(2027, 4, 1)}, "due_date"),
        ({"title": "Heavy", "weight": 101}, "weight"),
    ],
)
def test_bad_objective_input_is_refused_and_saves_nothing(acme, tree, fields, field):
    milestone, _, _ = tree
    before = Objective.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.objective_create(actor=acme.manager, milestone=milestone, **fields)
    assert field in exc.value.message_dict
    assert Objective.objects.count() == before


@pytest.mark.django_db
def test_people_and_teams_of_another_organization_are_refused(acme, other, tree):
    _, objective, step = tree
    with pytest.raises(ValidationError) as exc:
        services.node_update(actor=acme.manager, node=step, version=None, assignee=other.member)
    assert "assignee" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.node_update(
            actor=acme.manager, node=objective, version=None, team=TeamFactory(organization=other.org)
        )
    assert "team" in exc.value.message_dict
    step.refresh_from_db()
    assert step.assignee_id == acme.member.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("manager", True), ("member", False), ("viewer", False)],
)
def test_who_edits_the_tree(acme, plan, role, allowed):
    actor = acme.member_of(role)
    if allowed:
        services.milestone_create(actor=actor, plan=plan, title="New")
        assert plan.milestones.filter(title="New").exists()
    else:
        with pytest.raises(PermissionDenied):
            services.milestone_create(actor=actor, plan=plan, title="New")
        assert not plan.milestones.filter(title="New").exists()


@pytest.mark.django_db
def test_the_plan_owner_edits_even_as_a_member(acme, plan):
    plan.owner = acme.member
    plan.save()
    services.milestone_create(actor=acme.member, plan=plan, title="Owner's idea")
    assert plan.milestones.filter(title="Owner's idea").exists()


@pytest.mark.django_db
def test_assignee_changes_status_and_notes_of_their_own_step_only(acme, tree):
    _, objective, step = tree
    services.node_update(actor=acme.member, node=step, version=step.version, status="doing", notes="Started")
    step.refresh_from_db()
    assert (step.status, step.notes) == ("doing", "Started")
    with pytest.raises(ValidationError):
        services.node_update(actor=acme.member, node=step, version=None, title="Renamed")
    other_step = services.step_create(
        actor=acme.manager, objective=objective, title="Not mine", assignee=acme.admin
    )
    other_step.plan = step.plan
    with pytest.raises(PermissionDenied):
        services.step_set_status(actor=acme.member, step=other_step, status="done")


@pytest.mark.django_db
def test_stale_version_is_a_conflict_with_what_changed(acme, tree):
    milestone, _, _ = tree
    seen = milestone.version
    services.node_update(actor=acme.manager, node=milestone, version=seen, title="Pipeline v2")
    with pytest.raises(services.StaleEdit) as exc:
        services.node_update(actor=acme.admin, node=milestone, version=seen, title="Pipeline (admin)")
    assert exc.value.changed["title"] == {"current": "Pipeline v2", "yours": "Pipeline (admin)"}
    assert exc.value.current_version == seen + 1
    milestone.refresh_from_db()
    assert milestone.title == "Pipeline v2"


@pytest.mark.django_db
def test_edits_to_different_nodes_never_conflict(acme, tree):
    milestone, objective, _ = tree
    m_version, o_version = milestone.version, objective.version
    services.node_update(actor=acme.manager, node=milestone, version=m_version, title="A")
    services.node_update(actor=acme.admin, node=objective, version=o_version, title="B")
    milestone.refresh_from_db()
    objective.refresh_from_db()
    assert (milestone.title, objective.title) == ("A", "B")


@pytest.mark.django_db
def test_reorder_and_move_between_parents(acme, plan, tree):
    _milestone, objective, step = tree
    second = services.step_create(actor=acme.manager, objective=objective, title="Second")
    second.plan = plan
    services.node_move(actor=acme.manager, node=second, direction="up")
    assert list(objective.steps.order_by("position").values_list("title", flat=True)) == [
        "Second",
        "Reach out to leads",
    ]

    other_milestone = services.milestone_create(actor=acme.manager, plan=plan, title="Reputation")
    target = services.objective_create(actor=acme.manager, milestone=other_milestone, title="Grow LinkedIn")
    step.refresh_from_db()
    step.plan = plan
    services.node_move(actor=acme.manager, node=step, parent=target)
    step.refresh_from_db()
    assert step.objective_id == target.pk
    assert list(objective.steps.values_list("position", flat=True)) == [0]  # dense after the move
    assert AuditEvent.objects.filter(plan_id=plan.pk, action="moved").count() == 2


@pytest.mark.django_db
def test_a_node_cannot_move_into_another_plan(acme, plan, tree):
    _, objective, _ = tree
    objective.plan = plan
    other_plan = services.plan_create(
        actor=acme.manager,
        title="Other",
        ultimate_goal="x",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 6, 30),
    )
    foreign = services.milestone_create(actor=acme.manager, plan=other_plan, title="Elsewhere")
    with pytest.raises(ValidationError) as exc:
        services.node_move(actor=acme.manager, node=objective, parent=foreign)
    assert "parent" in exc.value.message_dict
    objective.refresh_from_db()
    assert objective.milestone.plan_id == plan.pk


@pytest.mark.django_db
def test_delete_takes_children_and_is_logged(acme, plan, tree):
    milestone, _, _ = tree
    removed = services.node_delete(actor=acme.manager, node=milestone)
    assert removed == {"objectives": 1, "steps": 1}
    assert not Milestone.objects.filter(plan=plan).exists()
    assert not ActionStep.objects.filter(plan=plan).exists()
    entry = AuditEvent.objects.get(plan_id=plan.pk, action="deleted")
    assert entry.changes == {"objectives": [1, 0], "steps": [1, 0]}


@pytest.mark.django_db
def test_activity_records_before_and_after(acme, tree):
    _, objective, _ = tree
    services.node_update(
        actor=acme.manager, node=objective, version=None, title="Close six clients", weight=3
    )
    entry = AuditEvent.objects.filter(action="updated").latest("pk")
    assert entry.actor == acme.manager.user
    assert entry.changes == {"title": ["Close five clients a month", "Close six clients"], "weight": [1, 3]}


@pytest.mark.django_db
def test_approved_plan_is_locked_but_steps_still_move_forward(acme, plan, tree):
    _, objective, step = tree
    plan.status = PlanStatus.APPROVED
    plan.save()
    objective.plan = plan
    step.plan = plan
    with pytest.raises(Conflict):
        services.node_update(actor=acme.manager, node=objective, version=None, title="Changed")
    with pytest.raises(Conflict):
        services.step_create(actor=acme.manager, objective=objective, title="More")
    services.step_set_status(actor=acme.member, step=step, status="done")
    step.refresh_from_db()
    assert step.status == "done" and step.completed_at is not None


@pytest.mark.django_db
def test_recurring_step_done_counts_once_per_period_and_can_be_undone(acme, tree):
    _, _, step = tree
    services.node_update(actor=acme.manager, node=step, version=None, recurrence="daily")
    step.refresh_from_db()
    step.plan = tree[0].plan
    services.step_set_status(actor=acme.member, step=step, status="done")
    services.step_set_status(actor=acme.member, step=step, status="done")
    assert StepCompletion.objects.filter(step=step).count() == 1
    services.step_set_status(actor=acme.member, step=step, status="todo")
    assert not StepCompletion.objects.filter(step=step).exists()


@pytest.mark.django_db
def test_plan_period_cannot_shrink_past_its_nodes(acme, plan, tree):
    with pytest.raises(ValidationError) as exc:
        services.plan_update(actor=acme.manager, plan=plan, version=None, period_end=date(2027, 2, 28))
    assert "1 objective" in exc.value.message_dict["period_end"][0]


@pytest.mark.django_db
def test_template_creates_the_four_stages(acme):
    members = [acme.member, MembershipFactory(organization=acme.org)]
    plan = services.plan_create_from_template(
        actor=acme.manager,
        title="From the template",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
        assignees=members,
    )
    assert "copywriting" in plan.ultimate_goal
    assert plan.milestones.count() == 3
    assert plan.objectives.filter(title="Close five new copywriting clients a month").exists()
    outreach = plan.steps.get(title="Reach out to 20 qualified leads")
    assert outreach.recurrence == "daily"
    assert plan.steps.filter(title__icontains="Network on LinkedIn").exists()
    assert set(plan.steps.values_list("assignee", flat=True)) == {m.pk for m in members}
    for objective in plan.objectives.all():
        assert plan.period_start <= objective.start_date <= objective.due_date <= plan.period_end


@pytest.mark.django_db
def test_clone_moves_dates_into_the_new_period_as_a_draft(acme, plan, tree):
    _, _objective, step = tree
    step.status = "done"
    step.save()
    clone = services.plan_clone(
        actor=acme.manager,
        source=plan,
        title="Growth 2028",
        period_start=date(2028, 1, 1),
        period_end=date(2028, 6, 30),
    )
    assert clone.status == "draft" and clone.cloned_from == plan
    new_objective = clone.objectives.get()
    assert (new_objective.start_date, new_objective.due_date) == (date(2028, 1, 1), date(2028, 3, 31))
    new_step = clone.steps.get()
    assert new_step.status == "todo" and new_step.assignee_id == acme.member.pk

    unfinished = services.plan_clone(
        actor=acme.manager,
        source=plan,
        title="Only unfinished",
        period_start=date(2028, 1, 1),
        period_end=date(2028, 12, 31),
        only_unfinished=True,
    )
    assert not unfinished.objectives.exists()  # its only objective's steps were all done
