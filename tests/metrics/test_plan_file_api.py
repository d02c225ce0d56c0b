"""Plan files through the API: export a plan, upload the file as a new draft, refused files."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics.models import KeyResult
from planning.models import ActionStep, Objective, Plan
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db


def export(client, acme, plan) -> dict:
    response = client.get(reverse("metrics_api:api_plan_export", args=[acme.org.slug, plan.pk]))
    assert response.status_code == 200
    return response.json()


def upload(client, acme, content: bytes, name: str = "plan.json"):
    return client.post(
        reverse("metrics_api:api_plan_import", args=[acme.org.slug]),
        {"file": SimpleUploadedFile(name, content, "application/json")},
        format="multipart",
    )


def test_a_plan_exported_and_imported_through_the_api_is_the_same_draft(acme, plan, tree, key_result):
    client = api_client(acme.manager)
    document = export(client, acme, plan)
    assert document["format"] == "bizops-plan" and document["plan"]["title"] == plan.title

    response = upload(client, acme, json.dumps(document).encode())

    assert response.status_code == 201, response.content
    body = response.json()
    copy = Plan.objects.get(pk=body["id"])
    assert body["status"] == "draft" and copy.status == "draft" and copy.title == plan.title
    assert response["Location"] == reverse("planning_api:api_plan_detail", args=[acme.org.slug, copy.pk])
    assert list(Objective.objects.filter(plan=copy).values_list("title", flat=True)) == [tree[1].title]
    assert ActionStep.objects.filter(plan=copy).get().assignee == acme.member
    assert KeyResult.objects.filter(plan=copy).get().title == key_result.title


def test_an_unknown_person_is_a_warning_not_an_error(acme, plan, tree):
    client = api_client(acme.manager)
    document = export(client, acme, plan)
    document["milestones"][0]["objectives"][0]["steps"][0]["assignee"] = "nobody@elsewhere.example"
    response = upload(client, acme, json.dumps(document).encode())
    assert response.status_code == 201
    assert any("nobody@elsewhere.example" in warning for warning in response.json()["warnings"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="something-else"), "format"),
        (lambda d: d["plan"].update(title=""), "plan.title"),
        (lambda d: d["plan"].update(period_start="31/12/2027"), "plan.period_start"),
        (lambda d: d["milestones"][0].update(title=["not", "text"]), "milestones[0].title"),
    ],
)
def test_a_bad_file_answers_400_at_its_field_and_saves_nothing(acme, plan, tree, change, field):
    client = api_client(acme.manager)
    document = export(client, acme, plan)
    change(document)
    response = upload(client, acme, json.dumps(document).encode())
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert Plan.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"{not json", "plan.json"),
        (b"\xff\xfe\x00bad", "plan.json"),
        (b"[" * 100_000 + b"]" * 100_000, "plan.json"),  # nested past Python's recursion limit
        (b"{}", "plan.csv"),
        (json.dumps([1, 2, 3]).encode(), "plan.json"),
    ],
)
def test_a_file_that_is_not_a_plan_answers_400_and_saves_nothing(acme, content, name):
    response = upload(api_client(acme.manager), acme, content, name)
    assert response.status_code == 400, response.content
    assert response.json()["fields"], response.json()
    assert not Plan.objects.exists()


def test_an_upload_without_a_file_answers_400_at_file(acme):
    response = api_client(acme.manager).post(
        reverse("metrics_api:api_plan_import", args=[acme.org.slug]), {}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()["fields"]


def test_a_refused_import_creates_nothing(acme, plan, tree):
    content = json.dumps(export(api_client(acme.manager), acme, plan)).encode()
    for role in ("member", "viewer"):
        assert upload(api_client(acme.member_of(role)), acme, content).status_code == 403
    assert Plan.objects.count() == 1


def test_another_organizations_plan_is_not_exported(acme, other, plan):
    outsider = api_client(other.owner)
    for slug in (acme.org.slug, other.org.slug):
        response = outsider.get(reverse("metrics_api:api_plan_export", args=[slug, plan.pk]))
        assert response.status_code == 404
