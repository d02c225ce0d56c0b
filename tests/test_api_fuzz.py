"""Schemathesis against the whole REST API, from the schema the app serves, in-process through WSGI.

Every check schemathesis has for a stateless run (its ``--checks all``): no 5xx; status codes, content
types, headers and bodies as the schema documents them; negative data (anything the schema forbids:
wrong types, values out of bounds, unknown body fields, missing required ones) refused; positive
data accepted; a missing required header refused; an undeclared method answered 405 with Allow; an
operation that needs authentication refusing a request without it. Phases: coverage (the boundary
cases of every parameter and body field, deterministic) and fuzzing (positive and negative).

The caller is Acme's owner with a personal API token for Acme, so every operation can succeed; the
``org_slug`` path parameter is always Acme's (any other slug is a 404 the permission tests cover), and
most generated ids (in paths and bodies) and If-Match headers are mapped onto real rows and their
current ETags so that requests reach the services, not only the 404 or the 412. Each example runs in
a savepoint rolled back after it, so every one starts from the same data (a delete that succeeds takes
nothing from the next).

What the schema cannot say is configured per operation in ``CONFIG`` below, each with its reason.

Bounded for CI: ten fuzzed examples per operation and mode (``FUZZ_EXAMPLES``), derandomized (the same
cases each run, so CI does not flake), no example database. For a deeper local run:
``FUZZ_EXAMPLES=200 FUZZ_RANDOM=1`` (new cases each run).
"""

from __future__ import annotations

import logging
import os
from datetime import date

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.db.models import Model
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from bizops.authentication import api_token_create
from bizops.models import Membership, Organization, Team
from bizops.wsgi import application
from metrics import services as metrics_services
from metrics.models import KPI, KeyResult
from planning.api.common import etag
from planning.models import ActionStep, Milestone, Objective, Plan
from tests.planning.factories import build_tree

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))

# Schemathesis' defaults, plus what a business rule answers by design to a request the schema allows.
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# Writes whose rules a JSON Schema cannot state: ids that must exist in the organization (and belong to
# the same plan), dates inside the plan's period and in order, a KPI's thresholds that must agree with
# its direction, a key result's start and target, a title that is only spaces, the plan's readiness
# and its approvers. The service answers 400 with a message per field.
RULES_400 = [
    "plan_create",
    "plan_update",
    "milestone_create",
    "milestone_update",
    "milestone_move",
    "objective_create",
    "objective_update",
    "objective_move",
    "step_create",
    "step_update",
    "step_move",
    "step_set_status",
    "plan_submit",
    "plan_request_changes",
    "objective_score_set",
    "kpi_create",
    "kpi_update",
    "measurement_create",
    "measurements_import",
    "plan_import",
    "key_result_create",
    "key_result_update",
    "check_in_create",
    "objective_alignment_set",
]
# Reads whose parameters are refused together: ``period_to`` before ``period_from``.
QUERY_RULES_400 = ["measurement_list"]
# The moves of a plan's life cycle: a plan that is not ready to be submitted, or an approval by its
# submitter, is refused with 400 (see ``planning.api.workflow.ACTION_DOCS``).
LIFE_CYCLE_400 = [
    "plan_withdraw",
    "plan_approve",
    "plan_revise",
    "plan_activate",
    "plan_start_amendment",
    "plan_close",
]
# Operations that honour If-Match: a well-formed ETag that is no longer current is refused with 412.
IF_MATCH_412 = [
    "plan_update",
    "plan_destroy",
    "milestone_update",
    "milestone_destroy",
    "milestone_move",
    "objective_update",
    "objective_destroy",
    "objective_move",
    "step_update",
    "step_destroy",
    "step_move",
    "kpi_update",
    "kpi_destroy",
    "key_result_update",
    "key_result_destroy",
]
# Structural edits of the tree require If-Match: without it, 428 Precondition Required (RFC 6585),
# which is exactly "a required header is missing".
IF_MATCH_REQUIRED = [
    "milestone_destroy",
    "milestone_move",
    "objective_destroy",
    "objective_move",
    "step_destroy",
    "step_move",
]


# Schemathesis' defaults for refused data, plus 412 where If-Match is checked: preconditions are
# evaluated before the content (RFC 9110 13.2.1), so a stale ETag wins over a bad body.
NEGATIVE = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429"]


