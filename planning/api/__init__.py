"""The planning REST API: plans, their goal tree and their life cycle, scoped to the organization in the URL.

Every view resolves the caller's membership of ``org_slug`` (a non-member gets 404) and looks objects
up inside that organization only, so another organization's ids answer 404 like missing ones. A view
checks the request's shape with a serializer and calls one service; the services decide who may do
what and raise ``PermissionDenied`` (403), ``ValidationError`` (400) or ``Conflict`` (409), which
``bizops.api.exception_handler`` turns into the one error body ``{"detail", "code", "fields"}``.

Concurrency: a detail response carries ``ETag: "v<version>"``. PATCH and DELETE honour ``If-Match``
(stale → 412 Precondition Failed); PATCH also takes a ``version`` field (stale → 409 with
``current_version``). Structural edits of the tree (DELETE and move of milestones, objectives and
steps) require ``If-Match`` (428 without it; ``*`` means "whatever is current"); a PATCH without
either applies to whatever is current.

``common`` holds the base view and the shared pieces; ``plans``, ``nodes`` and ``workflow`` the views.
"""

from .common import PlanningApi, PreconditionFailed, etag, pinned_version
from .nodes import (
    MilestoneDetailApi,
    MilestoneListApi,
    MilestoneMoveApi,
    ObjectiveDetailApi,
    ObjectiveListApi,
    ObjectiveMoveApi,
    StepDetailApi,
    StepListApi,
    StepMoveApi,
    StepStatusApi,
    node_for,
)
from .plans import PlanDetailApi, PlanListApi, PlanTreeApi
from .workflow import (
    PLAN_ACTION_VIEWS,
    BaselineDetailApi,
    BaselineDiffApi,
    BaselineListApi,
    ObjectiveScoreApi,
    PlanActionApi,
    PlanReviewApi,
    PlanTransitionListApi,
    ReviewQueueApi,
    WorkloadApi,
)

__all__ = [
    "PLAN_ACTION_VIEWS",
    "BaselineDetailApi",
    "BaselineDiffApi",
    "BaselineListApi",
    "MilestoneDetailApi",
    "MilestoneListApi",
    "MilestoneMoveApi",
    "ObjectiveDetailApi",
    "ObjectiveListApi",
    "ObjectiveMoveApi",
    "ObjectiveScoreApi",
    "PlanActionApi",
    "PlanDetailApi",
    "PlanListApi",
    "PlanReviewApi",
    "PlanTransitionListApi",
    "PlanTreeApi",
    "PlanningApi",
    "PreconditionFailed",
    "ReviewQueueApi",
    "StepDetailApi",
    "StepListApi",
    "StepMoveApi",
    "StepStatusApi",
    "WorkloadApi",
    "etag",
    "node_for",
    "pinned_version",
]
