"""The API's contract, stated by its schema and kept by the server: request bodies refuse unknown fields
and say so, bounds and required fields are in the schema, paging and filter parameters are checked,
control characters never get in, and an oversized body is a JSON 413."""

from __future__ import annotations

import inspect
import io
import re
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

import metrics.serializers
import planning.serializers
from bizops.rest import ErrorSerializer
from bizops.text import clean_text, has_control_characters
from bizops.wsgi import application
from metrics.models import KPI
from planning.models import ActionStep, Plan
from planning.serializers import InputSerializer, StrictSerializer, text_pattern
from tests.planning.factories import api_client

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme/"


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def manager(acme):
    return api_client(acme.manager)


def request_bodies(schema: dict) -> dict[str, dict]:
    """Every request body's schema, by its component name."""
    components = schema["components"]["schemas"]
    names = set()
    for path in schema["paths"].values():
        for operation in path.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                names.add(content["schema"]["$ref"].rsplit("/", 1)[1])
    return {name: components[name] for name in sorted(names)}


# --- The schema says what the server enforces --------------------------------------------------------


def test_every_request_body_refuses_unknown_fields_and_says_so(schema):
    bodies = request_bodies(schema)
    assert len(bodies) > 20
    assert {name for name, body in bodies.items() if body.get("additionalProperties") is not False} == set()


def test_bodies_are_json_and_only_the_imports_are_forms(schema):
    media_types = {
        (operation["operationId"], media_type)
        for path in schema["paths"].values()
        for operation in path.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert {media for _, media in media_types} == {"application/json", "multipart/form-data"}
    assert {op for op, media in media_types if media == "multipart/form-data"} == {
        "measurements_import",
        "plan_import",
    }


def test_every_text_field_of_a_body_states_which_characters_it_takes(schema):
    for name, body in request_bodies(schema).items():
        for field, prop in body["properties"].items():
            if (prop.get("type") == "string" and "format" not in prop) or "oneOf" in prop:
                patterns = [prop.get("pattern")] + [branch.get("pattern") for branch in prop.get("oneOf", [])]
                # Free text refuses control characters; a token (a digest) lists the only ones it takes.
                assert any(p and ("\\u0000" in p or WHITELIST.fullmatch(p)) for p in patterns), (
                    name,
                    field,
                    prop,
                )


WHITELIST = re.compile(r"\^\[[0-9a-zA-Z-]+\]\{\d+\}\$")


@pytest.mark.parametrize(
    ("component", "field", "bounds"),
    [
        ("MilestoneCreateRequest", "weight", {"minimum": 0, "maximum": 100}),
        ("PatchedObjectiveUpdateRequest", "weight", {"minimum": 0, "maximum": 100}),
        ("KeyResultCreateRequest", "weight", {"minimum": 0, "maximum": 100}),
        ("ObjectiveScoreSetRequest", "score", {"minimum": 0, "maximum": 100}),
        ("StepMoveRequest", "position", {"minimum": 0}),
        ("PatchedPlanUpdateRequest", "version", {"minimum": 1}),
        ("PlanCreateRequest", "title", {"minLength": 1, "maxLength": 200}),
        ("KPICreateRequest", "name", {"minLength": 1, "maxLength": 200}),
        ("KPICreateRequest", "currency", {"maxLength": 3}),
        ("PatchedStepUpdateRequest", "notes", {"maxLength": 10_000}),
        ("CheckInCreateRequest", "note", {"maxLength": 5_000}),
        ("MeasurementCreateRequest", "note", {"maxLength": 2_000}),
    ],
)
def test_bounds_are_in_the_schema(schema, component, field, bounds):
    prop = schema["components"]["schemas"][component]["properties"][field]
    stated = {**prop, **next(iter(prop.get("oneOf", [])), {})}
    assert {key: stated.get(key) for key in bounds} == bounds


def test_numbers_below_ten_trillion_as_json_numbers_or_digits(schema):
    target = schema["components"]["schemas"]["KPICreateRequest"]["properties"]["target"]
    number, text = target["anyOf"]
    assert number == {
        "type": "number",
        "minimum": -(10**13),
        "exclusiveMinimum": True,
        "maximum": 10**13,
        "exclusiveMaximum": True,
    }
    assert text == {"type": "string", "pattern": "^-?[0-9]{1,13}(\\.[0-9]+)?$"}


def test_fields_required_together_are_in_the_schema(schema):
    components = schema["components"]["schemas"]
    assert components["MilestoneMoveRequest"]["oneOf"] == [
        {"required": ["direction"]},
        {"required": ["position"]},
    ]
    step_move = components["StepMoveRequest"]
    assert {"required": ["objective"]} in step_move["anyOf"]
    assert step_move["not"] == {"required": ["direction", "position"]}
    branches = {b["properties"]["target"]["enum"][0]: b for b in components["CheckInCreateRequest"]["oneOf"]}
    assert branches["key_result"]["required"] == ["target", "confidence", "key_result", "value"]
    assert branches["step"]["required"] == ["target", "confidence", "step", "status"]
    assert all(branch["additionalProperties"] is False for branch in branches.values())
    assert set(components["PlanCreateRequest"]["required"]) == {
        "title",
        "ultimate_goal",
        "period_start",
        "period_end",
    }
    assert components["PlanRequestChangesRequest"]["required"] == ["comment"]


def test_paging_and_query_parameters_state_their_bounds(schema):
    parameters = {
        p["name"]: p for p in schema["paths"]["/api/v1/orgs/{org_slug}/plans/"]["get"]["parameters"]
    }
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1}
    assert "500" in parameters["limit"]["description"]
    assert parameters["offset"]["schema"] == {"type": "integer", "minimum": 0}
    kpi = {p["name"]: p for p in schema["paths"]["/api/v1/orgs/{org_slug}/kpis/{id}/"]["get"]["parameters"]}
    assert kpi["periods"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 104, "default": 12}


