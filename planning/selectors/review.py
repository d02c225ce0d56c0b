"""The review side of a plan: who waits for what, its review page, its moves for a person, its
baselines and diffs, the team workload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from bizops.models import Membership, Organization
from bizops.roles import can

from ..access import can_edit_plan
from ..models import (
    ActionStep,
    Approval,
    Baseline,
    Milestone,
    Objective,
    ObjectiveScore,
    Plan,
    PlanApprover,
    PlanStatus,
    PlanTransition,
    StepQuerySet,
    StepStatus,
    Submission,
)

if TYPE_CHECKING:
    from ..baselines import Diff
    from ..readiness import Readiness


from .content import content_tree
from .trees import ContentTree

# --- Review and delegation ----------------------------------------------------------------------------


def _waiting_for(membership_id, user_id, organization_id) -> QuerySet[Plan]:
    """Plans in review naming this member as an approver, undecided by them; ids or ``OuterRef``s."""
    from django.db.models import Exists, OuterRef

    from ..models import Approval, PlanApprover

    named = PlanApprover.objects.filter(
        plan=OuterRef("pk"), round=OuterRef("review_round"), membership_id=membership_id
    )
    decided = Approval.objects.filter(
        plan=OuterRef("pk"), round=OuterRef("review_round"), approver_id=user_id
    )
    return (
        Plan.objects.filter(organization_id=organization_id, status=PlanStatus.IN_REVIEW)
        .filter(Exists(named))
        .exclude(Exists(decided))
    )


def review_queue(*, membership: Membership) -> QuerySet[Plan]:
    """Plans in review that name this member as an approver and still wait for their decision."""
    return (
        _waiting_for(membership.pk, membership.user_id, membership.organization_id)
        .select_related("submitted_by", "owner__user")
        .order_by("submitted_at", "pk")
    )


def review_queue_count(membership: Membership) -> int:
    """Plans waiting for this member's decision: the navigation's count (the badge annotated on the
    membership the page loaded anyway; one query where it came without)."""
    from bizops.badges import badge

    if not can(membership.role, "plan_approve"):
        return 0
    return badge(membership, "review_queue", lambda: review_queue(membership=membership).count())


def review_queue_badge():
    """The review queue's length for the navigation, as a subquery of the membership row
    (``bizops.badges``; registered in ``planning/apps.py``)."""
    from django.db.models import OuterRef

    from bizops.badges import count_of

    return count_of(
        _waiting_for(OuterRef(OuterRef("pk")), OuterRef(OuterRef("user_id")), OuterRef("organization_id"))
    )


def review_state(*, plan: Plan) -> dict:
    """The current round: who was asked, who decided what, and the plan's history of moves; with the
    last round whose approvers asked for changes (``requested_round``, None once the plan was approved
    since) and what they asked (``requests``). Every round's decisions come in one query: a plan has
    a handful of rounds of a few approvers each."""
    from ..models import Approval, PlanApprover, PlanTransition

    approvers = (
        list(
            PlanApprover.objects.filter(plan=plan, round=plan.review_round).select_related("membership__user")
        )
        if plan.review_round
        else []
    )
    approvals = list(Approval.objects.filter(plan=plan).select_related("approver").order_by("round", "pk"))
    decisions = {a.approver_id: a for a in approvals if a.round == plan.review_round}
    for approver in approvers:
        approver.decision = decisions.get(approver.membership.user_id)
    transitions = list(
        PlanTransition.objects.filter(plan=plan).select_related("actor").order_by("-created_at", "-pk")[:50]
    )
    asked = [a for a in approvals if a.decision == Approval.Decision.CHANGES_REQUESTED]
    requested_round = asked[-1].round if asked else None
    approved = sum(1 for d in decisions.values() if d.decision == Approval.Decision.APPROVED)
    return {
        "approvers": approvers,
        "decisions": decisions,
        "transitions": transitions,
        "approved_count": approved,
        "requested_round": requested_round,
        "requests": [a for a in asked if a.round == requested_round],
    }


@dataclass
class WorkloadRow:
    membership: Membership
    open: int = 0
    overdue: int = 0
    blocked: int = 0


def team_workload(*, organization: Organization, today: date | None = None) -> list[tuple]:
    """Per team, each member's open and blocked steps in plans that are not closed, and how many are
    overdue (``StepQuerySet.overdue``: a step of a plan still being written is never overdue)."""
    from bizops.models import Team

    today = today or timezone.localdate()
    counts = {
        row["assignee"]: row
        for row in ActionStep.objects.filter(
            organization=organization, assignee__isnull=False, recurrence="none"
        )
        .exclude(plan__status=PlanStatus.CLOSED)
        .open()
        .values("assignee")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=StepQuerySet.overdue_q(today)),
            blocked=Count("pk", filter=Q(status=StepStatus.BLOCKED)),
        )
    }
    teams = Team.objects.filter(organization=organization).prefetch_related("members__user").order_by("name")
    result = []
    for team in teams:
        rows = []
        for member in sorted(team.members.all(), key=lambda m: m.user.display_name):
            c = counts.get(member.pk, {})
            rows.append(WorkloadRow(member, c.get("open", 0), c.get("overdue", 0), c.get("blocked", 0)))
        result.append((team, rows))
    return result


# --- The life cycle, read side ------------------------------------------------------------------------


def plan_actions_for(*, plan: Plan, membership: Membership) -> list[str]:
    """The life-cycle moves this member may make on the plan now, in the order of ``TRANSITIONS``.

    The same checks as ``planning.services`` (``transitions``, ``workflow``) (the plan's state, then who may), so that a
    client offers exactly the moves the services would accept; the services remain the authority.
    An approver who already decided this round has nothing left to decide (the service says 409).
    """
    # services import this module
    from ..services.transitions import TRANSITIONS, allowed_actions
    from ..services.workflow import solo_approval_open

    possible = allowed_actions(plan)
    editor = can_edit_plan(membership, plan)
    may = {
        "submit": editor,
        "revise": editor,
        "activate": editor,
        "close": editor,
        "start_amendment": editor,
        "withdraw": plan.submitted_by_id is not None and plan.submitted_by_id == membership.user_id,
    }
    if "approve_alone" in possible and editor and plan.organization.solo_approval:
        may["approve_alone"] = solo_approval_open(plan, membership)
    if possible & {"approve", "request_changes"}:
        this_round = {"plan": plan, "round": plan.review_round}
        deciding = (
            plan.submitted_by_id != membership.user_id
            and can(membership.role, "plan_approve")
            and PlanApprover.objects.filter(**this_round, membership=membership).exists()
            and not Approval.objects.filter(**this_round, approver_id=membership.user_id).exists()
        )
        may["approve"] = may["request_changes"] = deciding
    return [action for action in TRANSITIONS if action in possible and may.get(action, False)]


@dataclass
class PlanReview:
    """Everything the review of a plan shows, so that the decision is made on one page: is it ready,
    who decides, what changed since the last approval, and on a resubmission what changed since the
    approvers asked for changes."""

    plan: Plan
    tree: ContentTree
    readiness: Readiness
    approvers: list[PlanApprover]  # the current round's, each with ``.decision`` (an Approval or None)
    decisions: dict[int, Approval]  # user id -> this round's decision
    transitions: list[PlanTransition]
    approved_count: int
    approvals_required: int
    baseline: Baseline | None  # the latest
    diff: Diff | None  # against that baseline; None without one
    snapshot: dict  # the plan's content now (``baselines.snapshot``)
    requested_round: int | None  # the last round whose approvers asked for changes, since approval
    requests: list[Approval]  # what they asked
    since_request: Diff | None  # what changed since that round was submitted
    since_submitted: Diff | None  # in review: what changed since this round was submitted (a KPI moved)

    @cached_property
    def digest(self) -> str:
        """The snapshot's name: an approval sends it back (``plan_approve(seen=...)``). Hashed when
        asked for (a plan in review), not for a running plan's review page, which decides nothing."""
        from ..baselines import digest

        return digest(self.snapshot)

    @cached_property
    def alignment(self) -> dict[str, Any]:
        """What the plan serves, from the snapshot the approver approves: the parent plan, each
        objective's link (``alignment`` nodes, added by metrics) and the objectives that serve nothing."""
        nodes = self.snapshot["nodes"]
        links = {node["parent"]: node["fields"] for node in nodes if node["kind"] == "alignment"}
        objectives = [node for node in nodes if node["kind"] == "objective"]
        return {
            "parent": self.snapshot["plan"].get("parent"),
            "links": [
                (node["fields"]["title"], links[node["id"]]) for node in objectives if node["id"] in links
            ],
            "unaligned": [node["fields"]["title"] for node in objectives if node["id"] not in links],
        }

    @property
    def outline(self) -> dict[str, list[dict]]:
        """The content to approve as a tree (the whole map, before a first approval)."""
        from ..baselines import outline

        return outline(self.snapshot)


# Baselines and submissions never change once written, so their snapshots are cached by a key that
# names the row and when it was written (a reset database that reuses the id names another row).
SNAPSHOT_CACHE_SECONDS = 24 * 3600


def frozen_snapshot(record: Baseline | Submission) -> dict:
    """The snapshot a baseline or a submission froze, loaded without it (``.defer("snapshot")``).

    Through Django's cache: PostgreSQL renders a 5,520-node plan's 1.5 MB of jsonb as text in ~25 ms
    and Python parses it in ~13 more; the cache hands back the parsed snapshot in ~12 ms. Each call
    returns a fresh copy (the cache unpickles one), so a caller may change it.
    """
    from django.core.cache import cache

    written = record.approved_at if isinstance(record, Baseline) else record.submitted_at
    key = f"planning:snapshot:{type(record).__name__.lower()}:{record.pk}:{written.timestamp()}"
    if "snapshot" in record.__dict__:  # loaded with its row after all
        return record.snapshot
    snap = cache.get(key)
    if snap is None:
        snap = type(record).objects.filter(pk=record.pk).values_list("snapshot", flat=True).get()
        cache.set(key, snap, SNAPSHOT_CACHE_SECONDS)
    return snap


def plan_review(*, plan: Plan, membership: Membership) -> PlanReview:
    """The review of a plan as ``membership`` sees it (``plan.allowed_actions`` is set for them).

    A fixed number of queries whatever the plan's size: the tree, its key results and KPIs (the
    snapshot), the latest baseline, the round, the submissions compared.
    """
    from ..baselines import diff, measured_objectives, snapshot  # both import this module
    from ..readiness import plan_readiness

    tree = content_tree(plan=plan)
    now = snapshot(tree)
    latest = Baseline.objects.filter(plan=plan).defer("snapshot").order_by("-number").first()
    state = review_state(plan=plan)
    plan.allowed_actions = plan_actions_for(plan=plan, membership=membership)
    last_request = state["requested_round"]
    if last_request is not None and latest is not None and last_request <= latest.round:
        last_request = None  # the plan was approved since: that request is history
    rounds = {r for r in (last_request, plan.review_round) if r}
    submissions = (
        {s.round: s for s in Submission.objects.filter(plan=plan, round__in=rounds).defer("snapshot")}
        if rounds
        else {}
    )
    requested = submissions.get(last_request) if last_request else None
    this_round = submissions.get(plan.review_round) if plan.status == PlanStatus.IN_REVIEW else None
    review = PlanReview(
        plan=plan,
        tree=tree,
        readiness=plan_readiness(tree, measured=measured_objectives(now)),
        approvers=state["approvers"],
        decisions=state["decisions"],
        transitions=state["transitions"],
        approved_count=state["approved_count"],
        approvals_required=membership.organization.approvals_required,
        baseline=latest,
        diff=diff(frozen_snapshot(latest), now) if latest is not None else None,
        snapshot=now,
        requested_round=last_request,
        requests=state["requests"] if last_request else [],
        since_request=diff(frozen_snapshot(requested), now) if requested is not None else None,
        since_submitted=None,
    )
    if this_round is not None and this_round.digest != review.digest:
        changed = diff(frozen_snapshot(this_round), now)
        review.since_submitted = None if changed.is_empty else changed
    return review


def milestone_outline(*, plan: Plan, milestone: Milestone) -> dict:
    """One milestone of the content to approve, as ``PlanReview.outline`` has it (its objectives,
    each with its key results and steps): a big plan's review page opens its milestones one by one.
    Queries in proportion to the levels, not to the milestone's size."""
    from ..baselines import outline, snapshot  # baselines imports this module

    objective_ids = list(milestone.objectives.values_list("pk", flat=True))
    if not objective_ids:
        return {"id": milestone.pk, "title": milestone.title, "children": {}}
    tree = content_tree(plan=plan, objective_ids=objective_ids)
    return next(m for m in outline(snapshot(tree))["milestones"] if m["id"] == milestone.pk)


def plan_transition_list(*, plan: Plan) -> QuerySet[PlanTransition]:
    """The plan's audit trail of moves, newest first."""
    return PlanTransition.objects.filter(plan=plan).select_related("actor").order_by("-created_at", "-pk")


def baseline_list(*, plan: Plan) -> QuerySet[Baseline]:
    """The plan's baselines, newest first, without their snapshots (which can be large)."""
    return Baseline.objects.filter(plan=plan).defer("snapshot").order_by("-number")


def baseline_get(*, plan: Plan, number: int) -> Baseline:
    """The plan's baseline with this number, or 404 (the plan was already found in the caller's org)."""
    from django.http import Http404

    try:
        return Baseline.objects.get(plan=plan, organization_id=plan.organization_id, number=number)
    except Baseline.DoesNotExist:
        raise Http404("No such baseline of this plan.") from None


def objective_score_get(*, objective: Objective) -> ObjectiveScore | None:
    """The score the objective got at the close of its plan, if any."""
    return ObjectiveScore.objects.filter(objective=objective).select_related("scored_by").first()


def baseline_diff(*, plan: Plan, number: int, to: int | None = None) -> Diff:
    """How the plan changed from its baseline ``number`` to baseline ``to`` (None: the plan today)."""
    from ..baselines import diff, snapshot

    before = baseline_get(plan=plan, number=number).snapshot
    if to is None:
        return diff(before, snapshot(content_tree(plan=plan)))
    return diff(before, baseline_get(plan=plan, number=to).snapshot)
