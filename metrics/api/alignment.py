"""Alignment through the API: what an objective serves in the plan above its own, and the picker's
options (the parent plan's milestones, objectives and key results)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from bizops.access import org_object_or_404
from planning.access import plan_for
from planning.models import Objective

from .. import serializers as s
from ..selectors.alignment import alignment_options, objective_link
from ..services.alignment import objective_align, objective_unalign
from .common import ERROR_400, ERROR_403, ERROR_404, READ_ERRORS, OrgApi, conflict

ALIGNMENT_TAG = "alignment"
LOCKED = "The plan is not being written or amended: its alignment changes through an amendment."


def _body(objective: Objective) -> dict[str, Any]:
    link = objective_link(objective=objective)
    serves = (
        {
            "kind": link.kind,
            "id": link.id,
            "title": link.title,
            "plan_id": link.plan_id,
            "plan_title": link.plan_title,
            "label": link.label,
        }
        if link
        else None
    )
    return {"objective": objective.pk, "serves": serves, "counts": link.counts if link else None}


class ObjectiveAlignmentApi(OrgApi):
    def objective(self, pk: int) -> Objective:
        return org_object_or_404(Objective.objects.select_related("plan"), self.organization, pk=pk)

    @extend_schema(
        operation_id="objective_alignment_retrieve",
        summary="What an objective serves",
        description="The node of its plan's parent plan it serves, and whether its progress counts there.",
        tags=[ALIGNMENT_TAG],
        responses={200: s.AlignmentSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return Response(_body(self.objective(pk)))

    @extend_schema(
        operation_id="objective_alignment_set",
        summary="Set what an objective serves",
        description="Link the objective to a milestone, objective or key result of the plan its plan "
        "serves, replacing its link. While the plan is a draft, has changes requested or is being "
        "amended; the plan's owner, managers, admins and owners. A node of another plan, of this plan "
        "or of another organization, or a plan with no parent, answers 400 with the reason.",
        tags=[ALIGNMENT_TAG],
        request=s.AlignmentSetSerializer,
        responses={
            200: s.AlignmentSerializer,
            400: ERROR_400,
            403: ERROR_403,
            404: ERROR_404,
            409: conflict(LOCKED),
        },
    )
    def put(self, request: Request, pk: int, **kwargs: Any) -> Response:
        objective = self.objective(pk)
        data = self.validated(s.AlignmentSetSerializer, request.data)
        objective_align(
            actor=self.membership,
            objective=objective,
            target_kind=data["target_kind"],
            target_id=data["target_id"],
            counts=data["counts"],
        )
        return Response(_body(objective))

    @extend_schema(
        operation_id="objective_alignment_clear",
        summary="The objective serves nothing",
        tags=[ALIGNMENT_TAG],
        responses={204: None, 403: ERROR_403, 404: ERROR_404, 409: conflict(LOCKED)},
    )
    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        objective_unalign(actor=self.membership, objective=self.objective(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlignmentOptionsApi(OrgApi):
    # At most 30 of each kind: one short list, as the picker shows it (the base paginates lists).
    pagination_class = None  # type: ignore[assignment]

    @extend_schema(
        operation_id="plan_alignment_options",
        summary="What a plan's objectives may serve",
        description="The milestones, objectives and key results of the plan's parent plan whose title "
        "holds `q` (up to 30 of each kind): the picker's options. Empty when the plan serves no plan.",
        tags=[ALIGNMENT_TAG],
        parameters=[OpenApiParameter("q", str, description="Words of the title.")],
        responses={200: s.AlignmentOptionSerializer(many=True), **READ_ERRORS, 400: ERROR_400},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        plan = plan_for(self.membership, pk)
        query = self.validated(s.AlignmentOptionQuerySerializer, request.query_params)
        options = alignment_options(plan=plan, query=query.get("q", ""))
        return Response(s.AlignmentOptionSerializer(options, many=True).data)
