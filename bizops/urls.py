from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import audit_views, views, webhook_views
from .audit_api import AuditEventListApi
from .forms import EmailLoginForm, ThrottledPasswordResetForm
from .health import healthz, readyz
from .search_api import SearchApi

org_patterns = [
    path("settings/", views.organization_settings, name="organization_settings"),
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:membership_id>/role/", views.member_change_role, name="member_change_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<int:notification_id>/", views.notification_open, name="notification_open"),
    path("notifications/preferences/", views.notification_preferences, name="notification_preferences"),
    path("webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("webhooks/<int:webhook_id>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit.csv", audit_views.audit_log_csv, name="audit_log_csv"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:email_id>/", views.outbox_detail, name="outbox_detail"),
    path("search/", views.search, name="search"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailLoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    # Django's reset view with a form that limits reset emails per account and per address.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("signup/", views.signup, name="signup"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="profile_password"),
    path("profile/sign-out-everywhere/", views.sign_out_everywhere, name="profile_sign_out_everywhere"),
    path("profile/tokens/", views.profile_token_create, name="profile_token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.profile_token_revoke, name="profile_token_revoke"),
    path("orgs/", views.organization_list, name="organization_list"),
    path("orgs/new/", views.organization_create, name="organization_create"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("", include("metrics.public_urls")),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("o/<slug:org_slug>/", include("planning.urls")),
    path("o/<slug:org_slug>/", include("metrics.urls")),
    path("api/v1/orgs/<slug:org_slug>/audit-events/", AuditEventListApi.as_view(), name="api_audit_events"),
    path("api/v1/orgs/<slug:org_slug>/search/", SearchApi.as_view(), name="api_search"),
    path("api/v1/orgs/<slug:org_slug>/", include("planning.api_urls")),
    path("api/v1/orgs/<slug:org_slug>/", include("metrics.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("admin/", admin.site.urls),
]

# A URL no route matches: JSON under /api/, the 404 page elsewhere.
handler404 = "bizops.views.page_not_found"

# Health probes, exempt from login. bizops.middleware.HealthCheckMiddleware answers them before host
# validation and the HTTPS redirect; these routes give them names (reverse) and serve them without it.
urlpatterns += [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
