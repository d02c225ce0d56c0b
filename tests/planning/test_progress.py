"""Roll-up arithmetic: steps, recurring steps, weights and the edge cases."""

from datetime import date
from types import SimpleNamespace

import pytest

from planning.models import Recurrence, StepStatus
from planning.progress import Part, health, rollup, step_part, weighted, window_occurrences


def step(pk, status="todo", recurrence="none", title="s"):
    return SimpleNamespace(
        pk=pk,
        title=title,
        status=status,
        recurrence=recurrence,
        get_status_display=lambda: dict(StepStatus.choices)[status],
    )


def tree_of(milestones, completions=None):
    plan = SimpleNamespace(period_start=date(2027, 1, 1), period_end=date(2027, 12, 31))
    return SimpleNamespace(plan=plan, milestones=milestones, completions=completions or {}, step_tallies={})


def node(pk, children, weight=1, title="n"):
    return SimpleNamespace(pk=pk, children=children, weight=weight, title=title)


def test_weighted_average_and_zero_weights():
    assert weighted([Part("a", 1.0, 3), Part("b", 0.0, 1)], "").value == pytest.approx(0.75)
    figure = weighted([Part("a", 1.0, 0), Part("b", 0.0, 0)], "")
    assert figure.value == pytest.approx(0.5)
    assert "equally" in figure.note
    empty = weighted([], "No steps yet.")
    assert (empty.value, empty.note) == (0.0, "No steps yet.")


def test_weighted_does_not_depend_on_the_order_of_its_parts():
    # 0.1 + 0.2 + 0.3 is 0.6000000000000001 added left to right, 0.6 right to left: the sums are exact,
    # so a figure from steps counted in any order (the dashboards' tallies) is the map's figure.
    parts = [Part("a", 0.1, 1), Part("b", 0.2, 1), Part("c", 0.3, 1)]
    assert weighted(parts, "").value == weighted(parts[::-1], "").value == pytest.approx(0.2)


def test_rollup_with_weights_up_to_the_plan():
    o1 = node(1, [step(1, "done"), step(2, "done"), step(3), step(4)], weight=1)  # 50%
    o2 = node(2, [step(5, "done")], weight=3)  # 100%
    m1 = node(10, [o1, o2], weight=1)  # (0.5 + 3) / 4 = 87.5%
    m2 = node(11, [], weight=1)  # no objectives: 0%
    result = rollup(tree_of([m1, m2]), date(2027, 6, 1), {})
    assert result.objectives[1].percent == 50
    assert result.objectives[2].percent == 100
    assert result.milestones[10].value == pytest.approx(0.875)
    assert result.milestones[11].note == "No objectives yet."
    assert result.plan.value == pytest.approx(0.4375)
    # Each figure explains itself: its parts, with their weights.
    assert [(p.label, p.weight) for p in result.milestones[10].parts] == [("n", 1), ("n", 3)]


def test_all_steps_done_is_100_and_no_steps_is_0():
    result = rollup(
        tree_of([node(1, [node(2, [step(1, "done"), step(2, "done")]), node(3, [])])]), date(2027, 3, 1), {}
    )
    assert result.objectives[2].percent == 100
    assert result.objectives[3].percent == 0
    assert result.objectives[3].note == "No steps or key results yet."


def test_daily_step_counts_the_last_seven_days():
    today = date(2027, 3, 10)
    done = {date(2027, 3, 10), date(2027, 3, 8), date(2027, 3, 1)}  # 1 March is outside the window
    part = step_part(step(1, recurrence=Recurrence.DAILY), done, today, date(2027, 1, 1), date(2027, 12, 31))
    assert part.value == pytest.approx(2 / 7)
    assert part.detail == "done in 2 of the last 7 days"


def test_recurring_window_is_cut_at_the_plan_start_and_before_it_is_empty():
    start = date(2027, 3, 8)
    assert window_occurrences(Recurrence.DAILY, date(2027, 3, 9), start, date(2027, 12, 31)) == [
        date(2027, 3, 9),
        date(2027, 3, 8),
    ]
    assert window_occurrences(Recurrence.WEEKLY, date(2027, 3, 1), start, date(2027, 12, 31)) == []
    part = step_part(
        step(1, recurrence=Recurrence.WEEKLY), set(), date(2027, 3, 1), start, date(2027, 12, 31)
    )
    assert part.value == 0 and "not started" in part.detail


