"""The planning API, mounted at ``/api/v1/orgs/<org_slug>/`` (see ``bizops/urls.py``)."""

from django.urls import path

from . import api

urlpatterns = [
    path("plans/", api.PlanListApi.as_view(), name="api_plan_list"),
    path("plans/<int:pk>/", api.PlanDetailApi.as_view(), name="api_plan_detail"),
    path("plans/<int:pk>/tree/", api.PlanTreeApi.as_view(), name="api_plan_tree"),
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
]
