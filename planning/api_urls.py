"""The planning API, mounted at ``/api/v1/orgs/<org_slug>/`` (see ``bizops/urls.py``)."""

from django.urls import path

from . import api

PLAN = "plans/<int:pk>/"

app_name = "planning_api"

urlpatterns = [
    path("plans/", api.PlanListApi.as_view(), name="api_plan_list"),
    path(PLAN, api.PlanDetailApi.as_view(), name="api_plan_detail"),
    path(PLAN + "tree/", api.PlanTreeApi.as_view(), name="api_plan_tree"),
    path("milestones/", api.MilestoneListApi.as_view(), name="api_milestone_list"),
    path("milestones/<int:pk>/", api.MilestoneDetailApi.as_view(), name="api_milestone_detail"),
    path("milestones/<int:pk>/move/", api.MilestoneMoveApi.as_view(), name="api_milestone_move"),
    path("objectives/", api.ObjectiveListApi.as_view(), name="api_objective_list"),
    path("objectives/<int:pk>/", api.ObjectiveDetailApi.as_view(), name="api_objective_detail"),
    path("objectives/<int:pk>/move/", api.ObjectiveMoveApi.as_view(), name="api_objective_move"),
    path("steps/", api.StepListApi.as_view(), name="api_step_list"),
    path("steps/<int:pk>/", api.StepDetailApi.as_view(), name="api_step_detail"),
    path("steps/<int:pk>/move/", api.StepMoveApi.as_view(), name="api_step_move"),
    path("steps/<int:pk>/status/", api.StepStatusApi.as_view(), name="api_step_status"),
    # The life cycle: one endpoint per move (api_plan_submit, api_plan_approve, ...).
    *(
        path(f"{PLAN}actions/{action}/", view.as_view(), name=f"api_plan_{action}")
        for action, view in api.PLAN_ACTION_VIEWS.items()
    ),
    path(PLAN + "review/", api.PlanReviewApi.as_view(), name="api_plan_review"),
    path(PLAN + "transitions/", api.PlanTransitionListApi.as_view(), name="api_plan_transitions"),
    path(PLAN + "baselines/", api.BaselineListApi.as_view(), name="api_baseline_list"),
    path(PLAN + "baselines/<int:number>/", api.BaselineDetailApi.as_view(), name="api_baseline_detail"),
    path(PLAN + "baselines/<int:number>/diff/", api.BaselineDiffApi.as_view(), name="api_baseline_diff"),
    path(
        PLAN + "objectives/<int:objective_id>/score/",
        api.ObjectiveScoreApi.as_view(),
        name="api_objective_score",
    ),
    path("review-queue/", api.ReviewQueueApi.as_view(), name="api_review_queue"),
    path("workload/", api.WorkloadApi.as_view(), name="api_workload"),
]
