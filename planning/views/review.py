"""Review and approval pages, baselines, the approval queue, team workload and the close of a cycle."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bizops import services as core_services
from bizops.access import org_object_or_404, org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import ApproverInviteForm, add_service_errors
from bizops.models import Invitation
from bizops.requests import OrgRequest
from bizops.roles import Role, can

from .. import selectors, services
from ..baselines import diff, snapshot
from ..forms import DecisionForm, ReviewCommentForm, ScoreForm, SubmitForm
from ..models import Baseline, Milestone, Objective, ObjectiveScore, PlanStatus
from .common import error_message, load_plan

SIMPLE_ACTIONS = {
    "withdraw": services.plan_withdraw,
    "revise": services.plan_revise,
    "activate": services.plan_activate,
    "close": services.plan_close,
    "start_amendment": services.plan_start_amendment,
    "approve_alone": services.plan_approve_alone,
}
DONE_MESSAGES = {
    "withdraw": "The plan is back in your hands; submit it again when it is ready.",
    "revise": "The plan is open for changes again.",
    "activate": "The plan is active: the work is on.",
    "close": "The cycle is closed. Objective owners are asked for a score and a reflection.",
    "start_amendment": "An amendment is open: change the map, then submit it for review again.",
    "approve_alone": "Approved by you alone, as a one-person organization: the baseline is frozen and the "
    "work is handed out. The plan says so.",
}


# Up to this many steps the review page shows the whole map and offers every node for a comment.
# A bigger plan's milestones open one at a time (``plan_review_milestone``) and the comment box
# offers the plan and its milestones, plus the node whose "Comment" link was followed: 5,520
# nodes rendered in one page took ~0.25 s, and a select of 700 objectives is no way to choose one.
OUTLINE_IN_FULL_UP_TO = 400
KIND_LABELS = {"objective": "Objective", "step": "Step"}  # the node a "Comment" link asks for


def _is_big(tree) -> bool:
    return len(tree.steps) > OUTLINE_IN_FULL_UP_TO


def _node_title(plan, tree, kind: str, node_id: int) -> str | None:
    """The title of a node of this plan, or None if it is not one (a removed node, another plan's)."""
    if kind == "plan":
        return plan.title if node_id == plan.pk else None
    if kind == "milestone":
        return next((m.title for m in tree.milestones if m.pk == node_id), None)
    node = {"objective": tree.objectives, "step": tree.steps}.get(kind, {}).get(node_id)
    return node.title if node is not None else None


def _comment_targets(plan, tree, wanted: str = "") -> list[tuple[str, str]]:
    targets = [(f"plan:{plan.pk}", f"The plan: {plan.title}")]
    big = _is_big(tree)
    for milestone in tree.milestones:
        targets.append((f"milestone:{milestone.pk}", f"Milestone · {milestone.title}"))
        if big:
            continue
        for objective in milestone.children:
            targets.append((f"objective:{objective.pk}", f"— Objective · {objective.title}"))
            targets.extend((f"step:{step.pk}", f"—— Step · {step.title}") for step in objective.children)
    kind, _, node_id = wanted.partition(":")
    if big and kind in ("objective", "step") and node_id.isdigit():
        title = _node_title(plan, tree, kind, int(node_id))
        if title is not None:
            targets.insert(1, (wanted, f"{KIND_LABELS[kind]} · {title}"))
    return targets


def _comment_form(request: OrgRequest, plan, tree, data=None) -> ReviewCommentForm | None:
    if not (request.can.plan_comment and plan.status != PlanStatus.CLOSED):
        return None
    wanted = (data or {}).get("node") or request.GET.get("comment_on") or f"plan:{plan.pk}"
    return ReviewCommentForm(data, nodes=_comment_targets(plan, tree, wanted), initial={"node": wanted})


@org_view("plan_view")
def plan_review(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The page where a plan is reviewed and decided: readiness, what changed (since the baseline,
    and on a resubmission since the approvers asked for changes), comments on any node, and the
    moves this person may make now."""
    plan = load_plan(request, plan_id)
    me = request.membership
    review = selectors.plan_review(plan=plan, membership=me)
    comment_form = _comment_form(
        request, plan, review.tree, request.POST if request.method == "POST" else None
    )
    status = 200
    if request.method == "POST":
        if comment_form is None:
            raise PermissionDenied("Your role does not comment on this plan.")
        if comment_form.is_valid():
            kind, _, node_id = comment_form.cleaned_data["node"].partition(":")
            node = plan if kind == "plan" else selectors.node_get(plan=plan, kind=kind, node_id=node_id)
            try:
                services.comment_create(
                    actor=me, plan=plan, node_kind=kind, node=node, body=comment_form.cleaned_data["body"]
                )
            except ValidationError as exc:
                add_service_errors(comment_form, exc)
            except Conflict as exc:
                comment_form.add_error(None, exc.message)
            else:
                messages.success(request, "Your comment is posted; people you mentioned are told.")
                return redirect(f"{request.path}#review-comments")
        status = 400
    return _render_review(request, plan, review, comment_form=comment_form, status=status)


def _render_review(
    request: OrgRequest,
    plan,
    review,
    *,
    comment_form: ReviewCommentForm | None,
    invite_form: ApproverInviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    me = request.membership
    tree = review.tree
    asked_for_changes = any(a.approver_id == me.user_id for a in review.requests)
    submit_form = None
    eligible: list = []
    # The approver who asked for changes does not resubmit the plan they sent back, unless it is theirs.
    if plan.can_edit and plan.is_editable and (not asked_for_changes or plan.owner_id == me.pk):
        eligible = services.eligible_approvers(plan, me)
        submit_form = SubmitForm(eligible=eligible)
        # Nobody here may approve but the submitter: say so, and let them invite an approver in place.
        if not eligible and invite_form is None and request.can.members_invite:
            invite_form = ApproverInviteForm(membership=me)
    can_decide = "approve" in plan.allowed_actions
    comments = [
        (comment, _node_title(plan, tree, comment.node_kind, comment.node_id) or "a removed node")
        for comment in selectors.plan_comments(plan=plan)[:20]
    ]
    context = {
        "plan": plan,
        "review": review,
        "tree": tree,
        "baseline": review.baseline,
        "changes": review.diff,
        "readiness": review.readiness,
        # A first approval shows the whole map; a big plan's milestones open one at a time, and its
        # key results and steps are counted per objective, with a link to the objective's page.
        "outline_in_full": not _is_big(tree),
        "submit_form": submit_form,
        "no_approver": submit_form is not None and not eligible,
        "invite_form": invite_form,
        "open_invitations": _open_approver_invitations(request) if submit_form and not eligible else [],
        "decision_form": DecisionForm(initial={"seen": review.digest}) if can_decide else None,
        "comment_form": comment_form,
        "can_comment": comment_form is not None,
        "comments": comments,
        "actions": services.allowed_actions(plan),
        "is_submitter": plan.submitted_by_id == me.user_id,
        "asked_for_changes": asked_for_changes,
        "required": request.org.approvals_required,
        "approvers": review.approvers,
        "transitions": review.transitions,
        "approved_count": review.approved_count,
    }
    return render(request, "planning/review.html", context, status=status)


@org_view("plan_view")
def plan_review_milestone(request: OrgRequest, plan_id: int, milestone_id: int) -> HttpResponse:
    """A milestone of the map to approve, opened on a big plan's review page (HTMX); elsewhere, the
    milestone's own page."""
    plan = load_plan(request, plan_id)
    milestone = selectors.node_get(plan=plan, kind="milestone", node_id=milestone_id)
    if not request.htmx:
        return redirect("planning:node_detail", request.org.slug, plan.pk, "milestone", milestone.pk)
    context = {
        "plan": plan,
        "m": selectors.milestone_outline(plan=plan, milestone=cast(Milestone, milestone)),
        "outline_in_full": False,
        "can_comment": request.can.plan_comment and plan.status != PlanStatus.CLOSED,
    }
    return render(request, "planning/review.html#milestone-objectives", context)


def _open_approver_invitations(request: OrgRequest) -> list[Invitation]:
    """Invitations still open to people who will be able to approve, so the page says who is coming."""
    return list(
        Invitation.objects.filter(
            organization=request.org,
            role__in=[r for r in Role.values if can(r, "plan_approve")],
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("email")[:10]
    )


@org_view("members_invite")
@require_POST
def plan_invite_approver(request: OrgRequest, plan_id: int) -> HttpResponse:
    """Invite a manager or admin from the review page of a plan nobody else can approve yet."""
    plan = load_plan(request, plan_id)
    form = ApproverInviteForm(request.POST, membership=request.membership)
    if form.is_valid():
        try:
            invitation = core_services.invitation_create(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. Once they join, choose them here and submit the plan.",
            )
            return redirect(f"{reverse('planning:plan_review', args=[request.org.slug, plan.pk])}#ready-h")
    review = selectors.plan_review(plan=plan, membership=request.membership)
    comment_form = _comment_form(request, plan, review.tree)
    return _render_review(request, plan, review, comment_form=comment_form, invite_form=form, status=400)


@org_view("plan_view")
@require_POST
def plan_transition(request: OrgRequest, plan_id: int, action: str) -> HttpResponse:
    plan = load_plan(request, plan_id)
    actor = request.membership
    comment = request.POST.get("comment", "")
    try:
        if action == "submit":
            eligible = services.eligible_approvers(plan, actor)
            if not eligible:
                raise ValidationError(
                    "Nobody here can approve this plan yet: plans are approved by a manager, admin or "
                    "another owner, never by the person who submits them. Invite one first."
                )
            form = SubmitForm(request.POST, eligible=eligible)
            if not form.is_valid():
                # An ``ErrorList`` is a ``list`` (``UserList, list``); the stubs leave ``list`` out.
                raise ValidationError(form.errors.get("approvers") or "Choose the approvers.")  # type: ignore[arg-type]
            services.plan_submit(
                actor=actor, plan=plan, approvers=form.cleaned_data["approvers"], comment=comment
            )
            messages.success(request, "Submitted: the approvers are told by email.")
        elif action == "approve":
            seen = request.POST.get("seen") or None
            plan = services.plan_approve(actor=actor, plan=plan, comment=comment, seen=seen)
            if plan.status == PlanStatus.IN_REVIEW:
                messages.success(request, "Your approval is recorded; the plan waits for more approvals.")
            else:
                messages.success(request, "Approved. The baseline is frozen and the work is handed out.")
        elif action == "request_changes":
            services.plan_request_changes(actor=actor, plan=plan, comment=comment)
            messages.success(request, "Changes requested: the submitter is told by email.")
        elif action in SIMPLE_ACTIONS:
            SIMPLE_ACTIONS[action](actor=actor, plan=plan, comment=comment)
            messages.success(request, DONE_MESSAGES[action])
        else:
            raise Http404("No such action.")
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
        response = redirect("planning:plan_review", org_slug=request.org.slug, plan_id=plan.pk)
        response.status_code = 303
        return response
    if action == "start_amendment":
        return redirect("planning:plan_editor", org_slug=request.org.slug, plan_id=plan.pk)
    if action == "close":
        return redirect("planning:plan_scores", org_slug=request.org.slug, plan_id=plan.pk)
    return redirect("planning:plan_review", org_slug=request.org.slug, plan_id=plan.pk)


@org_view("plan_approve")
def review_queue(request: OrgRequest) -> HttpResponse:
    plans = selectors.review_queue(membership=request.membership)
    return render(request, "planning/review_queue.html", {"plans": plans})


@org_view("plan_view")
def baseline_list(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    baselines = plan.baselines.order_by("-number").only("id", "number", "approved_at", "round", "plan_id")
    return render(request, "planning/baselines.html", {"plan": plan, "baselines": baselines})


@org_view("plan_view")
def baseline_detail(request: OrgRequest, plan_id: int, number: int) -> HttpResponse:
    """The plan as approved on a date, and how it compares with another baseline or with today."""
    plan = load_plan(request, plan_id)
    baseline = get_object_or_404(Baseline, plan=plan, organization=request.org, number=number)
    compare_to = request.GET.get("compare", "current")
    if compare_to == "current":
        other = snapshot(selectors.content_tree(plan=plan))
        other_label = "the plan today"
    else:
        try:
            other_baseline = Baseline.objects.get(plan=plan, number=int(compare_to))
        except (ValueError, Baseline.DoesNotExist):
            raise Http404("No such baseline.") from None
        other = other_baseline.snapshot
        other_label = f"baseline #{other_baseline.number}"
    context = {
        "plan": plan,
        "baseline": baseline,
        "nodes": _nested(baseline.snapshot),
        "changes": diff(baseline.snapshot, other),
        "other_label": other_label,
        "compare_to": compare_to,
        "others": plan.baselines.exclude(pk=baseline.pk).order_by("-number").values_list("number", flat=True),
    }
    return render(request, "planning/baseline_detail.html", context)


def _nested(snap: dict) -> list[dict]:
    """Snapshot nodes as milestones → objectives → steps, for display."""
    by_parent: dict[tuple[str, int | None], list[dict]] = {}
    for node in snap["nodes"]:
        by_parent.setdefault((node["kind"], node["parent"]), []).append(node)
    milestones = by_parent.get(("milestone", None), [])
    for m in milestones:
        m["children"] = by_parent.get(("objective", m["id"]), [])
        for o in m["children"]:
            o["children"] = by_parent.get(("step", o["id"]), [])
    return milestones


@org_view("workload_view")
def workload(request: OrgRequest) -> HttpResponse:
    teams = selectors.team_workload(organization=request.org)
    return render(request, "planning/workload.html", {"teams": teams, "today": timezone.localdate()})


@org_view("plan_view")
def plan_scores(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The end of a cycle: objectives with their progress, owners' scores and reflections."""
    plan = load_plan(request, plan_id)
    tree = selectors.progress_tree(plan=plan)
    assert tree.progress is not None  # read with its roll-up (``with_progress``)
    scores = {s.objective_id: s for s in ObjectiveScore.objects.filter(plan=plan).select_related("scored_by")}
    errors: dict[int, ScoreForm] = {}
    form: ScoreForm | None
    if request.method == "POST":
        objective = org_object_or_404(
            Objective.objects.filter(plan=plan), request.org, pk=request.POST.get("objective")
        )
        form = ScoreForm(request.POST, prefix=f"o{objective.pk}")
        if form.is_valid():
            try:
                services.objective_score_set(
                    actor=request.membership, objective=objective, **form.cleaned_data
                )
            except PermissionDenied:
                raise
            except (ValidationError, Conflict) as exc:
                messages.error(request, error_message(exc))
            else:
                messages.success(request, f"Your score for “{objective.title}” is saved.")
                return redirect("planning:plan_scores", org_slug=request.org.slug, plan_id=plan.pk)
        else:
            add_service_errors(form, ValidationError(form.errors))
            errors[objective.pk] = form
    rows = []
    for milestone in tree.milestones:
        for objective in milestone.children:
            score = scores.get(objective.pk)
            may_score = plan.status == PlanStatus.CLOSED and (
                objective.owner_id == request.membership.pk or plan.can_edit
            )
            initial = {"score": score.score, "reflection": score.reflection} if score else None
            form = errors.get(objective.pk) or (
                ScoreForm(initial=initial, prefix=f"o{objective.pk}") if may_score else None
            )
            rows.append((milestone, objective, tree.progress.objectives[objective.pk], score, form))
    context = {"plan": plan, "rows": rows, "plan_progress": tree.progress.plan}
    return render(request, "planning/scores.html", context, status=400 if errors else 200)
