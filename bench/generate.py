"""Generate the bench organizations: a large one ("bench") and the same shapes at toy size ("bench-small").

    .venv/bin/python -m bench.generate            # create the bench database if needed, migrate, load
    .venv/bin/python -m bench.generate --reset    # drop both bench organizations and load them again

The large organization: 500 members, 40 teams, 30 plans (one of 20 milestones x 25 objectives x 10
steps: 5,520 nodes), 3 key results per objective, 200 weekly KPIs with two years of measurements and
100,000 check-ins. Deterministic: the same seed and anchor date give the same rows (ids aside). Dates
are laid out around the anchor (today by default) so that plans are running, steps are overdue and
check-ins recent whenever the benchmarks run; regenerate with --reset when the anchor gets old.

Rows are written with bulk_create where their ids are needed and with COPY for the big tables
(measurements, check-ins, completions, notifications). Every bench user shares one password hash.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.common import BENCH_SLUG, PASSWORD, PASSWORD_SALT, SMALL_SLUG, XL_SLUG, email_domain, setup

BATCH = 2000
SEED = 20261125


@dataclass(frozen=True)
class Scale:
    slug: str
    name: str
    members: int
    teams: int
    plans: int
    big: tuple[int, int, int]  # milestones, objectives per milestone, steps per objective
    other: tuple[int, int, int]
    key_results: int  # per objective
    kpis: int
    weeks: int  # weekly measurements per KPI
    check_ins: int
    heavy_every: int  # the heavy member is assigned every n-th step of the big plan
    history: bool = True  # write the running plans' progress history (the XL plan needs none)


LARGE = Scale(
    BENCH_SLUG,
    "Bench Corp",
    members=500,
    teams=40,
    plans=30,
    big=(20, 25, 10),
    other=(5, 5, 6),
    key_results=3,
    kpis=200,
    weeks=104,
    check_ins=100_000,
    heavy_every=10,
)
# The large organization four times over where the growth benchmarks look: a company plan four
# times the big one (40 x 50 x 10: 22,040 nodes) and four times as many team plans (116 of 5 x 5 x 6,
# the 103 not closed serving it), so the 22,040-node plan's reads carry four times the alignment the 5,520-node plan's do
# (like for like). Its own organization: the large organization's pages (search, dashboard, alignment)
# read what they always did.
XL = Scale(
    XL_SLUG,
    "Bench XL",
    members=240,
    teams=24,
    plans=1 + 4 * (LARGE.plans - 1),
    big=(40, 50, 10),
    other=LARGE.other,
    key_results=3,
    kpis=4,
    weeks=3,
    check_ins=1_000,
    heavy_every=10,
    history=False,
)
SMALL = Scale(
    SMALL_SLUG,
    "Bench Small",
    members=12,
    teams=2,
    plans=2,
    big=(1, 2, 2),
    other=(1, 1, 1),
    key_results=3,
    kpis=2,
    weeks=3,
    check_ins=30,
    heavy_every=2,
)

FIRST = (
    "Ada Ben Chloe Dev Elif Farid Grace Hugo Ines Jonas Kemi Liam Mei Nora Omar Priya Quinn Rosa Sami Tara"
)
LAST = "Adler Brandt Costa Dubois Eriksen Fischer Garcia Hoang Ivanova Jansen Kowalski Lopez Moreau Nakamura"
ZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]
WORDS = [
    "growth",
    "retention",
    "pricing",
    "onboarding",
    "churn",
    "hiring",
    "quality",
    "delivery",
    "margin",
    "partners",
    "support",
    "platform",
    "security",
    "brand",
    "content",
    "referrals",
    "expansion",
    "efficiency",
    "compliance",
    "data",
]
NOTES = ["", "", "Steady week.", "Blocked on a vendor.", "Ahead of plan.", "Needs a decision.", "On it."]


def _names(rng: random.Random, count: int) -> list[str]:
    first, last = FIRST.split(), LAST.split()
    return [f"{rng.choice(first)} {rng.choice(last)}" for _ in range(count)]


def _chunks(rows: list, size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def copy_rows(model, columns: list[str], rows) -> int:
    """COPY rows (tuples in ``columns`` order) into the model's table: the fast path for big tables."""
    from django.db import connection

    table = model._meta.db_table
    count = 0
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


# --- Dropping ---------------------------------------------------------------------------------------


