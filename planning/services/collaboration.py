"""Working on a plan together: suggestions from anyone, comments with @mentions."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from bizops.errors import Conflict, ValidationError
from bizops.models import Membership, User
from bizops.notifications import notify
from bizops.roles import can

from ..access import require_plan_edit
from ..models import ActionStep, Comment, Milestone, NodeKind, Objective, Plan, Suggestion
from .common import activity_record, plan_for_write, require_editable, require_not_closed
from .tree import milestone_create, objective_create, step_create

MENTION = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


@transaction.atomic
def suggestion_create(
    *,
    actor: Membership,
    plan: Plan,
    kind: str,
    title: str,
    description: str = "",
    milestone: Milestone | None = None,
    objective: Objective | None = None,
) -> Suggestion:
    if not can(actor.role, "plan_suggest"):
        raise PermissionDenied("Viewers cannot make suggestions.")
    plan = plan_for_write(plan.pk, shared=True)
    require_editable(plan)
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give your suggestion a title."
    elif len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if kind == "objective" and (milestone is None or milestone.plan_id != plan.pk):
        errors["milestone"] = "Choose the milestone this objective serves."
    if kind == "step" and (objective is None or objective.plan_id != plan.pk):
        errors["objective"] = "Choose the objective this step serves."
    if kind not in ("milestone", "objective", "step"):
        errors["kind"] = "Suggest a milestone, an objective or a step."
    if errors:
        raise ValidationError(errors)
    suggestion = Suggestion.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        kind=kind,
        title=title,
        description=(description or "").strip(),
        milestone=milestone if kind == "objective" else None,
        objective=objective if kind == "step" else None,
        proposed_by=actor.user,
    )
    activity_record(plan=plan, actor=actor.user, verb="suggested", kind="suggestion", node=suggestion)
    return suggestion


def _lock_pending(suggestion: Suggestion) -> Suggestion:
    current = (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related("plan", "milestone", "objective")
        .get(pk=suggestion.pk)
    )
    if current.status != Suggestion.Status.PENDING:
        raise Conflict(f"This suggestion was {current.get_status_display().lower()} already.")
    return current


@transaction.atomic
def suggestion_accept(*, actor: Membership, suggestion: Suggestion):
    """Add the suggested node to the tree; the suggestion remembers what it became."""
    current = _lock_pending(suggestion)
    plan = current.plan
    require_plan_edit(actor, plan)
    node: Milestone | Objective | ActionStep
    if current.kind == NodeKind.MILESTONE:
        node = milestone_create(actor=actor, plan=plan, title=current.title, description=current.description)
    elif current.kind == NodeKind.OBJECTIVE:
        assert current.milestone is not None  # the ``suggestion_has_parent`` constraint
        current.milestone.plan = plan
        node = objective_create(
            actor=actor, milestone=current.milestone, title=current.title, description=current.description
        )
    else:
        assert current.objective is not None  # the ``suggestion_has_parent`` constraint
        current.objective.plan = plan
        node = step_create(
            actor=actor, objective=current.objective, title=current.title, notes=current.description
        )
    current.status = Suggestion.Status.ACCEPTED
    current.decided_by = actor.user
    current.decided_at = timezone.now()
    current.created_node_id = node.pk
    current.save(update_fields=["status", "decided_by", "decided_at", "created_node_id"])
    activity_record(plan=plan, actor=actor.user, verb="accepted", kind="suggestion", node=current)
    return node


@transaction.atomic
def suggestion_decline(*, actor: Membership, suggestion: Suggestion, reason: str) -> Suggestion:
    current = _lock_pending(suggestion)
    require_plan_edit(actor, current.plan)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the person who suggested it learns something."})
    current.status = Suggestion.Status.DECLINED
    current.reason = reason
    current.decided_by = actor.user
    current.decided_at = timezone.now()
    current.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    activity_record(
        plan=current.plan, actor=actor.user, verb="declined", kind="suggestion", node=current, comment=reason
    )
    return current


# --- Comments ---------------------------------------------------------------------------------------


def mentioned_users(organization_id: int, body: str) -> list[User]:
    """People of the organization named in the text as @email or @name-before-the-at-sign."""
    handles = {h.lower().rstrip(".") for h in MENTION.findall(body)}
    if not handles:
        return []
    members = list(
        User.objects.filter(memberships__organization_id=organization_id).only("id", "email", "display_name")
    )
    by_local: dict[str, list[User]] = {}
    for user in members:
        by_local.setdefault(user.email.split("@")[0].lower(), []).append(user)
    found: dict[int, User] = {}
    for handle in handles:
        for user in members:
            if user.email.lower() == handle:
                found[user.pk] = user
        candidates = by_local.get(handle, [])
        if len(candidates) == 1:  # an ambiguous short handle notifies nobody rather than the wrong person
            found[candidates[0].pk] = candidates[0]
    return list(found.values())


@transaction.atomic
def comment_create(*, actor: Membership, plan: Plan, node_kind: str, node, body: str) -> Comment:
    if not can(actor.role, "plan_comment"):
        raise PermissionDenied("Viewers read plans but do not comment.")
    organization = plan.organization
    plan = plan_for_write(plan.pk, shared=True)
    plan.organization = organization
    require_not_closed(plan)
    if node_kind != "plan" and not type(node).objects.filter(pk=node.pk, plan_id=plan.pk).exists():
        raise Http404("No such node in this plan.")  # deleted while this request waited for the plan
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > 5000:
        raise ValidationError({"body": "Keep comments under 5,000 characters."})
    comment = Comment.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        node_kind=node_kind,
        node_id=node.pk,
        author=actor.user,
        body=body,
    )
    mentioned = [u for u in mentioned_users(plan.organization_id, body) if u.pk != actor.user_id]
    if mentioned:
        comment.mentions.add(*mentioned)
    path = reverse("planning:node_detail", args=[plan.organization.slug, plan.pk, node_kind, node.pk])
    for user in mentioned:
        notify(
            recipient=user,
            organization=plan.organization,
            kind="mention",
            template="mention",
            dedupe_key=f"mention:{comment.pk}:{user.pk}",
            url=f"{path}#comments",
            context={"comment": comment, "author": actor.user, "plan": plan, "node": node, "path": path},
        )
    activity_record(plan=plan, actor=actor.user, verb="commented on", kind=node_kind, node=node, comment=body)
    return comment
