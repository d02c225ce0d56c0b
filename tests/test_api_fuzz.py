"""Schemathesis against the whole REST API, from the schema the app serves, in-process through WSGI.

The caller is Acme's owner with a personal API token for Acme, so every operation can succeed; the
``org_slug`` path parameter is always Acme's (any other slug is a 404 the permission tests cover), and
most generated ids (in paths and bodies) are mapped onto real rows so that requests reach the services,
not only the 404. Each example runs in a savepoint rolled back after it, so every one starts from the
same data (a delete that succeeds takes nothing from the next). Checks: no 5xx, and every status,
content type and body as the schema documents them.

Bounded: ten examples per operation (``FUZZ_EXAMPLES``), derandomized (the same cases each run, so CI does not flake),
no example database. For a deeper local run: ``FUZZ_EXAMPLES=200 FUZZ_RANDOM=1`` (new cases each run).
"""

from __future__ import annotations

import os
from datetime import date

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.db.models import Model
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bizops.authentication import api_token_create
from bizops.models import Membership, Organization, Team
from bizops.wsgi import application
from metrics import services as metrics_services
from metrics.models import KPI, KeyResult
from planning.models import ActionStep, Milestone, Objective, Plan
from tests.planning.factories import build_tree

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The model behind each ``{id}`` path parameter, by the path's first segment after the organization.
MODELS = {
    "plans": Plan,
    "milestones": Milestone,
    "objectives": Objective,
    "steps": ActionStep,
    "kpis": KPI,
    "key-results": KeyResult,
}
# Fields of request bodies and other path parameters that name a row.
REFERENCES = {
    "plan": Plan,
    "milestone": Milestone,
    "objective": Objective,
    "objective_id": Objective,
    "step": ActionStep,
    "kpi": KPI,
    "key_result": KeyResult,
    "owner": Membership,
    "assignee": Membership,
    "team": Team,
}


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django closes the database connection when a request finishes, which would end the test's
    transaction after the first call; its test client unhooks that too (``django.test.client``)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_world(acme, plan, tree, settings):
    """Acme with a draft plan (its tree and a bigger one), an approved plan, a KPI with measurements and
    a key result; and a token of Acme's owner."""
    settings.API_RATE = ""  # the fuzzer is not a runaway script
    _, objective, _ = tree
    big = Plan.objects.create(
        organization=acme.org,
        owner=acme.manager,
        title="Expansion",
        ultimate_goal="Open a second office.",
        period_start=date(2027, 1, 1),
        period_end=date(2027, 12, 31),
    )
    build_tree(big, milestones=2, objectives=2, steps=2, people=[acme.member, acme.manager])
    kpi = metrics_services.kpi_create(
        actor=acme.manager,
        name="Leads reached a month",
        unit="number",
        direction="increase",
        target=100,
        amber_threshold=85,
        red_threshold=70,
        frequency="monthly",
        owner=acme.member,
    )
    metrics_services.measurement_record(actor=acme.manager, kpi=kpi, period=date(2027, 2, 1), value=60)
    metrics_services.key_result_create(
        actor=acme.manager, objective=objective, title="Clients signed", start=0, target=5
    )
    _, secret = api_token_create(user=acme.owner.user, organization=acme.org, name="Fuzzer")
    return {"slug": acme.org.slug, "secret": secret, "org": acme.org}


def _real(value: object, model: type[Model] | None, organization: Organization) -> object:
    """Three generated ids in four become one of the organization's rows of ``model``; the fourth stays
    as generated (usually a 404, or "does not exist")."""
    if model is None or not isinstance(value, int) or isinstance(value, bool) or not value % 4:
        return value
    ids = list(model.objects.filter(organization=organization).order_by("pk").values_list("pk", flat=True))
    return ids[value % len(ids)] if ids else value


def aim_at_real_rows(case, organization: Organization) -> None:
    path = case.path_parameters or {}
    if "id" in path:
        segments = case.operation.path.split("/")  # "", "api", "v1", "orgs", "{org_slug}", "plans", ...
        path["id"] = _real(path["id"], MODELS.get(segments[5]), organization)
    for name in path.keys() - {"id"}:
        path[name] = _real(path[name], REFERENCES.get(name), organization)
    if isinstance(case.body, dict):
        for name in case.body.keys() & REFERENCES.keys():
            case.body[name] = _real(case.body[name], REFERENCES[name], organization)


def fuzz(operation, *, slug: str, headers: dict[str, str], organization: Organization) -> None:
    """Run one operation's examples; raises what schemathesis found."""
    strategy = st.one_of(
        operation.as_strategy(generation_mode=mode, path_parameters={"org_slug": slug})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy)
    def check(case):
        # Every example starts from the same data, and a database error in one (which aborts the
        # transaction) does not turn every later request into a 500.
        savepoint = transaction.savepoint()
        try:
            aim_at_real_rows(case, organization)
            response = case.call(headers=headers)
            if response.status_code == 415:
                # A negative case whose multipart body is not an object goes out with no Content-Type
                # (schemathesis' WSGI transport); refusing it is right, though no operation lists 415.
                assert (case.media_type or "").startswith("multipart/"), case.media_type
                assert isinstance(case.body, str | bytes), case.body
                assert response.json()["code"] == "unsupported_media_type"
                return
            case.validate_response(response, checks=CHECKS, headers=headers)
        finally:
            transaction.savepoint_rollback(savepoint)

    check()


def test_the_api_answers_as_its_schema_says(api_world, wsgi_keeps_the_test_connection):
    """Every operation, in positive and negative modes; all failures are reported together.

    (Driven by hand rather than by ``schemathesis.pytest.from_fixture``: its lazy loader sets
    ``Node._nodeid``, which pytest 9 no longer has.)
    """
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {api_world['secret']}"}
    failures: list[str] = []
    fuzzed = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if "{org_slug}" not in operation.path:
            continue
        fuzzed += 1
        try:
            fuzz(operation, slug=api_world["slug"], headers=headers, organization=api_world["org"])
        except (Exception, BaseExceptionGroup) as exc:  # its failures; go on with the other operations
            failures.append(f"{operation.label}\n{exc}")

    assert fuzzed > 40
    assert not failures, f"{len(failures)} of {fuzzed} operations failed:\n\n" + "\n\n".join(failures)
