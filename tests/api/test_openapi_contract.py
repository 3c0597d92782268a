"""The OpenAPI document tells the truth (issue 17): schemathesis calls every operation of
/api/openapi.json with each role's key, on the demo's data, and every answer must be one
the document declares (status, content type, body: our error shape, UTC date-times,
nulls where declared) and never a server error.

Bounded: a fixed number of examples per operation and role, derandomized (the same cases
every run). The limits per key are raised: this tests the contract, not the limits.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from contextlib import closing

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange.demo import seed
from exchange.extensions import db
from tests.conftest import BACKEND, _build_app, _truncate

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 5
NO_LIMITS = "1000000 per second"


@pytest.fixture(scope="module")
def contract_app(app, database_url, tmp_path_factory):
    """The app on a database of its own, committed for real, seeded with the demo."""
    folder = tmp_path_factory.mktemp("contract")
    if BACKEND == "services":
        _truncate(app)
        url = database_url
    else:
        template = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(template)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(template, folder / "contract.sqlite")
        url = f"sqlite:///{folder / 'contract.sqlite'}"
    live = _build_app(
        url,
        str(folder / "instance"),
        LIMIT_API_PER_KEY=NO_LIMITS,
        LIMIT_LEAD_INTAKE_PER_WEBMASTER=NO_LIMITS,
    )
    with live.app_context():
        credentials = seed()
    live.config["CONTRACT_KEYS"] = dict(re.findall(r"^\s+(\w+)\s+(lx_\S+)$", credentials, re.M))
    yield live
    with live.app_context():
        db.engine.dispose()
    if BACKEND == "services":
        _truncate(app)


@pytest.fixture(scope="module")
def api_schema(contract_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", contract_app)


@pytest.mark.parametrize("role", ["advertiser", "webmaster", "moderator", "admin"])
def test_every_answer_is_one_the_document_declares(api_schema, contract_app, role):
    key = contract_app.config["CONTRACT_KEYS"][role]
    failures = []
    for operation in (result.ok() for result in api_schema.get_all_operations()):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            if case.method == "DELETE" and case.path.startswith("/api/v1/keys/"):
                case.path_parameters = {"key_id": 2**31 - 1}  # never revoke the keys under test
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure, reported together
            failures.append(f"{operation.label}:\n{failure}")
    assert not failures, f"{len(failures)} operations answer what the document does not declare:\n\n" + (
        "\n\n".join(failures)
    )