def drop_organization(slug: str) -> bool:
    """Delete an organization, everything it owns and its users, with one DELETE per table.

    Django's cascade would load every row into Python first; here the foreign keys (deferred on
    PostgreSQL) are checked once at commit, so a table this misses fails loudly instead of leaving rows.
    """
    from django.apps import apps
    from django.db import connection, transaction

    from bizops.models import Organization, User

    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        return False
    tenant_models = [
        m
        for m in apps.get_models()
        if any(f.name == "organization" and f.is_relation for f in m._meta.concrete_fields)
    ]
    tenant_tables = {m._meta.db_table for m in tenant_models}
    with transaction.atomic(), connection.cursor() as cursor:
        # Many-to-many tables first, while the rows they point to can still be found.
        for model in apps.get_models(include_auto_created=True):
            if not model._meta.auto_created:
                continue
            for field in model._meta.concrete_fields:
                target = getattr(field, "related_model", None)
                if target is not None and target._meta.db_table in tenant_tables:
                    cursor.execute(
                        f"DELETE FROM {model._meta.db_table} WHERE {field.column} IN "
                        f"(SELECT id FROM {target._meta.db_table} WHERE organization_id = %s)",
                        [org.pk],
                    )
                    break
        for model in tenant_models:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [org.pk])
        users = f"SELECT id FROM {User._meta.db_table} WHERE email LIKE %s"
        pattern = f"%@{email_domain(slug)}"
        for table in (User.groups.through._meta.db_table, User.user_permissions.through._meta.db_table):
            cursor.execute(f"DELETE FROM {table} WHERE user_id IN ({users})", [pattern])
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE email LIKE %s", [pattern])
        cursor.execute(f"DELETE FROM {Organization._meta.db_table} WHERE id = %s", [org.pk])
    return True


# --- Loading ----------------------------------------------------------------------------------------


def password_hash() -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD, salt=PASSWORD_SALT, hasher="md5")


def load(scale: Scale, anchor: date, seed: int) -> dict[str, int]:
    from django.db import transaction

    with transaction.atomic():
        return _load(scale, anchor, random.Random(f"{seed}:{scale.slug}"))