def positive_statuses(operation_id: str) -> list[str]:
    statuses = list(POSITIVE)
    if operation_id in RULES_400 or operation_id in QUERY_RULES_400 or operation_id in LIFE_CYCLE_400:
        statuses.append("400")
    if operation_id in IF_MATCH_412:
        statuses.append("412")
    return statuses


CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "deterministic": not RANDOM,
            # The token is the caller's (``call_and_validate(headers=...)``), never generated.
            "with-security-parameters": False,
        },
        # Stateful runs need links the schema does not declare; examples are none.
        "phases": {"stateful": {"enabled": False}},
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": positive_statuses(operation_id)}
                },
            }
            for operation_id in {*RULES_400, *QUERY_RULES_400, *LIFE_CYCLE_400, *IF_MATCH_412}
        ]
        + [
            {
                "include-operation-id": operation_id,
                "checks": {"negative_data_rejection": {"expected-statuses": [*NEGATIVE, "412"]}},
            }
            for operation_id in IF_MATCH_412
        ]
        + [
            {
                "include-operation-id": operation_id,
                "checks": {"missing_required_header": {"expected-statuses": ["428"]}},
            }
            for operation_id in IF_MATCH_REQUIRED
        ],
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG).include(
    path_regex=r"\{org_slug\}"
)

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
def quiet_request_logs(caplog):
    """Thousands of requests: their access lines and 4xx warnings would cost more than the requests."""
    caplog.set_level(logging.ERROR, logger="bizops.request")
    caplog.set_level(logging.ERROR, logger="django.request")


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
    """Three generated ids in four become one of the organization's rows of ``model``; the fourth (3
    modulo 4: the coverage phase sends 0 and other small bounds, which must reach a row) stays as
    generated (usually a 404, or "does not exist")."""
    if isinstance(value, str) and value.isascii() and value.isdigit():  # coverage cases send path ids as text
        value = int(value)
    if model is None or type(value) is not int or value % 4 == 3:
        return value
    ids = list(model.objects.filter(organization=organization).order_by("pk").values_list("pk", flat=True))
    return ids[value % len(ids)] if ids else value


def aim_at_real_rows(case, organization: Organization) -> None:
    path = case.path_parameters or {}
    path["org_slug"] = organization.slug
    model = None
    if "id" in path:
        segments = case.operation.path.split("/")  # "", "api", "v1", "orgs", "{org_slug}", "plans", ...
        model = MODELS.get(segments[5])
        path["id"] = _real(path["id"], model, organization)
    for name in path.keys() - {"id", "org_slug"}:
        path[name] = _real(path[name], REFERENCES.get(name), organization)
    if isinstance(case.body, dict):
        for name in case.body.keys() & REFERENCES.keys():
            case.body[name] = _real(case.body[name], REFERENCES[name], organization)
    # Three If-Match values in four become the target's current ETag, so edits get past the precondition.
    headers = case.headers or {}
    sent = headers.get("If-Match")
    if model is not None and type(path["id"]) is int and isinstance(sent, str) and len(sent) % 4:
        row = model.objects.filter(organization=organization, pk=path["id"]).values("version").first()
        if row is not None:
            headers["If-Match"] = etag(row["version"])


@pytest.mark.django_db
def test_every_operation_of_the_organization_api_is_fuzzed():
    assert len(list(schema.get_all_operations())) > 40


@schema.parametrize()
@settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_the_api_answers_as_its_schema_says(
    case, api_world, wsgi_keeps_the_test_connection, quiet_request_logs
):
    headers = {"Authorization": f"Bearer {api_world['secret']}"}
    # Every example starts from the same data, and a database error in one (which aborts the
    # transaction) does not turn every later request into a 500.
    savepoint = transaction.savepoint()
    try:
        aim_at_real_rows(case, api_world["org"])
        response = case.call(headers=headers)
        if response.status_code == 415 and (case.media_type or "").startswith("multipart/"):
            # A negative case whose multipart body is not an object goes out with no Content-Type
            # (schemathesis' WSGI transport); refusing it is right, though no operation lists 415.
            # (The coverage phase's own probe of an unsupported media type is one the checks expect.)
            assert isinstance(case.body, str | bytes), case.body
            assert response.json()["code"] == "unsupported_media_type"
            return
        case.validate_response(response, headers=headers)
    finally:
        transaction.savepoint_rollback(savepoint)
