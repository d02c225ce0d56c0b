"""Alignment: a team objective says which node of its plan's parent plan it serves.

A link is part of the team plan's map: set while the plan is being written or amended, by those who
may edit it, and approved with the rest (``metrics/baselines.py``). It may point only at a milestone,
an objective or a key result of the plan this one serves (``Plan.parent``): another organization's
node is "not found", another plan's is named and refused, and a link that would close a loop is
refused even if plans were ever linked both ways.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from bizops.errors import Conflict, ValidationError
from bizops.models import Membership
from planning.access import can_edit_plan
from planning.models import Milestone, Objective, Plan
from planning.services import plan_for_write
from planning.services.plans import plan_ancestors

from ..models import Contribution, KeyResult
from .common import _same_org, audit

TARGET_KINDS = {"milestone": "milestone", "objective": "objective", "key_result": "key result"}
_MODELS: dict[str, Any] = {"milestone": Milestone, "objective": Objective, "key_result": KeyResult}


def target_label(kind: str, title: str, plan_title: str) -> str:
    """“Objective “Win 20 clients” of “Company plan 2027””: a link as pages and the audit trail say it."""
    return f"{TARGET_KINDS[kind].capitalize()} “{title}” of “{plan_title}”"


def _require_writable(actor: Membership, plan: Plan) -> None:
    if not can_edit_plan(actor, plan):
        raise PermissionDenied("Only the plan's owner, managers and admins align its objectives.")
    if not plan.is_editable:
        raise Conflict(
            f"This plan is {plan.get_status_display().lower()}: its alignment changes through an amendment."
        )


def _target(plan: Plan, kind: Any, target_id: Any) -> Any:
    """The parent plan's node the link is to, or a ValidationError that says why it cannot be."""
    if kind not in TARGET_KINDS:
        raise ValidationError({"target_kind": "Choose a milestone, an objective or a key result."})
    if plan.parent_id is None:
        raise ValidationError(
            {"target": "This plan serves no other plan yet: choose the plan it serves in its settings first."}
        )
    try:
        pk = int(target_id)
    except (TypeError, ValueError):
        raise ValidationError({"target_id": "Choose a node of the plan this one serves."}) from None
    node = (
        _MODELS[kind]
        .objects.select_related("plan")
        .filter(organization_id=plan.organization_id, pk=pk)
        .first()
    )
    label = TARGET_KINDS[kind]
    if node is None:
        # Another organization's node is not found, exactly like one that never existed.
        raise ValidationError({"target_id": f"No such {label} in this organization."})
    if node.plan_id == plan.pk:
        raise ValidationError(
            {"target_id": f"“{node.title}” is in this plan: an objective serves a node of the plan above it."}
        )
    if node.plan_id != plan.parent_id:
        parent_title = Plan.objects.filter(pk=plan.parent_id).values_list("title", flat=True).first()
        raise ValidationError(
            {
                "target_id": f"“{node.title}” is in “{node.plan.title}”, not in “{parent_title}”, "
                "the plan this one serves."
            }
        )
    if plan.pk in plan_ancestors(plan.parent_id):
        # Only a race between two parent changes could link plans both ways (each is refused alone).
        raise ValidationError(
            {"target_id": f"“{node.plan.title}” serves this plan too: the link would make a cycle."}
        )
    return node


def _label(link: Contribution | None) -> str | None:
    if link is None:
        return None
    node = link.target
    return target_label(link.target_kind, node.title, node.plan.title)


def _current(objective: Objective) -> Contribution | None:
    return (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("to_milestone__plan", "to_objective__plan", "to_key_result__plan")
        .filter(objective=objective)
        .first()
    )


@transaction.atomic
def objective_align(
    *, actor: Membership, objective: Objective, target_kind: str, target_id: Any, counts: bool = True
) -> Contribution:
    """Link ``objective`` to the parent plan's node (replacing its link, if any); audited on the plan."""
    _same_org(actor, objective)
    plan = plan_for_write(objective.plan_id)
    if not Objective.objects.filter(pk=objective.pk).exists():
        raise Http404("No such objective.")  # deleted while this request waited for the plan
    _require_writable(actor, plan)
    if plan.parent_id is not None:
        # The parent plan's structure stays put until this commits: a node deleted at the same time
        # is either gone before ``_target`` looks (a 400) or waits (never a link to a deleted node).
        plan_for_write(plan.parent_id, shared=True)
    node = _target(plan, target_kind, target_id)
    link = _current(objective)
    before = (_label(link), link.counts if link else None)
    if link is None:
        link = Contribution(organization_id=plan.organization_id, objective=objective)
    link.to_milestone = node if target_kind == "milestone" else None
    link.to_objective = node if target_kind == "objective" else None
    link.to_key_result = node if target_kind == "key_result" else None
    link.counts = bool(counts)
    link.updated_at = timezone.now()
    link.save()
    after = (target_label(target_kind, node.title, node.plan.title), link.counts)
    changes = {
        name: [old, new]
        for name, old, new in zip(("serves", "counts"), before, after, strict=True)
        if old != new
    }
    if changes:
        audit(actor, kind="objective", action="updated", obj=objective, plan_id=plan.pk, changes=changes)
    return link


@transaction.atomic
def objective_unalign(*, actor: Membership, objective: Objective) -> None:
    """The objective serves no node any more (nothing to do when it served none)."""
    _same_org(actor, objective)
    plan = plan_for_write(objective.plan_id)
    _require_writable(actor, plan)
    link = _current(objective)
    if link is None:
        return
    audit(
        actor,
        kind="objective",
        action="updated",
        obj=objective,
        plan_id=plan.pk,
        changes={"serves": [_label(link), None], "counts": [link.counts, None]},
    )
    link.delete()


def plan_parent_changed(plan: Plan, actor: Membership) -> None:
    """``planning.services.plans.register_on_parent_changed``: the plan serves another plan (or
    none), so its objectives' links to the old one's nodes go, each one on the audit trail."""
    links = list(
        Contribution.objects.filter(objective__plan=plan).select_related(
            "objective", "to_milestone__plan", "to_objective__plan", "to_key_result__plan"
        )
    )
    for link in links:
        audit(
            actor,
            kind="objective",
            action="updated",
            obj=link.objective,
            plan_id=plan.pk,
            changes={"serves": [_label(link), None]},
            comment="The plan now serves another plan.",
        )
    Contribution.objects.filter(pk__in=[link.pk for link in links]).delete()