def test_a_body_too_large_is_documented_once(schema):
    too_large = schema["components"]["responses"]["RequestTooLarge"]
    assert too_large["description"].startswith("413")
    assert too_large["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# --- Input serializers all go through the shared base ------------------------------------------------


def serializer_classes():
    for module in (planning.serializers, metrics.serializers):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            # Defined in the module, or in a module of its package (planning.serializers.inputs…).
            if issubclass(cls, serializers.Serializer) and cls.__module__.startswith(module.__name__):
                yield cls


def test_every_input_serializer_checks_its_text_through_the_shared_base():
    """A serializer with a field a client sends is an input (the error bodies are documentation of
    output); each one is an ``InputSerializer``, so its text goes through ``clean_text`` and its
    values are read as the schema states them."""
    inputs = [
        cls
        for cls in serializer_classes()
        if not issubclass(cls, ErrorSerializer) and any(not f.read_only for f in cls().fields.values())
    ]
    assert len(inputs) > 30
    assert [cls.__name__ for cls in inputs if not issubclass(cls, InputSerializer)] == []
    bodies = [cls for cls in inputs if cls.__name__.endswith(("CreateSerializer", "UpdateSerializer"))]
    assert [cls.__name__ for cls in bodies if not issubclass(cls, StrictSerializer)] == []


@pytest.mark.parametrize("multiline", [False, True])
def test_the_schema_pattern_takes_exactly_what_clean_text_takes(multiline):
    import re

    pattern = re.compile(text_pattern(multiline=multiline, blank=True))
    for code in [*range(0x100), 0x2028, 0xFEFF, 0x1F600]:
        char = chr(code)
        assert bool(pattern.search(f"a{char}b")) != has_control_characters(
            f"a{char}b", multiline=multiline
        ), code


# --- Paging and filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("plans/?offset=-1", {"offset"}),
        ("plans/?offset=x", {"offset"}),
        ("plans/?offset=", {"offset"}),
        ("plans/?limit=0", {"limit"}),
        ("plans/?limit=-5&offset=1.5", {"limit", "offset"}),
        ("plans/?limit=ten", {"limit"}),
        ("plans/?limit=1&limit=2", {"limit"}),
        ("kpis/?limit=x", {"limit"}),
        ("plans/?status=", {"status"}),
        ("plans/?status=draft&status=closed", {"status"}),
        ("steps/?plan=1.0", {"plan"}),
        ("steps/?plan=%2B1", {"plan"}),  # +1
        ("steps/?due_before=2027-1-1", {"due_before"}),
        ("check-ins/?since=last+week", {"since"}),
        ("check-ins/?since=2027-01-01T10:00:00", {"since"}),  # no offset: which time zone?
        ("check-ins/?since=", {"since"}),
        ("key-results/?owner=0", {"owner"}),
    ],
)
def test_invalid_paging_and_filters_are_400_with_field_messages(acme, manager, query, fields):
    response = manager.get(API + query)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == fields
    assert all(body["fields"][name] for name in fields)


