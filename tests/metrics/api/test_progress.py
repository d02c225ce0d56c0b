"""The progress breakdown over the API: every figure explains itself.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from metrics import services
from planning import services as planning_services
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db


def test_the_progress_explains_every_figure(acme, plan, tree, key_result):
    milestone, objective, step = tree
    empty = planning_services.objective_create(
        actor=acme.manager, milestone=milestone, title="Hire", weight=0
    )
    services.check_in_key_result(actor=acme.manager, key_result=key_result, value=3, confidence="on_track")

    response = api_client(acme.viewer).get(reverse("metrics_api:api_plan_progress", args=["acme", plan.pk]))

    assert response.status_code == 200
    body = response.json()
    # The step (not done, 0%) and the key result (3 of 5, 60%) weigh the same: 30%. The empty objective
    # weighs nothing, so the milestone and the plan are at 30% too.
    assert body["objectives"] == [
        {
            "id": objective.pk,
            "title": objective.title,
            "milestone": milestone.pk,
            "percent": 30,
            "note": "",
            "parts": [
                {
                    "label": step.title,
                    "kind": "step",
                    "node_id": step.pk,
                    "plan_id": None,
                    "percent": 0,
                    "weight": 1.0,
                    "detail": "to do",
                },
                {
                    "label": "Clients signed",
                    "kind": "key_result",
                    "node_id": key_result.pk,
                    "plan_id": None,
                    "percent": 60,
                    "weight": 1.0,
                    "detail": "3 of 5 (from 0)",
                },
            ],
        },
        {
            "id": empty.pk,
            "title": "Hire",
            "milestone": milestone.pk,
            "percent": 0,
            "note": "No steps or key results yet.",
            "parts": [],
        },
    ]
    assert body["milestones"] == [
        {
            "id": milestone.pk,
            "title": milestone.title,
            "percent": 30,
            "note": "",
            "parts": [
                {
                    "label": objective.title,
                    "kind": "objective",
                    "node_id": objective.pk,
                    "plan_id": None,
                    "percent": 30,
                    "weight": 1.0,
                    "detail": "",
                },
                {
                    "label": "Hire",
                    "kind": "objective",
                    "node_id": empty.pk,
                    "plan_id": None,
                    "percent": 0,
                    "weight": 0.0,
                    "detail": "",
                },
            ],
        }
    ]
    assert body["plan"]["id"] == plan.pk
    assert body["plan"]["percent"] == 30
    assert [p["node_id"] for p in body["plan"]["parts"]] == [milestone.pk]
