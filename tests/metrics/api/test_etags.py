"""ETag and If-Match on KPIs and key results: a stale write is refused, never silently applied.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db.models import F

from metrics import services
from metrics.models import KPI, KeyResult
from tests.metrics.api.common import url
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db


@dataclass
class Versioned:
    """A KPI or key result under test: its URL, a valid change, the text field it changes, its service."""

    target: str
    field: str
    service: str
    model: type[KPI] | type[KeyResult]
    pk: int

    @property
    def change(self) -> dict:
        return {self.field: "Renamed"}


@pytest.fixture(params=["kpi", "key_result"])
def subject(request, leads, key_result) -> Versioned:
    if request.param == "kpi":
        return Versioned(url("api_kpi_detail", leads.pk), "name", "kpi_update", KPI, leads.pk)
    return Versioned(
        url("api_key_result_detail", key_result.pk), "title", "key_result_update", KeyResult, key_result.pk
    )


def test_two_clients_with_one_etag_the_first_patch_wins(acme, subject):
    first, second = api_client(acme.manager), api_client(acme.admin)
    etag = first.get(subject.target)["ETag"]
    assert etag == '"v1"' == second.get(subject.target)["ETag"]

    won = first.patch(subject.target, {subject.field: "First"}, HTTP_IF_MATCH=etag)
    lost = second.patch(subject.target, {subject.field: "Second"}, HTTP_IF_MATCH=etag)

    assert won.status_code == 200
    assert won["ETag"] == '"v2"'
    assert lost.status_code == 412
    assert set(lost.json()) == {"detail", "code", "fields"}
    assert lost.json()["code"] == "precondition_failed"
    assert first.get(subject.target).json()[subject.field] == "First"
    assert (
        second.patch(subject.target, {subject.field: "Second"}, HTTP_IF_MATCH=won["ETag"]).status_code == 200
    )


def test_a_stale_version_in_the_body_is_409_with_the_current_version(manager, subject):
    assert manager.patch(subject.target, {**subject.change, "version": 1}).status_code == 200

    response = manager.patch(subject.target, {subject.field: "Mine", "version": 1})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert response.json()["code"] == "conflict"
    assert manager.get(subject.target).json()[subject.field] == subject.change[subject.field]


def test_delete_with_a_stale_etag_is_412(manager, subject):
    manager.patch(subject.target, subject.change)  # now at v2

    response = manager.delete(subject.target, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412
    assert manager.get(subject.target).status_code == 200

    assert manager.delete(subject.target, HTTP_IF_MATCH='W/"v2"').status_code == 204
    assert manager.get(subject.target).status_code == 404


def test_a_stale_if_match_wins_over_bad_content(manager, subject):
    manager.patch(subject.target, subject.change)
    response = manager.patch(subject.target, {subject.field: ""}, HTTP_IF_MATCH='"v1"')
    assert response.status_code == 412


@pytest.mark.parametrize(
    ("if_match", "expected"), [('"v1"', 200), ("*", 200), ('"v0", "v1"', 200), ("v1", 412)]
)
def test_if_match_forms(manager, subject, if_match, expected):
    assert manager.patch(subject.target, subject.change, HTTP_IF_MATCH=if_match).status_code == expected


def test_a_save_between_the_if_match_check_and_the_service_lock_is_still_412(manager, subject, monkeypatch):
    original = getattr(services, subject.service)

    def someone_saves_first(**kwargs):
        subject.model.objects.filter(pk=subject.pk).update(
            version=F("version") + 1, **{subject.field: "Theirs"}
        )
        return original(**kwargs)

    monkeypatch.setattr(services, subject.service, someone_saves_first)

    response = manager.patch(subject.target, {subject.field: "Mine"}, HTTP_IF_MATCH='"v1"')

    assert response.status_code == 412
    assert getattr(subject.model.objects.get(pk=subject.pk), subject.field) == "Theirs"


def test_without_a_precondition_the_last_write_applies(manager, subject):
    manager.patch(subject.target, {subject.field: "One"})
    response = manager.patch(subject.target, {subject.field: "Two"})
    assert (response.status_code, response.json()[subject.field], response["ETag"]) == (200, "Two", '"v3"')


def test_a_check_in_moves_the_key_results_etag(manager, key_result):
    target = url("api_key_result_detail", key_result.pk)
    etag = manager.get(target)["ETag"]
    manager.post(
        url("api_check_in_list"),
        {"target": "key_result", "key_result": key_result.pk, "value": 2, "confidence": "on_track"},
    )
    assert manager.patch(target, {"title": "Stale"}, HTTP_IF_MATCH=etag).status_code == 412