def test_invalid_measurement_filters_are_400(acme, leads, manager):
    for query, fields in [
        ("period_to=x", {"period_to"}),
        ("period_to=2027-02-30", {"period_to"}),
        ("include_history=yes", {"include_history"}),
        ("period_from=2027-03-01&period_to=2027-01-01", {"period_to"}),
        ("offset=-1", {"offset"}),
    ]:
        response = manager.get(f"{API}kpis/{leads.pk}/measurements/?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["fields"]) == fields, query


def test_valid_paging_and_filters_still_work(acme, plan, manager):
    assert manager.get(API + "check-ins/?since=2027-01-01").status_code == 200
    assert manager.get(API + "check-ins/?since=2027-01-01T10:00:00%2B02:00").status_code == 200
    assert manager.get(API + "check-ins/?since=2027-01-01t10:00:00z").status_code == 200
    body = manager.get(API + "plans/?limit=100000&offset=0&unknown=ignored").json()
    assert body["count"] == 1
    assert [p["id"] for p in body["results"]] == [plan.pk]


def test_a_limit_above_the_ceiling_reads_as_500(acme, manager):
    for _ in range(2):
        Plan.objects.create(
            organization=acme.org,
            title="P",
            ultimate_goal="G",
            period_start=date(2027, 1, 1),
            period_end=date(2027, 12, 31),
        )
    body = manager.get(API + "plans/?limit=100000&offset=1").json()
    assert "limit=500" in body["previous"]


# --- Control characters -------------------------------------------------------------------------------


def test_a_carriage_return_in_a_title_is_refused_and_nothing_saved(acme, manager):
    before = Plan.objects.count()
    response = manager.post(
        API + "plans/",
        {
            "title": "Growth\r2027",
            "ultimate_goal": "Grow",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
        },
    )
    assert response.status_code == 400
    assert response.json()["fields"]["title"] == [
        "Remove the control character U+000D (carriage return): it cannot be saved."
    ]
    assert Plan.objects.count() == before


def test_a_nul_in_a_note_is_refused_and_the_step_unchanged(acme, plan, tree, manager):
    step = tree[2]
    response = manager.patch(f"{API}steps/{step.pk}/", {"notes": "Call them\x00 back", "title": "New title"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"notes"}
    assert "U+0000" in response.json()["fields"]["notes"][0]
    fresh = ActionStep.objects.get(pk=step.pk)
    assert (fresh.title, fresh.notes, fresh.version) == (step.title, step.notes, step.version)


def test_an_escape_in_a_kpi_name_is_refused_and_no_kpi_made(acme, manager):
    response = manager.post(
        API + "kpis/",
        {"name": "Leads\x1b[31m", "direction": "increase", "target": 10, "frequency": "monthly"},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]
    assert not KPI.objects.exists()


def test_multi_line_text_keeps_its_lines_with_lf_and_takes_tabs(acme, plan, tree, manager):
    step = tree[2]
    response = manager.patch(f"{API}steps/{step.pk}/", {"notes": "One\r\nTwo\rThree\tfour"})
    assert response.status_code == 200, response.json()
    assert ActionStep.objects.get(pk=step.pk).notes == clean_text("One\nTwo\nThree\tfour", multiline=True)
    response = manager.patch(f"{API}steps/{step.pk}/", {"title": "Line\none"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["title"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": 5}, "title"),  # text is a JSON string
        ({"plan": "1"}, "plan"),  # an id is a JSON integer
        ({"weight": 5.0}, "weight"),
        ({"weight": True}, "weight"),
        ({"weight": 101}, "weight"),
        ({"target_date": "2027-1-1"}, "target_date"),
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_values_are_read_as_the_schema_states_them(acme, plan, manager, change, field):
    response = manager.post(API + "milestones/", {"plan": plan.pk, "title": "M", **change})
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize("value", ["1_000", " 5", "1e3", "", True, [1], "10000000000000", 1e13, -(10**13)])
def test_numbers_are_json_numbers_or_plain_digits_below_ten_trillion(acme, leads, manager, value):
    response = manager.post(f"{API}kpis/{leads.pk}/measurements/", {"period": "2027-03-01", "value": value})
    assert response.status_code == 400, value
    assert list(response.json()["fields"]) == ["value"]


@pytest.mark.parametrize("value", [5, 5.25, "-1200.50", 9_999_999_999_999])
def test_numbers_in_range_are_taken(acme, leads, manager, value):
    response = manager.post(f"{API}kpis/{leads.pk}/measurements/", {"period": "2027-03-01", "value": value})
    assert response.status_code == 201, response.json()


def test_a_null_among_ids_is_a_field_error(acme, manager):
    body = {"name": "K", "direction": "increase", "target": 1, "frequency": "monthly", "objectives": [None]}
    response = manager.post(API + "kpis/", body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["objectives"]


def test_a_form_encoded_body_is_415(acme, manager):
    response = manager.post(API + "plans/", {"title": "T"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- A body too large ---------------------------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_api_body_is_413_json_and_never_read(acme, manager):
    response = manager.generic("POST", API + "plans/", b"x" * FIFTY_MB, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is too large.",
        "code": "request_too_large",
        "fields": {},
    }


def test_a_body_just_under_the_limit_is_read(acme, manager):
    body = b'{"title": "' + b" " * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 20) + b'"}'
    response = manager.generic("POST", API + "plans/", body, content_type="application/json")
    assert response.status_code == 400  # read and refused on its content, not its size
    assert response.json()["code"] == "invalid"


def chunked_post(path: str, body: bytes, token_user=None) -> tuple[str, dict, bytes]:
    """POST ``body`` through the WSGI application as a server sends a chunked request: no
    Content-Length, the body in ``wsgi.input`` and ``wsgi.input_terminated`` set (gunicorn)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    content = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], content


def test_a_50_mb_chunked_api_body_is_413_json():
    status, headers, content = chunked_post(API + "plans/", b"x" * FIFTY_MB)
    assert status.startswith("413")
    assert headers["Content-Type"] == "application/json"
    assert b'"request_too_large"' in content


def test_a_small_chunked_api_body_is_not_refused_for_its_size():
    status, _, _ = chunked_post(API + "plans/", b"{}")
    assert not status.startswith("413")


def test_browser_pages_keep_their_answer_to_a_50_mb_body(acme):
    client = Client()
    client.force_login(acme.manager.user)
    response = client.generic(
        "POST", "/plans/new/", b"x" * FIFTY_MB, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code != 413
    assert not response["Content-Type"].startswith("application/json")
