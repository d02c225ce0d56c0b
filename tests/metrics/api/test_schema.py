"""The OpenAPI schema documents every metrics operation.

Who may call what is in ``tests/metrics/test_api_permissions.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


# operation id -> the statuses it documents: exactly those it can answer with.
METRICS_OPERATIONS = {
    "kpi_list": {"200", "400", "403", "404"},
    "kpi_create": {"201", "400", "403", "404"},
    "kpi_retrieve": {"200", "400", "403", "404"},
    "kpi_update": {"200", "400", "403", "404", "409", "412"},
    "kpi_destroy": {"204", "403", "404", "412"},
    "measurement_list": {"200", "400", "403", "404"},
    "measurement_create": {"201", "400", "403", "404"},
    "measurements_import": {"200", "400", "403", "404"},
    "key_result_list": {"200", "400", "403", "404"},
    "key_result_create": {"201", "400", "403", "404", "409"},
    "key_result_retrieve": {"200", "403", "404"},
    "key_result_update": {"200", "400", "403", "404", "409", "412"},
    "key_result_destroy": {"204", "403", "404", "409", "412"},
    "check_in_list": {"200", "400", "403", "404"},
    "check_in_create": {"201", "400", "403", "404", "409"},
    "plan_progress": {"200", "403", "404"},
    "plan_history": {"200", "403", "404"},
    "plan_export": {"200", "403", "404"},
    "plan_import": {"201", "400", "403", "404"},
}


def test_the_schema_documents_every_metrics_operation_without_warnings(tmp_path: Path, capsys):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    output = capsys.readouterr()
    assert not re.search(r"warning|error", output.err + output.out, re.IGNORECASE), output.err
    text = target.read_text()
    schema = yaml.safe_load(text)
    refs = set(re.findall(r"\$ref: '#/components/schemas/(\w+)'", text))
    assert refs <= set(schema["components"]["schemas"]), refs - set(schema["components"]["schemas"])
    operations = {
        op["operationId"]: (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if op["operationId"] in METRICS_OPERATIONS
    }
    assert set(operations) == set(METRICS_OPERATIONS)
    for operation_id, (path, method, op) in operations.items():
        assert path.startswith("/api/v1/orgs/{org_slug}/"), path
        assert set(op["responses"]) == METRICS_OPERATIONS[operation_id], operation_id
        assert op.get("summary") and op.get("tags"), operation_id
        if method in ("patch", "delete"):
            assert "If-Match" in {p["name"] for p in op["parameters"]}, operation_id
    assert "multipart/form-data" in operations["measurements_import"][2]["requestBody"]["content"]
