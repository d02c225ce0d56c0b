"""Writes to plans themselves: create (blank, from the template, as a clone), edit, delete."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from bizops.audit import field_changes
from bizops.errors import Conflict, ValidationError
from bizops.models import Membership, Organization
from bizops.roles import can

from ..access import require_plan_edit
from ..blueprints import COPYWRITING_AGENCY, Blueprint
from ..models import ActionStep, Milestone, Objective, Plan, PlanStatus, StepStatus
from .common import PLAN_FIELDS, activity_record
from .tree import StaleEdit


def _clean_plan_fields(
    organization_id: int, fields: dict[str, Any], existing: Plan | None = None
) -> dict[str, Any]:
    cleaned = dict(fields)
    errors: dict[str, str] = {}
    for name in ("title", "ultimate_goal", "description"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "title" in cleaned and not cleaned["title"]:
        errors["title"] = "Give the plan a title."
    elif len(cleaned.get("title", "")) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if "ultimate_goal" in cleaned and not cleaned["ultimate_goal"]:
        errors["ultimate_goal"] = "Write the ultimate goal: the vision this plan serves."
    start = cleaned.get("period_start", existing.period_start if existing else None)
    end = cleaned.get("period_end", existing.period_end if existing else None)
    if start is None:
        errors["period_start"] = "Choose when the period starts."
    if end is None:
        errors["period_end"] = "Choose when the period ends."
    if start and end and end <= start:
        errors["period_end"] = "The period must end after it starts."
    if start and end and (end - start).days > 3 * 366:
        errors["period_end"] = "A plan covers at most three years."
    owner = cleaned.get("owner")
    if owner is not None and (not isinstance(owner, Membership) or owner.organization_id != organization_id):
        errors["owner"] = "Choose a member of this organization."
    if cleaned.get("parent") is not None:
        problem = _parent_problem(organization_id, cleaned["parent"], existing)
        if problem:
            errors["parent"] = problem
    period_ok = not ({"period_start", "period_end"} & set(errors))
    if (
        existing is not None
        and period_ok
        and start
        and end
        and ("period_start" in fields or "period_end" in fields)
    ):
        outside = _dates_outside(existing, start, end)
        if outside:
            errors["period_end" if "period_end" in fields else "period_start"] = (
                f"{outside} would fall outside the new period. Move their dates first."
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


# How deep plans may nest (company, department, team, squad...): a guard on the ancestor walk.
MAX_PLAN_DEPTH = 10


def plan_ancestors(plan_id: int) -> list[int]:
    """The ids of the plans ``plan_id`` serves, nearest first (one small query per level)."""
    ancestors: list[int] = []
    current: int | None = plan_id
    while current is not None and len(ancestors) <= MAX_PLAN_DEPTH:
        current = Plan.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        if current is None or current == plan_id or current in ancestors:
            break
        ancestors.append(current)
    return ancestors


def _parent_problem(organization_id: int, parent: Any, existing: Plan | None) -> str:
    """Why ``parent`` cannot be the plan this one serves, or "" when it can."""
    if not isinstance(parent, Plan) or parent.organization_id != organization_id:
        return "Choose a plan of this organization."
    if existing is None:
        if len(plan_ancestors(parent.pk)) >= MAX_PLAN_DEPTH:
            return f"Plans nest at most {MAX_PLAN_DEPTH} levels deep."
        return ""
    if parent.pk == existing.pk:
        return "A plan cannot serve itself."
    if parent.pk == existing.parent_id:
        return ""  # unchanged (the settings form always sends it)
    # Parent changes in one organization take turns (its row locked, without blocking the rows that
    # point at it, to the end of the transaction): two plans naming each other at the same moment
    # would each see no cycle in the other's chain.
    list(Organization.objects.select_for_update(no_key=True).filter(pk=organization_id).values_list("pk"))
    ancestors = plan_ancestors(parent.pk)
    if existing.pk in ancestors:
        return f"“{parent.title}” already serves this plan: linking them both ways would make a cycle."
    if len(ancestors) >= MAX_PLAN_DEPTH:
        return f"Plans nest at most {MAX_PLAN_DEPTH} levels deep."
    return ""


# Called inside ``plan_update``'s transaction when a plan names another parent (or none): its
# objectives' links to the old parent's nodes no longer hold (metrics removes them).
_on_parent_changed: list[Callable[[Plan, Membership], object]] = []


def register_on_parent_changed(callback: Callable[[Plan, Membership], object]) -> None:
    if callback not in _on_parent_changed:
        _on_parent_changed.append(callback)


def _dates_outside(plan: Plan, start: date, end: date) -> str:
    from django.db.models import Q

    def outside(*names: str) -> Q:
        q = Q()
        for name in names:
            q |= Q(**{f"{name}__lt": start}) | Q(**{f"{name}__gt": end})
        return q

    counts = [
        (Milestone.objects.filter(plan=plan).filter(outside("target_date")).count(), "milestone"),
        (Objective.objects.filter(plan=plan).filter(outside("start_date", "due_date")).count(), "objective"),
        (ActionStep.objects.filter(plan=plan).filter(outside("due_date")).count(), "step"),
    ]
    parts = [f"{n} {label}{'s' if n != 1 else ''}" for n, label in counts if n]
    return ", ".join(parts)


def _require_create(actor: Membership) -> None:
    if not can(actor.role, "plan_create"):
        raise PermissionDenied("Only managers, admins and owners create plans.")


@transaction.atomic
def plan_create(
    *,
    actor: Membership,
    title: str,
    ultimate_goal: str,
    period_start: date,
    period_end: date,
    description: str = "",
    owner: Membership | None = None,
    parent: Plan | None = None,
) -> Plan:
    _require_create(actor)
    fields = _clean_plan_fields(
        actor.organization_id,
        {
            "title": title,
            "ultimate_goal": ultimate_goal,
            "description": description,
            "period_start": period_start,
            "period_end": period_end,
            "owner": owner or actor,
            "parent": parent,
        },
    )
    plan = Plan.objects.create(organization_id=actor.organization_id, created_by=actor.user, **fields)
    activity_record(plan=plan, actor=actor.user, verb="created", kind="plan", node=plan)
    return plan


@transaction.atomic
def plan_update(*, actor: Membership, plan: Plan, version: int | None, **fields: Any) -> Plan:
    current = Plan.objects.select_for_update(of=("self",)).select_related("owner__user").get(pk=plan.pk)
    require_plan_edit(actor, current)
    if current.status == PlanStatus.CLOSED:
        raise Conflict("This plan is closed and can no longer change.")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    if not current.is_editable:
        raise Conflict(f"This plan is {current.get_status_display().lower()}, so it is locked.")
    cleaned = _clean_plan_fields(current.organization_id, fields, existing=current)
    if version is not None and int(version) != current.version:
        raise StaleEdit(current, cleaned)
    changes = field_changes(current, cleaned)
    if not changes:
        return current
    for name, value in cleaned.items():
        setattr(current, name, value)
    current.version += 1
    current.updated_at = timezone.now()
    current.save()
    activity_record(
        plan=current, actor=actor.user, verb="updated", kind="plan", node=current, changes=changes
    )
    if "parent" in changes:
        for callback in _on_parent_changed:
            callback(current, actor)
    return current


@transaction.atomic
def plan_delete(*, actor: Membership, plan: Plan, version: int | None = None) -> None:
    current = Plan.objects.select_for_update().get(pk=plan.pk)
    require_plan_edit(actor, current)
    if version is not None and int(version) != current.version:
        raise StaleEdit(current, {})
    if current.status != PlanStatus.DRAFT:
        raise Conflict("Only a draft plan can be deleted.")
    activity_record(plan=current, actor=actor.user, verb="deleted", kind="plan", node=current)
    current.delete()


# --- From the template, and clones ------------------------------------------------------------------


def _date_mover(old_start: date, new_start: date):
    """Shift dates by whole calendar months when the periods start on the same day of the month (so
    31 March stays 31 March across a leap year), else by the number of days between the starts."""
    if old_start.day == new_start.day:
        months = (new_start.year - old_start.year) * 12 + new_start.month - old_start.month

        def by_months(day: date) -> date:
            index = day.year * 12 + day.month - 1 + months
            year, month = divmod(index, 12)
            last = calendar.monthrange(year, month + 1)[1]
            return date(year, month + 1, min(day.day, last))

        return by_months
    delta = new_start - old_start
    return lambda day: day + delta


def _clamp(day: date | None, start: date, end: date) -> date | None:
    if day is None:
        return None
    return min(max(day, start), end)


@transaction.atomic
def plan_create_from_template(
    *,
    actor: Membership,
    title: str,
    period_start: date,
    period_end: date,
    blueprint: Blueprint = COPYWRITING_AGENCY,
    owner: Membership | None = None,
    assignees: list[Membership] | None = None,
) -> Plan:
    """A draft plan with the four stages filled in from a blueprint: goal, milestones, objectives, steps.

    Dates are spread across the period; steps are assigned round-robin to ``assignees`` when given.
    """
    plan = plan_create(
        actor=actor,
        title=title,
        ultimate_goal=blueprint.ultimate_goal,
        description=blueprint.description,
        period_start=period_start,
        period_end=period_end,
        owner=owner,
    )
    people = list(assignees or [])
    if any(person.organization_id != actor.organization_id for person in people):
        raise ValidationError({"assignees": "Choose people of this organization."})
    days = (period_end - period_start).days
    person = 0
    objective_count = sum(len(m.objectives) for m in blueprint.milestones)
    objective_index = 0
    for m_pos, m in enumerate(blueprint.milestones):
        milestone = Milestone.objects.create(
            organization_id=plan.organization_id,
            plan=plan,
            title=m.title,
            description=m.description,
            position=m_pos,
            target_date=period_end,
            owner=owner or actor,
        )
        for o_pos, o in enumerate(m.objectives):
            # Objectives take a few months each, staggered across the period.
            start = period_start + timedelta(days=days * objective_index // max(objective_count * 2, 1))
            due = _clamp(start + timedelta(days=min(90, days)), period_start, period_end)
            objective_index += 1
            objective = Objective.objects.create(
                organization_id=plan.organization_id,
                plan=plan,
                milestone=milestone,
                title=o.title,
                description=o.description,
                why=o.why,
                position=o_pos,
                start_date=start,
                due_date=due,
                owner=owner or actor,
            )
            for s_pos, s in enumerate(o.steps):
                assignee = people[person % len(people)] if people else None
                person += 1
                ActionStep.objects.create(
                    organization_id=plan.organization_id,
                    plan=plan,
                    objective=objective,
                    title=s.title,
                    notes=s.notes,
                    recurrence=s.recurrence,
                    position=s_pos,
                    assignee=assignee,
                    due_date=due if s.recurrence == "none" else None,
                )
    activity_record(
        plan=plan,
        actor=actor.user,
        verb="filled from template",
        kind="plan",
        node=plan,
        changes={"template": [None, blueprint.name]},
    )
    return plan


@transaction.atomic
def plan_clone(
    *,
    actor: Membership,
    source: Plan,
    title: str,
    period_start: date,
    period_end: date,
    only_unfinished: bool = False,
) -> Plan:
    """Copy a plan's tree into a new period as a draft; dates shift with the period and stay inside it.

    With ``only_unfinished`` objectives whose steps are all done are left behind (closing a cycle).
    """
    if source.organization_id != actor.organization_id:
        raise ValidationError({"source": "Choose one of this organization's plans."})
    plan = plan_create(
        actor=actor,
        title=title,
        ultimate_goal=source.ultimate_goal,
        description=source.description,
        period_start=period_start,
        period_end=period_end,
        owner=source.owner if source.owner_id else None,
    )
    plan.cloned_from = source
    plan.save(update_fields=["cloned_from"])
    move = _date_mover(source.period_start, period_start)

    def moved(day: date | None) -> date | None:
        return _clamp(move(day), period_start, period_end) if day else None

    steps_by_objective: dict[int, list[ActionStep]] = {}
    for step in ActionStep.objects.filter(plan=source).order_by("position", "pk"):
        steps_by_objective.setdefault(step.objective_id, []).append(step)
    objectives_by_milestone: dict[int, list[Objective]] = {}
    for objective in Objective.objects.filter(plan=source).order_by("position", "pk"):
        steps = steps_by_objective.get(objective.pk, [])
        if (
            only_unfinished
            and steps
            and all(s.status == StepStatus.DONE and not s.is_recurring for s in steps)
        ):
            continue
        objectives_by_milestone.setdefault(objective.milestone_id, []).append(objective)

    for milestone in Milestone.objects.filter(plan=source).order_by("position", "pk"):
        objectives = objectives_by_milestone.get(milestone.pk, [])
        if only_unfinished and not objectives:
            continue
        new_milestone = Milestone.objects.create(
            organization_id=plan.organization_id,
            plan=plan,
            title=milestone.title,
            description=milestone.description,
            target_date=moved(milestone.target_date),
            owner_id=milestone.owner_id,
            weight=milestone.weight,
            position=milestone.position,
        )
        for objective in objectives:
            start, due = moved(objective.start_date), moved(objective.due_date)
            if start and due and start > due:
                start = due
            new_objective = Objective.objects.create(
                organization_id=plan.organization_id,
                plan=plan,
                milestone=new_milestone,
                title=objective.title,
                description=objective.description,
                why=objective.why,
                start_date=start,
                due_date=due,
                team_id=objective.team_id,
                owner_id=objective.owner_id,
                weight=objective.weight,
                position=objective.position,
            )
            ActionStep.objects.bulk_create(
                ActionStep(
                    organization_id=plan.organization_id,
                    plan=plan,
                    objective=new_objective,
                    title=step.title,
                    notes=step.notes,
                    assignee_id=step.assignee_id,
                    due_date=moved(step.due_date),
                    recurrence=step.recurrence,
                    position=step.position,
                )
                for step in steps_by_objective.get(objective.pk, [])
                if not (only_unfinished and step.status == StepStatus.DONE and not step.is_recurring)
            )
    activity_record(
        plan=plan,
        actor=actor.user,
        verb="cloned",
        kind="plan",
        node=plan,
        changes={"from": [None, source.title]},
    )
    return plan
