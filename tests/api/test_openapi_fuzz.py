"""Property test of the whole HTTP API from its own OpenAPI document (schemathesis + hypothesis):
whatever a client sends, Vigil never answers 500, and every answer matches what the document says
(status codes declared, bodies matching their schemas, right content types)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from vigil.settings import Settings
from vigil.web.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AUTH = "Basic " + base64.b64encode(f"{ADMIN_USER}:{ADMIN_PASSWORD}".encode()).decode()


def _load_schema() -> schemathesis.BaseSchema:
    # The document is static, so it is built from the app at collection time; the cases are then
    # sent to the live test server. (schemathesis' own pytest loader does not support pytest 9.)
    with tempfile.TemporaryDirectory() as scratch:
        schema = schemathesis.openapi.from_dict(create_app(Settings(data_dir=Path(scratch))).openapi())
    # Changing users and passwords at random would lock the rest of the suite out; those routes
    # have their own example-based tests.
    return schema.exclude(path_regex=r"^/_security/user/")


OPERATIONS = [result.ok() for result in _load_schema().get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_never_fails_and_matches_its_schema(operation: schemathesis.APIOperation, base_url: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        headers = {"Authorization": AUTH, "kbn-xsrf": "fuzz"}
        if case.path.startswith("/internal/"):
            headers["elastic-api-version"] = "1"
        elif case.path.startswith("/api/"):
            headers["elastic-api-version"] = "2023-10-31"
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    check()
