"""Every model is in the admin, and its list page opens for staff."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

PROJECT_APPS = {"bizops", "planning", "metrics"}


def test_every_model_is_registered():
    missing = [
        f"{m._meta.app_label}.{m.__name__}"
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS and not admin.site.is_registered(m)
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_admin_list_opens(client, plan, key_result):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in admin.site._registry:
        if model._meta.app_label in PROJECT_APPS:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_baselines_submissions_and_audit_events_cannot_be_deleted_in_the_admin(client, plan):
    from bizops.models import AuditEvent
    from planning.models import Baseline, Submission

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in (Baseline, Submission, AuditEvent):
        assert not admin.site._registry[model].has_delete_permission(None), model
        assert not admin.site._registry[model].has_add_permission(None), model
