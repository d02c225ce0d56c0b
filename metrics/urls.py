from django.urls import path

from .views import alignment, check_in, dashboards, exchange, kpis, measure, progress

app_name = "metrics"

urlpatterns = [
    path("dashboard/", dashboards.organization_dashboard, name="dashboard"),
    path("me/", dashboards.my_dashboard, name="my_dashboard"),
    path("check-in/", check_in.check_in, name="check_in"),
    path("alignment/", alignment.alignment, name="alignment"),
    path(
        "objectives/<int:objective_id>/alignment/", alignment.objective_alignment, name="objective_alignment"
    ),
    path("teams/<int:team_id>/dashboard/", dashboards.team_dashboard, name="team_dashboard"),
    path("plans/<int:plan_id>/summary/", dashboards.plan_summary, name="plan_summary"),
    path("plans/<int:plan_id>/progress/", progress.plan_progress, name="plan_progress"),
    path("plans/import/", exchange.plan_upload, name="plan_import"),
    path("plans/<int:plan_id>/export.json", exchange.plan_download, name="plan_export"),
    path("calendar/", exchange.calendar_settings, name="calendar_settings"),
    path("kpis/", kpis.kpi_list, name="kpi_list"),
    path("kpis/new/", kpis.kpi_create, name="kpi_create"),
    path("kpis/import/", kpis.measurements_import, name="measurements_import"),
    path("kpis/measurements.csv", kpis.measurements_export, name="measurements_export"),
    path("check-ins.csv", kpis.check_ins_export, name="check_ins_export"),
    path("kpis/<int:kpi_id>/", kpis.kpi_detail, name="kpi_detail"),
    path("kpis/<int:kpi_id>/edit/", kpis.kpi_edit, name="kpi_edit"),
    path("kpis/<int:kpi_id>/record/", kpis.measurement_create, name="measurement_create"),
    path("kpis/<int:kpi_id>/targets/", kpis.period_target_set, name="kpi_period_target"),
    path("objectives/<int:objective_id>/measures/", measure.objective_measures, name="objective_measures"),
    path("objectives/<int:objective_id>/key-results/", measure.key_result_create, name="key_result_create"),
    path("objectives/<int:objective_id>/check-in/", measure.objective_check_in, name="objective_check_in"),
    path("key-results/<int:key_result_id>/", measure.key_result_detail, name="key_result_detail"),
    path("steps/<int:step_id>/check-in/", measure.step_check_in, name="step_check_in"),
]