def test_weekly_and_monthly_occurrences():
    assert window_occurrences(Recurrence.WEEKLY, date(2027, 3, 10), date(2027, 1, 1), date(2027, 12, 31)) == [
        date(2027, 3, 8),
        date(2027, 3, 1),
        date(2027, 2, 22),
        date(2027, 2, 15),
    ]
    assert window_occurrences(
        Recurrence.MONTHLY, date(2027, 3, 10), date(2027, 1, 1), date(2027, 12, 31)
    ) == [
        date(2027, 3, 1),
        date(2027, 2, 1),
        date(2027, 1, 1),
    ]


def test_health_against_the_calendar():
    from planning.progress import Figure

    start, due = date(2027, 1, 1), date(2027, 4, 1)
    assert health(Figure(1.0), start, due, date(2027, 2, 1)) == "done"
    assert health(Figure(0.0), start, due, date(2026, 12, 1)) == "not_started"
    assert health(Figure(0.5), start, due, date(2027, 2, 15)) == "on_track"
    assert health(Figure(0.2), start, due, date(2027, 2, 10)) == "at_risk"
    assert health(Figure(0.1), start, due, date(2027, 5, 1)) == "off_track"


@pytest.mark.django_db
def test_counted_steps_give_the_same_figures_as_listed_steps(django_assert_num_queries):
    """The dashboards count steps (``step_tallies``) where the map lists them: every figure must match
    to the last bit, whatever the mix of done, open and recurring steps, weights and key results."""
    from datetime import timedelta

    from django.utils import timezone

    from metrics.models import KeyResult
    from planning.models import ActionStep, Milestone, Objective, StepCompletion
    from planning.progress import occurrence_start
    from planning.selectors import dashboard_trees, display_tree
    from tests.planning.factories import PlanFactory, build_tree

    plan = PlanFactory()
    build_tree(plan, milestones=3, objectives=4, steps=7)
    today = timezone.localdate()
    Milestone.objects.filter(position=1).update(weight=3)
    for i, objective in enumerate(Objective.objects.filter(plan=plan).order_by("pk")):
        Objective.objects.filter(pk=objective.pk).update(weight=i % 4)  # some zero weights
        if i % 2:
            KeyResult.objects.create(
                organization=plan.organization,
                plan=plan,
                objective=objective,
                title="KR",
                target=3,
                current=1 + i % 2,
                weight=1 + i % 3,
            )
    ActionStep.objects.filter(plan=plan, position=2).update(recurrence="daily")
    this_week = occurrence_start("weekly", today)
    for i, step in enumerate(ActionStep.objects.filter(plan=plan).exclude(recurrence="none")):
        for back in range(i % 4):
            day = (
                this_week - timedelta(weeks=back)
                if step.recurrence == "weekly"
                else today - timedelta(days=back)
            )
            StepCompletion.objects.create(organization=plan.organization, step=step, period_start=day)
    # A step made one-off after it recurred keeps its completions; it still counts once.
    was_weekly = ActionStep.objects.filter(plan=plan, recurrence="weekly").order_by("pk").last()
    for back in range(3):
        StepCompletion.objects.get_or_create(
            organization=plan.organization, step=was_weekly, period_start=this_week - timedelta(weeks=back)
        )
    ActionStep.objects.filter(pk=was_weekly.pk).update(recurrence="none", status="done")
    # A tree with no step at all in one objective.
    ActionStep.objects.filter(objective=Objective.objects.filter(plan=plan).order_by("pk").first()).delete()

    listed = display_tree(plan=plan, today=today)
    # milestones, objectives, the steps counted, key results, links to and from other plans
    with django_assert_num_queries(5):
        counted = dashboard_trees(plans=[plan], today=today)[0]

    assert counted.steps == {} and counted.step_tallies
    tally = counted.step_tallies[was_weekly.objective_id]
    assert tally.count == len(listed.objectives[was_weekly.objective_id].children)
    assert counted.progress.plan.value == listed.progress.plan.value
    for pk, figure in listed.progress.milestones.items():
        assert counted.progress.milestones[pk].value == figure.value
    for pk, figure in listed.progress.objectives.items():
        assert counted.progress.objectives[pk].value == figure.value, pk
    assert 0 < listed.progress.plan.value < 1
