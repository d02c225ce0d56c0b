"""The plan's life cycle: the moves, the review, the history, baselines, scores, the approver's queue and
the team's workload.

The moves are one endpoint each (``plans/<id>/actions/<action>/``, one per entry of ``TRANSITIONS``) so
that each documents its own body. The services decide everything: a move the plan's state does not
allow is a 409, one the caller may not make is a 403, a plan that is not ready or a bad choice of
approvers is a 400; a refused move changes nothing. Each answers with the plan's new state, including
the moves the caller may make next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.access import org_object_or_404, require
from bizops.models import Organization
from bizops.rest import ErrorSerializer

from .. import serializers as s
from .. import services
from ..access import plan_for
from ..models import Objective, ObjectiveScore, Plan, PlanStatus
from ..selectors import (
    baseline_diff,
    baseline_get,
    baseline_list,
    objective_score_get,
    plan_actions_for,
    plan_review,
    plan_transition_list,
    review_queue,
    team_workload,
)
from .common import ERROR_400, ERROR_403, ERROR_404, ERROR_409, ETAG, READ_ERRORS, PlanningApi

TAG = "review"


def plan_with_people(organization: Organization, pk: int) -> Plan:
    """The plan (404 outside the organization) with its owner and submitter loaded."""
    return org_object_or_404(Plan.objects.select_related("owner__user", "submitted_by"), organization, pk=pk)


# --- The moves --------------------------------------------------------------------------------------


# One move of the plan's life cycle; subclasses name it, its body and the service that makes it.
class PlanActionApi(PlanningApi):
    transition: ClassVar[str]
    input: ClassVar[type[serializers.Serializer]] = s.PlanActionSerializer
    service: Callable[..., Plan]

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        data = self.validated(self.input, request.data)
        self.service(actor=self.membership, plan=plan, **data)
        return self.plan_state(pk)

    def plan_state(self, pk: int) -> Response:
        plan = plan_with_people(self.organization, pk)
        plan.allowed_actions = plan_actions_for(plan=plan, membership=self.membership)
        return self.detail(plan, s.PlanStateSerializer)


ACTION_DOCS = {
    "submit": (
        "Submit a plan for review",
        "Editors of the plan (its owner, managers, admins and owners). Refused with 400 while it has blocking "
        "problems (see `review/`), or when the approvers are not the organization's managers, admins or "
        "owners, include you, or are fewer than its `approvals_required`. The approvers are notified.",
    ),
    "withdraw": (
        "Withdraw a plan from review",
        "Only the person who submitted it. It goes back to draft, or to the amendment it came from.",
    ),
    "approve": (
        "Approve a plan",
        "The approvers named for this round, never the person who submitted it (403). Once the organization's "
        "`approvals_required` approvals are in, the plan is approved (active again if it was running), a "
        "baseline is frozen and people are told about their new work; until then it stays in review. A "
        "second decision in the same round is a 409. Send `seen`, the `digest` of the review you read: "
        "if the plan changed since, nothing is recorded and the answer is a 409.",
    ),
    "request_changes": (
        "Request changes to a plan",
        "The approvers named for this round, never the person who submitted it. The comment, saying what "
        "should change, is required (400 without one).",
    ),
    "revise": (
        "Reopen a plan for changes",
        "Editors of the plan. Back to draft, or to the amendment, after changes were requested.",
    ),
    "activate": ("Activate an approved plan", "Editors of the plan. The work is on."),
    "start_amendment": (
        "Start an amendment",
        "Editors of the plan. It can be edited again; the changes show as a diff against the latest baseline "
        "and need a new approval.",
    ),
    "approve_alone": (
        "Approve a plan alone (a one-person organization)",
        "Editors of the plan who may approve (owners, admins, managers), in an organization that allows it "
        "(`solo_approval` in its settings, 403 otherwise) and of which they are the only member (409 once "
        "someone else joined: submit it for review instead). Refused with 400 while it has blocking "
        "problems. As an approval: a baseline is frozen and the work handed out; the plan's history records "
        "that nobody else reviewed it.",
    ),
    "close": (
        "Close the cycle",
        "Editors of the plan. It becomes read-only and each objective's owner is asked for a score.",
    ),
}


def action_schema(action: str, request: type[serializers.Serializer]):
    summary, description = ACTION_DOCS[action]
    sources, _ = services.TRANSITIONS[action]
    states = ", ".join(f"`{state}`" for state in PlanStatus.values if state in sources)
    return extend_schema(
        operation_id=f"plan_{action}",
        summary=summary,
        description=f"From {states}. {description}",
        tags=[TAG],
        request=request,
        parameters=[ETAG],
        responses={
            200: OpenApiResponse(s.PlanStateSerializer, description="The plan's new state."),
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Not possible in the plan's current state (nothing changed), or already decided.",
            ),
        },
    )


@extend_schema_view(post=action_schema("submit", s.PlanSubmitSerializer))
class PlanSubmitApi(PlanActionApi):
    transition = "submit"
    input = s.PlanSubmitSerializer
    service = staticmethod(services.plan_submit)


@extend_schema_view(post=action_schema("withdraw", s.PlanActionSerializer))
class PlanWithdrawApi(PlanActionApi):
    transition = "withdraw"
    service = staticmethod(services.plan_withdraw)


@extend_schema_view(post=action_schema("approve", s.PlanApproveSerializer))
class PlanApproveApi(PlanActionApi):
    transition = "approve"
    input = s.PlanApproveSerializer
    service = staticmethod(services.plan_approve)


@extend_schema_view(post=action_schema("request_changes", s.PlanRequestChangesSerializer))
class PlanRequestChangesApi(PlanActionApi):
    transition = "request_changes"
    input = s.PlanRequestChangesSerializer
    service = staticmethod(services.plan_request_changes)


@extend_schema_view(post=action_schema("revise", s.PlanActionSerializer))
class PlanReviseApi(PlanActionApi):
    transition = "revise"
    service = staticmethod(services.plan_revise)


@extend_schema_view(post=action_schema("activate", s.PlanActionSerializer))
class PlanActivateApi(PlanActionApi):
    transition = "activate"
    service = staticmethod(services.plan_activate)


@extend_schema_view(post=action_schema("start_amendment", s.PlanActionSerializer))
class PlanStartAmendmentApi(PlanActionApi):
    transition = "start_amendment"
    service = staticmethod(services.plan_start_amendment)


@extend_schema_view(post=action_schema("approve_alone", s.PlanActionSerializer))
class PlanApproveAloneApi(PlanActionApi):
    transition = "approve_alone"
    service = staticmethod(services.plan_approve_alone)


@extend_schema_view(post=action_schema("close", s.PlanActionSerializer))
class PlanCloseApi(PlanActionApi):
    transition = "close"
    service = staticmethod(services.plan_close)


# One endpoint per move of TRANSITIONS (tests check that none is missing), in its order.
PLAN_ACTION_VIEWS: dict[str, type[PlanActionApi]] = {
    view.transition: view
    for view in (
        PlanSubmitApi,
        PlanWithdrawApi,
        PlanApproveApi,
        PlanApproveAloneApi,
        PlanRequestChangesApi,
        PlanReviseApi,
        PlanActivateApi,
        PlanCloseApi,
        PlanStartAmendmentApi,
    )
}


# --- Reading the review -----------------------------------------------------------------------------


class PlanReviewApi(PlanningApi):
    @extend_schema(
        operation_id="plan_review",
        summary="Read a plan's review",
        description=(
            "Everything a decision needs: the plan's state and the moves you may make, its readiness "
            "(blocking problems and warnings), the latest round's approvers and their decisions, and how "
            "the plan differs from its latest baseline. The same few queries whatever the plan's size."
        ),
        tags=[TAG],
        responses={200: s.PlanReviewSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_with_people(self.organization, pk)
        return Response(s.PlanReviewSerializer(plan_review(plan=plan, membership=self.membership)).data)


class PlanTransitionListApi(PlanningApi):
    @extend_schema(
        operation_id="plan_transition_list",
        summary="List a plan's history of moves",
        description="Every move of its life cycle, with who made it, when and their comment; newest first.",
        tags=[TAG],
        responses={200: s.PlanTransitionSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        return self.paginated(plan_transition_list(plan=plan), s.PlanTransitionSerializer)


class ReviewQueueApi(PlanningApi):
    @extend_schema(
        operation_id="review_queue",
        summary="List the plans waiting for my decision",
        description=(
            "Plans in review that name you as an approver and that you have not decided on yet, oldest "
            "submission first. Managers, admins and owners."
        ),
        tags=[TAG],
        responses={200: s.PlanInReviewSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        require(self.membership, "plan_approve")
        return self.paginated(review_queue(membership=self.membership), s.PlanInReviewSerializer)


# --- Baselines ----------------------------------------------------------------------------------------


class BaselineListApi(PlanningApi):
    @extend_schema(
        operation_id="baseline_list",
        summary="List a plan's baselines",
        description="One per approval, newest first; read one for its snapshot.",
        tags=[TAG],
        responses={200: s.BaselineSerializer(many=True), 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        return self.paginated(baseline_list(plan=plan), s.BaselineSerializer)


class BaselineDetailApi(PlanningApi):
    @extend_schema(
        operation_id="baseline_retrieve",
        summary="Read a baseline",
        description="The plan as it was approved: a snapshot of the whole tree.",
        tags=[TAG],
        responses={200: s.BaselineDetailSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, number: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        return Response(s.BaselineDetailSerializer(baseline_get(plan=plan, number=number)).data)


class BaselineDiffApi(PlanningApi):
    @extend_schema(
        operation_id="baseline_diff",
        summary="Compare a baseline",
        description="What changed from this baseline to the plan today, or to another of its baselines.",
        tags=[TAG],
        parameters=[s.BaselineDiffQuerySerializer],
        responses={200: s.BaselineDiffSerializer, 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, number: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        to = self.validated(s.BaselineDiffQuerySerializer, request.query_params)["to"]
        changes = baseline_diff(plan=plan, number=number, to=None if to == "current" else int(to))
        return Response(s.BaselineDiffSerializer(changes).data)


# --- Scores at the close ------------------------------------------------------------------------------


class ObjectiveScoreApi(PlanningApi):
    def objective(self, pk: int, objective_id: int) -> Objective:
        plan = plan_for(self.membership, pk)
        return org_object_or_404(Objective.objects.filter(plan=plan), self.organization, pk=objective_id)

    def score(self, objective: Objective) -> Response:
        # Not scored yet: an instance never saved, without a score or a date, which the stubs refuse
        # for non-null fields (mypy reports both ``None``s on the last line of the call).
        score = objective_score_get(objective=objective) or ObjectiveScore(
            objective=objective,
            plan_id=objective.plan_id,
            score=None,
            scored_at=None,  # type: ignore[misc]
        )
        return Response(s.ObjectiveScoreSerializer(score).data)

    @extend_schema(
        operation_id="objective_score_retrieve",
        summary="Read an objective's score",
        description="The score its owner gave when the plan closed; `score` is null until then.",
        tags=[TAG],
        responses={200: s.ObjectiveScoreSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, objective_id: int, **kwargs: Any) -> Response:
        return self.score(self.objective(pk, objective_id))

    @extend_schema(
        operation_id="objective_score_set",
        summary="Score an objective",
        description=(
            "Once the plan is closed (409 before): the objective's owner, or an editor of the plan, says how "
            "much of it was achieved and what was learned. Sending it again replaces it."
        ),
        tags=[TAG],
        request=s.ObjectiveScoreSetSerializer,
        responses={
            200: s.ObjectiveScoreSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: ERROR_409,
        },
    )
    def put(self, request: Request, pk: int, objective_id: int, **kwargs: Any) -> Response:
        objective = self.objective(pk, objective_id)
        data = self.validated(s.ObjectiveScoreSetSerializer, request.data)
        services.objective_score_set(actor=self.membership, objective=objective, **data)
        return self.score(objective)


# --- Workload -----------------------------------------------------------------------------------------


class WorkloadApi(PlanningApi):
    @extend_schema(
        operation_id="workload",
        summary="Read the team workload",
        description=(
            "Per team, each member's open, overdue and blocked steps in plans that are not closed. "
            "Managers, admins and owners."
        ),
        tags=[TAG],
        responses={200: s.WorkloadSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        require(self.membership, "workload_view")
        today = timezone.localdate()
        teams = team_workload(organization=self.organization, today=today)
        return Response(s.WorkloadSerializer({"today": today, "teams": teams}).data)