def _load(scale: Scale, anchor: date, rng: random.Random) -> dict[str, int]:
    from bizops.models import Membership, Notification, Organization, Team, User
    from bizops.roles import Role
    from metrics.models import KPI, CheckIn, Contribution, KeyResult, KPITarget, Measurement, ProgressPoint
    from metrics.services.history import rebuilt_days
    from planning.models import (
        ActionStep,
        Milestone,
        Objective,
        Plan,
        PlanApprover,
        PlanStatus,
        StepCompletion,
        running_q,
    )

    now = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC)
    counts: dict[str, int] = {}
    domain = email_domain(scale.slug)
    hashed = password_hash()

    # People: the owner, an admin, the heavy member (many steps), one manager per team, then members
    # and a few viewers.
    org = Organization.objects.create(
        name=scale.name, slug=scale.slug, time_zone="Europe/Berlin", created_at=now - timedelta(days=800)
    )
    locals_ = ["owner", "admin", "heavy"] + [f"person{i:04d}" for i in range(3, scale.members)]
    names = _names(rng, scale.members)
    users = User.objects.bulk_create(
        User(
            email=f"{local}@{domain}",
            display_name=names[i],
            time_zone=ZONES[i % len(ZONES)],
            password=hashed,
            date_joined=now - timedelta(days=700 - i % 300),
        )
        for i, local in enumerate(locals_)
    )
    viewers = max(1, scale.members // 20)

    def role_of(i: int) -> str:
        if i == 0:
            return Role.OWNER
        if i == 1:
            return Role.ADMIN
        if 3 <= i < 3 + scale.teams:
            return Role.MANAGER
        if i >= scale.members - viewers:
            return Role.VIEWER
        return Role.MEMBER

    memberships = Membership.objects.bulk_create(
        Membership(organization=org, user=user, role=role_of(i), joined_at=user.date_joined)
        for i, user in enumerate(users)
    )
    counts["members"] = len(memberships)
    owner, admin, heavy = memberships[0], memberships[1], memberships[2]
    managers = memberships[3 : 3 + scale.teams]
    contributors = [m for m in memberships if m.role != Role.VIEWER]
    workers = [m for m in contributors if m.pk != heavy.pk]

    teams = Team.objects.bulk_create(
        Team(organization=org, name=f"Team {i:02d} {WORDS[i % len(WORDS)]}", lead=managers[i])
        for i in range(scale.teams)
    )
    team_of: dict[int, Team] = {}
    through = []
    for i, member in enumerate(m for m in memberships[2:] if m.role != Role.VIEWER):
        team = teams[i % len(teams)]
        team_of[member.pk] = team
        through.append(Team.members.through(team_id=team.pk, membership_id=member.pk))
    for team, lead in zip(teams, managers, strict=True):
        if team_of.get(lead.pk) is not team:
            through.append(Team.members.through(team_id=team.pk, membership_id=lead.pk))
    Team.members.through.objects.bulk_create(through, batch_size=BATCH)
    counts["teams"] = len(teams)

    # Plans: the big one and the rest; 20 of them running (the dashboard shows up to 20).
    statuses = [PlanStatus.ACTIVE] * 13 + [PlanStatus.APPROVED] * 4 + [PlanStatus.IN_REVIEW] * 3
    statuses += [PlanStatus.DRAFT] * 4 + [PlanStatus.CHANGES_REQUESTED] * 2 + [PlanStatus.CLOSED] * 4
    plans: list[Plan] = []
    for p in range(scale.plans):
        status = statuses[p % len(statuses)]
        if status == PlanStatus.CLOSED:
            start = anchor - timedelta(days=400 + 20 * (p % 4))
        elif status in (PlanStatus.DRAFT, PlanStatus.CHANGES_REQUESTED):
            start = anchor + timedelta(days=20 + 5 * p)
        else:
            start = anchor - timedelta(days=300 - 3 * p)
        big = p == 0
        plans.append(
            Plan(
                organization=org,
                title=(
                    f"Company plan {anchor.year} ({sum(_sizes(scale.big))} nodes)"
                    if big
                    else f"Plan {p:02d}: {WORDS[p % len(WORDS)]}"
                ),
                ultimate_goal="Be the agency software companies trust first.",
                description=(
                    f"Generated by bench/generate.py (seed {SEED}, anchor {anchor.isoformat()})."
                    if big
                    else ""
                ),
                period_start=start,
                period_end=start + timedelta(days=364),
                owner=managers[p % len(managers)] if not big else admin,
                status=status,
                review_round=1 if status != PlanStatus.DRAFT else 0,
                submitted_by=admin.user if status == PlanStatus.IN_REVIEW else None,
                submitted_at=now - timedelta(days=2) if status == PlanStatus.IN_REVIEW else None,
                activated_at=datetime.combine(start, datetime.min.time(), tzinfo=UTC)
                if status in (PlanStatus.ACTIVE, PlanStatus.CLOSED)
                else None,
                closed_at=now - timedelta(days=30) if status == PlanStatus.CLOSED else None,
                created_by=admin.user,
                created_at=now - timedelta(days=400),
                updated_at=now - timedelta(days=10),
            )
        )
    plans = Plan.objects.bulk_create(plans)
    PlanApprover.objects.bulk_create(
        PlanApprover(organization=org, plan=plan, round=1, membership=owner)
        for plan in plans
        if plan.status == PlanStatus.IN_REVIEW
    )
    counts["plans"] = len(plans)

    # The trees.
    milestones: list[Milestone] = []
    for p, plan in enumerate(plans):
        count = (scale.big if p == 0 else scale.other)[0]
        span = (plan.period_end - plan.period_start).days
        milestones += [
            Milestone(
                organization=org,
                plan=plan,
                title=f"Milestone {i + 1}: {WORDS[(p + i) % len(WORDS)]}",
                position=i,
                target_date=plan.period_start + timedelta(days=span * (i + 1) // count),
                owner=managers[(p + i) % len(managers)],
                weight=1 + i % 3,
            )
            for i in range(count)
        ]
    milestones = Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    objectives: list[Objective] = []
    for milestone in milestones:
        plan = milestone.plan
        count = (scale.big if plan is plans[0] else scale.other)[1]
        span = (plan.period_end - plan.period_start).days
        for j in range(count):
            start = plan.period_start + timedelta(days=rng.randrange(0, span // 2))
            owner_m = rng.choice(contributors)
            objectives.append(
                Objective(
                    organization=org,
                    plan=plan,
                    milestone=milestone,
                    title=f"Objective {milestone.position + 1}.{j + 1}: improve {rng.choice(WORDS)}",
                    position=j,
                    description="Make it measurably better this period.",
                    why="Because customers notice.",
                    start_date=start,
                    due_date=start + timedelta(days=rng.randrange(60, span // 2 + 60)),
                    team=team_of.get(owner_m.pk) or rng.choice(teams),
                    owner=owner_m,
                    weight=1 + j % 3,
                )
            )
    objectives = Objective.objects.bulk_create(objectives, batch_size=BATCH)
    steps: list[ActionStep] = []
    big_index = 0
    for objective in objectives:
        plan = objective.plan
        count = (scale.big if plan is plans[0] else scale.other)[2]
        for k in range(count):
            if plan is plans[0]:
                assignee = heavy if big_index % scale.heavy_every == 0 else rng.choice(workers)
                big_index += 1
            else:
                assignee = rng.choice(workers)
            due = objective.start_date + timedelta(
                days=rng.randrange(0, max(1, (objective.due_date - objective.start_date).days))
            )
            roll = rng.random()
            recurrence = "weekly" if roll < 0.04 else "monthly" if roll < 0.05 else "none"
            if k == 0 and objective.position == 0:
                # Every milestone's first objective opens with a weekly step: each plan (the toy ones
                # too) has recurring steps, so the same queries run on the large and the small data.
                recurrence = "weekly"
            status = _step_status(rng, due, anchor, recurrence, plan.status)
            steps.append(
                ActionStep(
                    organization=org,
                    plan=plan,
                    objective=objective,
                    title=f"Step {k + 1}: {rng.choice(WORDS)} {rng.choice(['review', 'draft', 'ship', 'call'])}",
                    position=k,
                    assignee=assignee,
                    due_date=due,
                    recurrence=recurrence,
                    status=status,
                    completed_at=(
                        datetime.combine(min(due, anchor), datetime.min.time(), tzinfo=UTC)
                        if status == "done"
                        else None
                    ),
                )
            )
    steps = ActionStep.objects.bulk_create(steps, batch_size=BATCH)
    counts["milestones"], counts["objectives"], counts["steps"] = len(milestones), len(objectives), len(steps)

    completions = {}
    for step in steps:
        if step.recurrence == "none" or step.plan.period_start > anchor:
            continue
        delta, periods = (7, 12) if step.recurrence == "weekly" else (30, 4)
        for back in range(periods):
            day = anchor - timedelta(days=delta * back)
            day = day - timedelta(days=day.weekday()) if delta == 7 else day.replace(day=1)
            if day >= step.plan.period_start and rng.random() < 0.7:
                done_at = now - timedelta(days=delta * back)
                completions[step.pk, day] = (org.pk, step.pk, day, step.assignee.user_id, done_at)
    counts["step completions"] = copy_rows(
        StepCompletion,
        ["organization_id", "step_id", "period_start", "done_by_id", "done_at"],
        completions.values(),
    )

    # Key results: three per objective, of every kind, most owned by the objective's owner.
    kinds = ["number", "percent", "currency", "yes_no", "milestone"]
    krs = []
    for index, objective in enumerate(objectives):
        for n in range(scale.key_results):
            kind = kinds[(index + n) % len(kinds)]
            target = {"number": 500, "percent": 100, "currency": 50000, "yes_no": 1, "milestone": 100}[kind]
            fraction = rng.random()
            current = (
                Decimal(int(fraction > 0.6))
                if kind == "yes_no"
                else Decimal(round(target * fraction, 2)).quantize(Decimal("0.01"))
            )
            krs.append(
                KeyResult(
                    organization=org,
                    plan=objective.plan,
                    objective=objective,
                    title=f"KR {n + 1}: {rng.choice(WORDS)} to {target}",
                    kind=kind,
                    start=Decimal(0),
                    target=Decimal(target),
                    current=current,
                    weight=1 + n % 2,
                    owner=objective.owner
                    if n == 0
                    else (None if rng.random() < 0.5 else rng.choice(contributors)),
                    position=n,
                )
            )
    krs = KeyResult.objects.bulk_create(krs, batch_size=BATCH)
    # The heavy member owns key results in the big plan too (the check-in benchmark uses them).
    heavy_krs = [kr for kr in krs if kr.plan is plans[0]][:: max(1, len(objectives) // 50)]
    for kr in heavy_krs:
        kr.owner = heavy
    KeyResult.objects.bulk_update(heavy_krs, ["owner"], batch_size=BATCH)
    counts["key results"] = len(krs)

    # Alignment: every plan that is not closed serves the company plan (the big one); two in three
    # of its objectives serve one of the company plan's objectives (most), milestones or key results,
    # nine in ten of those counting in the company's figures.
    company = plans[0]
    serving = [plan for plan in plans[1:] if plan.status != PlanStatus.CLOSED]
    for plan in serving:
        plan.parent = company
    Plan.objects.bulk_update(serving, ["parent"], batch_size=BATCH)
    company_milestones = [m for m in milestones if m.plan is company]
    company_objectives = [o for o in objectives if o.plan is company]
    company_krs = [kr for kr in krs if kr.plan is company]
    links = []
    linked: set[int] = set()  # each serving plan links at least one objective (the toy one too)
    for objective in objectives:
        if objective.plan.parent_id is None or (objective.plan.pk in linked and rng.random() < 1 / 3):
            continue
        linked.add(objective.plan.pk)
        roll = rng.random()
        if roll < 0.7 or not company_krs:
            target = {"to_objective": rng.choice(company_objectives)}
        elif roll < 0.85:
            target = {"to_milestone": rng.choice(company_milestones)}
        else:
            target = {"to_key_result": rng.choice(company_krs)}
        links.append(Contribution(organization=org, objective=objective, counts=rng.random() < 0.9, **target))
    Contribution.objects.bulk_create(links, batch_size=BATCH)
    counts["alignment links"] = len(links)

    # KPIs: weekly, two years of measurements each, in every direction.
    directions = ["increase", "decrease", "stay_above", "stay_below", "within"]
    units = ["number", "percent", "currency"]
    kpis = []
    for i in range(scale.kpis):
        direction = directions[i % len(directions)]
        unit = units[i % len(units)]
        target = Decimal(100 + 10 * (i % 40))
        higher = direction in ("increase", "stay_above")
        if direction == "within":
            upper, amber, red = target + 20, None, Decimal(15)
        else:
            upper = None
            amber = target * Decimal("0.95" if higher else "1.05")
            red = target * Decimal("0.8" if higher else "1.2")
        kpis.append(
            KPI(
                organization=org,
                name=f"KPI {i + 1:03d}: {WORDS[i % len(WORDS)]} {['rate', 'count', 'value', 'index'][i % 4]}",
                description="A standing measure of the business.",
                unit=unit,
                currency="EUR" if unit == "currency" else "",
                direction=direction,
                target=target,
                target_upper=upper,
                amber_threshold=amber,
                red_threshold=red,
                frequency="weekly",
                owner=managers[i % len(managers)],
                created_at=now - timedelta(days=7 * scale.weeks + 30),
            )
        )
    kpis = KPI.objects.bulk_create(kpis, batch_size=BATCH)
    running_objectives = [o for o in objectives if o.plan.status in ("active", "approved", "in_review")]
    links = {(kpi.pk, o.pk) for kpi in kpis for o in rng.sample(running_objectives, 2)}
    links.add((kpis[0].pk, objectives[0].pk))  # the big plan's first objective has a KPI (bench.run uses it)
    KPI.objectives.through.objects.bulk_create(
        (KPI.objectives.through(kpi_id=k, objective_id=o) for k, o in sorted(links)), batch_size=BATCH
    )
    _busy_members_week(org, heavy, kpis)
    this_week = anchor - timedelta(days=anchor.weekday())
    measurements = []
    for kpi in kpis:
        value = float(kpi.target)
        for back in range(scale.weeks, 0, -1):
            week = this_week - timedelta(days=7 * back)
            value = max(0.0, value * (1 + rng.uniform(-0.06, 0.06)) + (float(kpi.target) - value) * 0.1)
            recorded = datetime.combine(week + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
            measurements.append(
                (org.pk, kpi.pk, week, Decimal(f"{value:.2f}"), "", kpi.owner.user_id, recorded, True)
            )
    counts["measurements"] = copy_rows(
        Measurement,
        [
            "organization_id",
            "kpi_id",
            "period_start",
            "value",
            "note",
            "recorded_by_id",
            "recorded_at",
            "is_current",
        ],
        measurements,
    )
    targets = []
    for kpi in kpis[:: max(1, len(kpis) // 20)]:
        for back in range(12):
            targets.append((org.pk, kpi.pk, this_week - timedelta(days=7 * back), kpi.target + back))
    copy_rows(KPITarget, ["organization_id", "kpi_id", "period_start", "target"], targets)

    # Check-ins: on key results (most), objectives and steps of plans that have started, over the
    # last year, by their owners.
    started = [p for p in plans if p.period_start <= anchor and p.status != "draft"]
    started_ids = {p.pk for p in started}
    kr_pool = [kr for kr in krs if kr.plan_id in started_ids]
    objective_pool = [o for o in objectives if o.plan_id in started_ids]
    step_pool = [s for s in steps if s.plan_id in started_ids and s.assignee_id is not None]
    member_user = {m.pk: m.user_id for m in memberships}
    horizon = 365 * 24 * 3600
    columns = [
        "organization_id",
        "plan_id",
        "target",
        "key_result_id",
        "objective_id",
        "step_id",
        "value",
        "previous_value",
        "step_status",
        "confidence",
        "note",
        "author_id",
        "created_at",
    ]

    def check_in_rows():
        for _ in range(scale.check_ins):
            roll = rng.random()
            confidence = (
                "on_track" if rng.random() < 0.7 else "at_risk" if rng.random() < 0.66 else "off_track"
            )
            note = rng.choice(NOTES)
            if roll < 0.75 and kr_pool:
                kr = rng.choice(kr_pool)
                plan, owner_id = kr.plan, kr.owner_id or kr.objective.owner_id
                value = (kr.target * Decimal(rng.random())).quantize(Decimal("0.01"))
                prev = (kr.target * Decimal(rng.random())).quantize(Decimal("0.01"))
                row = ("key_result", kr.pk, None, None, value, prev, "")
            elif roll < 0.9:
                objective = rng.choice(objective_pool)
                plan, owner_id = objective.plan, objective.owner_id
                row = ("objective", None, objective.pk, None, None, None, "")
            else:
                step = rng.choice(step_pool)
                plan, owner_id = step.plan, step.assignee_id
                row = ("step", None, None, step.pk, None, None, step.status)
            oldest = max(
                0,
                int(
                    (
                        now - datetime.combine(plan.period_start, datetime.min.time(), tzinfo=UTC)
                    ).total_seconds()
                ),
            )
            # Denser towards now, as real check-ins are (every week adds a batch).
            age = int(min(horizon, oldest) * rng.random() ** 1.5)
            author = member_user[owner_id]
            yield (org.pk, plan.pk, *row, confidence, note, author, now - timedelta(seconds=age))

    counts["check-ins"] = copy_rows(CheckIn, columns, check_in_rows())

    counts["baselines"] = _baseline(org, plans[0], now)

    # Progress history: each running plan's days so far, rebuilt from its check-ins and completions as
    # an approval does (metrics.services.history), written with COPY a plan at a time (the rebuild
    # reads the database, which a connection in COPY cannot).
    def point_rows(plan):
        for day in rebuilt_days(plan=plan, until=anchor - timedelta(days=1)):
            for p in day:
                yield (p.organization_id, p.plan_id, p.objective_id, p.key_result_id, p.day, p.value)

    columns = ["organization_id", "plan_id", "objective_id", "key_result_id", "day", "value"]
    running = Plan.objects.filter(running_q(""), organization=org).select_related("organization")
    if not scale.history:
        running = running.none()
    counts["progress points"] = sum(
        copy_rows(ProgressPoint, columns, list(point_rows(plan))) for plan in running
    )

    # The bell: a few notifications each, half of them read.
    notification_rows = []
    for i, m in enumerate(memberships):
        for n in range(5):
            created = now - timedelta(days=n * 3, minutes=i % 60)
            notification_rows.append(
                (
                    org.pk,
                    m.user_id,
                    "assignment",
                    f"You have new steps ({n})",
                    "",
                    "",
                    created,
                    created if n % 2 else None,
                )
            )
    counts["notifications"] = copy_rows(
        Notification,
        ["organization_id", "recipient_id", "kind", "title", "body", "url", "created_at", "read_at"],
        notification_rows,
    )
    return counts


def _baseline(org, plan, now: datetime) -> int:
    """The big plan was approved before it ran: its baseline, frozen then. An amendment has since
    renamed a few objectives, moved key results' targets and added steps, so its review page shows
    what changed since the baseline, as a running plan's does (field by field, against 9,200 frozen
    nodes), instead of a first approval's outline."""
    from planning.baselines import snapshot
    from planning.models import Baseline
    from planning.selectors import content_tree

    frozen = snapshot(content_tree(plan=plan))
    nodes = frozen["nodes"]
    added = {n["id"] for n in nodes if n["kind"] == "step"}
    added = set(sorted(added)[::250])  # 20 of 5,000 steps came with the amendment
    frozen["nodes"] = [n for n in nodes if not (n["kind"] == "step" and n["id"] in added)]
    for index, node in enumerate(frozen["nodes"]):
        if node["kind"] == "objective" and index % 50 == 0:
            node["fields"]["title"] += " (first draft)"
        elif node["kind"] == "key_result" and index % 100 == 0:
            node["fields"]["target"] = str(int(float(node["fields"]["target"] or 0)) + 10)
    Baseline.objects.create(
        organization=org, plan=plan, number=1, round=1, snapshot=frozen, approved_at=now - timedelta(days=40)
    )
    return 1


def _busy_members_week(org, heavy, kpis: list) -> None:
    """The member ``bench.run``'s check-in page opens as (the one owning the most key results in running
    plans, heavy@ apart) records a KPI and has a recurring step in every organization, so that page
    reads the same things, and runs the same queries, on the toy organization as on the large one."""
    from django.db.models import Count

    from metrics.models import KPI, KeyResult
    from planning.models import RUNNING_STATUSES, ActionStep

    busiest = (
        KeyResult.objects.filter(
            organization=org, plan__status__in=list(RUNNING_STATUSES), owner__role="member"
        )
        .exclude(owner=heavy)
        .values("owner")
        .annotate(owned=Count("pk"))
        .order_by("-owned", "owner__user_id")
        .first()
    )
    if busiest is None:
        return
    member = busiest["owner"]
    if not KPI.objects.filter(owner_id=member).exists():
        backing = set(
            KeyResult.objects.filter(organization=org, kpi__isnull=False).values_list("kpi_id", flat=True)
        )
        free = [kpi for kpi in kpis if kpi.pk not in backing]
        if free:
            KPI.objects.filter(pk=free[-1].pk).update(owner_id=member)
    running = ActionStep.objects.filter(organization=org, plan__status__in=list(RUNNING_STATUSES))
    if not running.filter(assignee_id=member).exclude(recurrence="none").exists():
        step = running.filter(assignee_id=member).order_by("pk").first() or running.order_by("pk").first()
        if step is not None:
            ActionStep.objects.filter(pk=step.pk).update(
                assignee_id=member, recurrence="weekly", status="todo"
            )


def _sizes(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    m, o, s = shape
    return m, m * o, m * o * s


def _step_status(rng: random.Random, due: date, anchor: date, recurrence: str, plan_status: str) -> str:
    if recurrence != "none":
        return "doing"
    if plan_status in ("draft", "changes_requested"):
        return "todo"
    roll = rng.random()
    if due < anchor:
        return "done" if roll < 0.75 else "doing" if roll < 0.85 else "blocked" if roll < 0.9 else "todo"
    return "done" if roll < 0.1 else "doing" if roll < 0.35 else "blocked" if roll < 0.4 else "todo"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop the bench organizations and load them again"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument(
        "--anchor", type=date.fromisoformat, default=None, help="'today' of the data (default: today)"
    )
    args = parser.parse_args(argv)

    setup()
    from django.db import connection

    from bench.common import ensure_database
    from bizops.models import Organization

    started = time.perf_counter()
    ensure_database()
    anchor = args.anchor or date.today()
    dropped = False
    for scale in (LARGE, SMALL, XL):
        if Organization.objects.filter(slug=scale.slug).exists():
            if not args.reset:
                print(f"{scale.slug}: present, skipped (--reset drops and loads it again)")
                continue
            t = time.perf_counter()
            dropped = drop_organization(scale.slug) or dropped
            print(f"{scale.slug}: dropped in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        counts = load(scale, anchor, args.seed)
        summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        print(f"{scale.slug}: loaded in {time.perf_counter() - t:.1f} s: {summary}")
    with connection.cursor() as cursor:
        # After a drop, rewrite the tables: the deleted rows' space is otherwise kept, and a run on
        # data reset ten times scans a check-in table seven times its size (129 MB for 100,000 rows).
        cursor.execute("VACUUM (FULL, ANALYZE)" if dropped else "ANALYZE")
    print(f"done in {time.perf_counter() - started:.1f} s (database {connection.settings_dict['NAME']})")


if __name__ == "__main__":
    main()
