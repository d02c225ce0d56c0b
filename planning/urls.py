from django.urls import path

from .views import collaboration, maps, plans, review, tree, work

NODE = "plans/<int:plan_id>/nodes/<str:kind>/<int:node_id>/"

app_name = "planning"

urlpatterns = [
    path("", plans.overview, name="org_home"),
    path("getting-started/dismiss/", plans.getting_started_dismiss, name="getting_started_dismiss"),
    path("plans/", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/", maps.plan_map, name="plan_map"),
    path("plans/<int:plan_id>/visual/", maps.plan_visual, name="plan_visual"),
    path("plans/<int:plan_id>/map-filters/", maps.map_filters, name="map_filters"),
    path("plans/<int:plan_id>/edit/", tree.plan_editor, name="plan_editor"),
    path("plans/<int:plan_id>/settings/", plans.plan_settings, name="plan_settings"),
    path("plans/<int:plan_id>/delete/", plans.plan_delete, name="plan_delete"),
    path("plans/<int:plan_id>/clone/", plans.plan_clone, name="plan_clone"),
    path("plans/<int:plan_id>/activity/", plans.activity, name="plan_activity"),
    path("plans/<int:plan_id>/suggestions/", collaboration.suggestions, name="suggestions"),
    path(
        "plans/<int:plan_id>/suggestions/<int:suggestion_id>/decide/",
        collaboration.suggestion_decide,
        name="suggestion_decide",
    ),
    path(
        "plans/<int:plan_id>/objectives/<int:objective_id>/steps/",
        tree.objective_steps,
        name="objective_steps",
    ),
    path("plans/<int:plan_id>/add/", tree.node_add, {"kind": "plan"}, name="milestone_add"),
    path(NODE, tree.node_detail, name="node_detail"),
    path(NODE + "add/", tree.node_add, name="node_add"),
    path(NODE + "edit/", tree.node_edit, name="node_edit"),
    path(NODE + "row/", tree.node_row, name="node_row"),
    path(NODE + "move/", tree.node_move, name="node_move"),
    path(NODE + "delete/", tree.node_delete, name="node_delete"),
    path(NODE + "why/", tree.progress_breakdown, name="progress_breakdown"),
    path("plans/<int:plan_id>/review/", review.plan_review, name="plan_review"),
    path(
        "plans/<int:plan_id>/review/milestones/<int:milestone_id>/",
        review.plan_review_milestone,
        name="plan_review_milestone",
    ),
    path(
        "plans/<int:plan_id>/review/invite-approver/",
        review.plan_invite_approver,
        name="plan_invite_approver",
    ),
    path("plans/<int:plan_id>/actions/<str:action>/", review.plan_transition, name="plan_transition"),
    path("plans/<int:plan_id>/baselines/", review.baseline_list, name="baseline_list"),
    path("plans/<int:plan_id>/baselines/<int:number>/", review.baseline_detail, name="baseline_detail"),
    path("plans/<int:plan_id>/scores/", review.plan_scores, name="plan_scores"),
    path("review/", review.review_queue, name="review_queue"),
    path("workload/", review.workload, name="workload"),
    path("my-work/", work.my_work, name="my_work"),
    path("steps/<int:step_id>/status/", work.step_status, name="step_status"),
]
