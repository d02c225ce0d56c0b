"""The metrics API, mounted at ``/api/v1/orgs/<org_slug>/`` beside planning's (see ``bizops/urls.py``)."""

from django.urls import path

from . import api

app_name = "metrics_api"

urlpatterns = [
    path("kpis/", api.KPIListApi.as_view(), name="api_kpi_list"),
    path("kpis/<int:pk>/", api.KPIDetailApi.as_view(), name="api_kpi_detail"),
    path("kpis/<int:pk>/measurements/", api.MeasurementListApi.as_view(), name="api_measurement_list"),
    path("measurements/import/", api.MeasurementImportApi.as_view(), name="api_measurements_import"),
    path("key-results/", api.KeyResultListApi.as_view(), name="api_key_result_list"),
    path("key-results/<int:pk>/", api.KeyResultDetailApi.as_view(), name="api_key_result_detail"),
    path("check-ins/", api.CheckInListApi.as_view(), name="api_check_in_list"),
    path("plans/<int:pk>/progress/", api.PlanProgressApi.as_view(), name="api_plan_progress"),
    path("plans/<int:pk>/history/", api.PlanHistoryApi.as_view(), name="api_plan_history"),
    path("plans/<int:pk>/export/", api.PlanExportApi.as_view(), name="api_plan_export"),
    path("plans/import/", api.PlanImportApi.as_view(), name="api_plan_import"),
    path(
        "plans/<int:pk>/alignment-options/", api.AlignmentOptionsApi.as_view(), name="api_alignment_options"
    ),
    path(
        "objectives/<int:pk>/alignment/", api.ObjectiveAlignmentApi.as_view(), name="api_objective_alignment"
    ),
]
