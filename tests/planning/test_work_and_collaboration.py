"""My work, one-click status, suggestions, comments with @mentions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from planning import services
from planning.models import ActionStep, Comment, Suggestion
from tests.factories import make_plan


@pytest.mark.django_db
def test_my_work_groups_steps_by_when_they_are_due(acme, clients):
    today = timezone.localdate()
    plan = make_plan(
        acme.org,
        acme.manager,
        start=today - timedelta(days=60),
        end=today + timedelta(days=300),
        milestones=1,
        objectives=1,
        status="active",
    )
    objective = plan.objectives.get()

    def step(title, due=None, **kw):
        return ActionStep.objects.create(
            organization=acme.org,
            plan=plan,
            objective=objective,
            title=title,
            assignee=acme.member,
            due_date=due,
            **kw,
        )

    step("Late one", today - timedelta(days=3))
    step("Soon one", today + timedelta(days=(6 - today.weekday())))
    step("Far one", today + timedelta(days=40))
    step("Daily one", recurrence="daily")
    step("Someone else's", today).assignee = None
    ActionStep.objects.filter(title="Someone else's").update(assignee=acme.admin)
    html = clients["member"].get(reverse("planning:my_work", args=[acme.org.slug])).content.decode()
    overdue, this_week, later = html.index("Overdue"), html.index("This week"), html.index("Later")
    assert (
        overdue < html.index("Late one") < this_week < html.index("Soon one") < later < html.index("Far one")
    )
    assert this_week < html.index("Daily one") < later
    assert "Someone else&#x27;s" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["draft", "in_review", "changes_requested"])
def test_steps_of_plans_in_planning_are_apart_and_never_overdue(acme, clients, status):
    today = timezone.localdate()
    running = make_plan(acme.org, acme.manager, milestones=1, objectives=1, status="active", title="Running")
    planned = make_plan(acme.org, acme.manager, milestones=1, objectives=1, status=status, title="Next year")
    for plan, title in ((running, "Call the leads"), (planned, "Draft idea")):
        ActionStep.objects.create(
            organization=acme.org,
            plan=plan,
            objective=plan.objectives.get(),
            title=title,
            assignee=acme.member,
            due_date=today - timedelta(days=5),
        )
    html = clients["member"].get(reverse("planning:my_work", args=[acme.org.slug])).content.decode()
    overdue = html[html.index('id="group-overdue"') : html.index('id="group-planning"')]
    assert "Call the leads" in overdue and "Draft idea" not in overdue
    planning = html[html.index('id="group-planning"') :]
    assert "Draft idea" in planning and "<details>" in html[html.index("work-group--planning") :]
    assert "overdue since" not in planning


@pytest.mark.django_db
def test_my_work_queries_do_not_grow_with_the_steps(acme, clients, django_assert_max_num_queries):
    """Every group, recurring steps with this period's completion, steps in several plans."""
    today = timezone.localdate()

    def assign(plans, steps_each):
        for n in range(plans):
            plan = make_plan(
                acme.org,
                acme.manager,
                title=f"Plan {steps_each}-{n}",
                start=today - timedelta(days=60),
                end=today + timedelta(days=300),
                milestones=1,
                objectives=1,
                steps=steps_each,
                status="active",
            )
            for i, step in enumerate(ActionStep.objects.filter(plan=plan)):
                step.assignee = acme.member
                step.due_date = today + timedelta(days=i - steps_each // 2) if i % 3 else None
                step.recurrence = "weekly" if i % 4 == 0 else "none"
                step.save()

    url = reverse("planning:my_work", args=[acme.org.slug])
    assign(plans=1, steps_each=2)
    with django_assert_max_num_queries(12) as small:
        assert clients["member"].get(url).status_code == 200
    assign(plans=3, steps_each=20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = clients["member"].get(url).content.decode()
    assert html.count('class="work-row"') == 62


@pytest.mark.django_db
def test_one_click_status_returns_the_row(acme, clients, plan, tree):
    _, _, step = tree
    response = clients["member"].post(
        reverse("planning:step_status", args=[acme.org.slug, step.pk]),
        {"status": "done"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'class="work-row"' in response.content.decode()
    step.refresh_from_db()
    assert step.status == "done"
    # Not the viewer, and not someone else's step.
    assert (
        clients["viewer"]
        .post(reverse("planning:step_status", args=[acme.org.slug, step.pk]), {"status": "todo"})
        .status_code
        == 403
    )
    assert (
        clients["admin"]
        .post(reverse("planning:step_status", args=[acme.org.slug, step.pk]), {"status": "blocked"})
        .status_code
        == 302
    )
    step.refresh_from_db()
    assert step.status == "blocked"  # admins edit every step


@pytest.mark.django_db
def test_bad_status_changes_nothing(acme, clients, plan, tree):
    _, _, step = tree
    response = clients["member"].post(
        reverse("planning:step_status", args=[acme.org.slug, step.pk]),
        {"status": "finished!"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    step.refresh_from_db()
    assert step.status == "todo"


@pytest.mark.django_db
def test_member_suggests_and_editor_accepts_or_declines(acme, clients, plan, tree):
    milestone, _, _ = tree
    page = reverse("planning:suggestions", args=[acme.org.slug, plan.pk])
    response = clients["member"].post(
        page,
        {
            "kind": "objective",
            "milestone": milestone.pk,
            "title": "Referral programme",
            "description": "Clients refer clients",
        },
    )
    assert response.status_code == 302
    suggestion = Suggestion.objects.get(title="Referral programme")
    decide = reverse("planning:suggestion_decide", args=[acme.org.slug, plan.pk, suggestion.pk])
    assert clients["member"].post(decide, {"decision": "accept"}).status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"
    clients["manager"].post(decide, {"decision": "accept"})
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted"
    assert milestone.objectives.filter(
        title="Referral programme", description="Clients refer clients"
    ).exists()

    clients["member"].post(page, {"kind": "milestone", "title": "Open an office in Paris"})
    second = Suggestion.objects.get(title="Open an office in Paris")
    decide = reverse("planning:suggestion_decide", args=[acme.org.slug, plan.pk, second.pk])
    clients["manager"].post(decide, {"decision": "decline", "reason": ""})
    second.refresh_from_db()
    assert second.status == "pending"  # a reason is required
    clients["manager"].post(decide, {"decision": "decline", "reason": "Not this year"})
    second.refresh_from_db()
    assert (second.status, second.reason) == ("declined", "Not this year")
    html = clients["member"].get(page).content.decode()
    assert "Not this year" in html


@pytest.mark.django_db
def test_viewers_cannot_suggest_and_bad_parents_are_refused(acme, other, clients, plan):
    page = reverse("planning:suggestions", args=[acme.org.slug, plan.pk])
    assert clients["viewer"].post(page, {"kind": "milestone", "title": "x"}).status_code == 403
    foreign = make_plan(other.org, milestones=1).milestones.get()
    response = clients["member"].post(page, {"kind": "objective", "milestone": foreign.pk, "title": "Sneaky"})
    assert response.status_code == 400
    assert not Suggestion.objects.exists()


@pytest.mark.django_db
def test_comment_with_mention_emails_the_person(
    acme, clients, plan, tree, mailoutbox, django_capture_on_commit_callbacks
):
    _, objective, _ = tree
    handle = acme.member.user.email.split("@")[0]
    page = reverse("planning:node_detail", args=[acme.org.slug, plan.pk, "objective", objective.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["manager"].post(page, {"body": f"@{handle} can you take this one? <b>bold</b>"})
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert list(comment.mentions.all()) == [acme.member.user]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [acme.member.user.email]
    assert page in mailoutbox[0].body
    html = clients["member"].get(page).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.django_db
def test_mentions_of_strangers_and_empty_comments(acme, other, plan, tree):
    _, objective, _ = tree
    outsider = other.member.user.email
    comment = services.comment_create(
        actor=acme.manager, plan=plan, node_kind="objective", node=objective, body=f"cc @{outsider}"
    )
    assert not comment.mentions.exists()
    from bizops.errors import ValidationError

    with pytest.raises(ValidationError):
        services.comment_create(
            actor=acme.manager, plan=plan, node_kind="objective", node=objective, body="   "
        )
