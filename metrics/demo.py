"""The demo's measures: two KPIs with a year of monthly values, key results and check-ins."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bizops.models import Membership, Organization
from planning.models import ActionStep, Objective, Plan, PlanStatus

from .models import KPI, CheckIn, Direction, Frequency, KeyResult, KeyResultKind, Measurement
from .rules import last_periods
from .services import check_in_key_result, check_in_objective
from .services.history import progress_backfill

LEADS = [62, 70, 68, 75, 81, 79, 88, 91, 85, 94, 97, 102]
CLIENTS = [2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 4, 6]


def load(org: Organization, people: dict[str, Membership]) -> None:
    today = timezone.localdate()
    _remind_soon(people["mia"])
    plan = Plan.objects.filter(organization=org, status=PlanStatus.ACTIVE).first()
    objectives = {o.title: o for o in Objective.objects.filter(plan=plan)} if plan else {}
    months = last_periods(Frequency.MONTHLY, today, 13)[:-1]  # the twelve months before this one
    leads = KPI.objects.create(
        organization=org,
        name="Leads reached a month",
        description="Qualified people we contacted for the first time.",
        direction=Direction.INCREASE,
        target=100,
        amber_threshold=85,
        red_threshold=70,
        frequency=Frequency.MONTHLY,
        owner=people["mia"],
    )
    clients = KPI.objects.create(
        organization=org,
        name="New clients a month",
        description="Signed contracts per calendar month.",
        direction=Direction.INCREASE,
        target=5,
        amber_threshold=4,
        red_threshold=3,
        frequency=Frequency.MONTHLY,
        owner=people["manager"],
    )
    KPI.objects.create(
        organization=org,
        name="Client retention",
        unit="percent",
        direction=Direction.STAY_ABOVE,
        target=85,
        red_threshold=75,
        frequency=Frequency.QUARTERLY,
        owner=people["sam"],
    )
    recorder = {leads.pk: people["mia"].user, clients.pk: people["manager"].user}
    Measurement.objects.bulk_create(
        Measurement(
            organization=org, kpi=kpi, period_start=month, value=Decimal(value), recorded_by=recorder[kpi.pk]
        )
        for kpi, series in ((leads, LEADS), (clients, CLIENTS))
        for month, value in zip(months, series, strict=True)
    )
    if plan is None:
        return
    close = objectives.get("Close five new copywriting clients a month")
    reach = objectives.get("Reach 100 qualified leads a month")
    audience = objectives.get("Grow our LinkedIn audience to 2,000 followers")
    if close:
        clients.objectives.add(close)
    if reach:
        leads.objectives.add(reach)
    krs = []
    for objective, title, kind, start, target, owner in (
        (close, "New clients signed this month", KeyResultKind.NUMBER, 0, 5, people["manager"]),
        (close, "Proposal win rate", KeyResultKind.PERCENT, 20, 40, people["lee"]),
        (reach, "Qualified leads this month", KeyResultKind.NUMBER, 0, 100, people["mia"]),
        (audience, "LinkedIn followers", KeyResultKind.NUMBER, 800, 2000, people["lee"]),
    ):
        if objective is not None:
            krs.append(
                KeyResult.objects.create(
                    organization=org,
                    plan=plan,
                    objective=objective,
                    title=title,
                    kind=kind,
                    start=start,
                    target=target,
                    current=start,
                    owner=owner,
                )
            )
    # Check-ins over the last weeks, through the services (each sets the key result's value).
    for kr, values in zip(krs, ([1, 2], [24, 28], [20, 31, 45], [870, 910, 950]), strict=False):
        owner = next(m for m in people.values() if m.pk == kr.owner_id)
        for value in values:
            check_in_key_result(
                actor=owner,
                key_result=kr,
                value=value,
                confidence="on_track" if value == values[-1] else "at_risk",
            )
    if close:
        check_in_objective(
            actor=people["manager"],
            objective=close,
            confidence="at_risk",
            note="Two deals slipped into next month.",
        )
    # Spread the check-ins over the past weeks so the timelines read like real ones.
    for age, check_in in enumerate(CheckIn.objects.filter(plan=plan).order_by("-pk")):
        CheckIn.objects.filter(pk=check_in.pk).update(created_at=timezone.now() - timedelta(days=3 * age + 1))
    # Its progress over time, rebuilt from those check-ins and the steps' completions (as on approval).
    plan.organization = org
    progress_backfill(plan=plan)
    _content_team_plan(org, people, plan, followers=krs[-1] if audience else None, close=close)


def _content_team_plan(
    org: Organization,
    people: dict[str, Membership],
    company: Plan,
    *,
    followers: KeyResult | None,
    close: Objective | None,
) -> None:
    """The Content team's own plan for the same period, serving the company plan: one objective
    counts in the key result it serves, the other is shown under its objective without counting."""
    from planning import services as planning

    from .services.alignment import objective_align

    manager, lee, sam = people["manager"], people["lee"], people["sam"]
    team = planning.plan_create(
        actor=manager,
        title=f"Content team: {company.title}",
        ultimate_goal="Make the agency the name software companies read first on LinkedIn.",
        period_start=company.period_start,
        period_end=company.period_end,
        owner=lee,
        parent=company,
    )
    content = org.teams.get(name="Content")
    milestone = planning.milestone_create(actor=manager, plan=team, title="Be read every week", owner=lee)
    due = min(company.period_end, company.period_start + timedelta(days=180))
    posts = planning.objective_create(
        actor=manager,
        milestone=milestone,
        title="Publish two LinkedIn posts a week",
        team=content,
        owner=lee,
        start_date=company.period_start,
        due_date=due,
    )
    planning.step_create(
        actor=manager, objective=posts, title="Draft this week's posts", assignee=lee, recurrence="weekly"
    )
    done = planning.step_create(
        actor=manager, objective=posts, title="Set up the posting calendar", assignee=lee
    )
    cases = planning.objective_create(
        actor=manager,
        milestone=milestone,
        title="Turn three client wins into case studies",
        team=content,
        owner=sam,
        start_date=company.period_start,
        due_date=due,
    )
    case = planning.step_create(
        actor=manager, objective=cases, title="Write the first case study", assignee=sam
    )
    planning.step_create(actor=manager, objective=cases, title="Interview two happy clients", assignee=sam)
    # Done twelve days ago, as the demo's other history (the progress history shows when).
    ActionStep.objects.filter(pk__in=[done.pk, case.pk]).update(
        status="done", completed_at=timezone.now() - timedelta(days=12)
    )
    if followers is not None:
        objective_align(actor=manager, objective=posts, target_kind="key_result", target_id=followers.pk)
    if close is not None:
        objective_align(
            actor=manager, objective=cases, target_kind="objective", target_id=close.pk, counts=False
        )
    planning.plan_submit(actor=manager, plan=team, comment="How the Content team serves the year's plan.")
    planning.plan_approve(actor=people["owner"], plan=Plan.objects.get(pk=team.pk), comment="Good. Go!")
    approved = Plan.objects.get(pk=team.pk)
    approved.organization = org
    progress_backfill(plan=approved)


def _remind_soon(membership: Membership) -> None:
    """Give a demo member a check-in time of now, so a reminder reaches the outbox minutes after start."""
    from zoneinfo import ZoneInfo

    local = timezone.now().astimezone(ZoneInfo(membership.user.time_zone))
    membership.cadence = Membership.Cadence.CUSTOM
    membership.checkin_weekday = local.weekday()
    membership.checkin_hour = local.hour
    membership.save(update_fields=["cadence", "checkin_weekday", "checkin_hour"])
