"""The OpenAPI document tells the truth (issue 17): schemathesis calls every operation of
/api/openapi.json with each role's key, on the demo's data, and every answer must be one
the document declares (status, content type, body: our error shape, UTC date-times,
nulls where declared) and never a server error.

Both ways round: a request the document calls valid is accepted (2xx, or 401/403/404/409
for who asks and what exists), and one it calls invalid is refused (4xx). A few rules
OpenAPI 3.0 cannot state (between fields, against the clock, by role, by what a string
means) are said in words in the document instead (an operation's ``x-rules``, also at
the end of its description; exchange/openapi.py), and only the "accepted" check leaves
those operations out.

Bounded: a fixed number of examples per operation, role and way, derandomized (the same
cases every run). The limits per key are raised: this tests the contract, not the limits.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from contextlib import closing

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from marshmallow import Schema, class_registry
from marshmallow import fields as ma_fields
from marshmallow.decorators import VALIDATES_SCHEMA
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange.demo import seed
from exchange.extensions import db
from exchange.openapi import RULES_HEADING
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
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", contract_app)
    # Text with NUL is refused by every call before its schema is read (400 invalid_characters).
    schema.config.generation.update(allow_x00=False)
    return schema


def test_rules_in_words_end_their_operations_description(contract_app):
    document = contract_app.test_client().get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/moderation/audit"]["get"]

    assert operation["x-rules"] == ["until: later than since"]
    assert operation["description"].endswith(f"{RULES_HEADING}\n- until: later than since")


def checks_for(operation, mode: GenerationMode) -> list:
    if mode == GenerationMode.NEGATIVE:
        return [*CHECKS, negative_data_rejection]
    if operation.definition.raw.get("x-rules"):
        return CHECKS  # a request the schema allows may break a rule said in words
    return [*CHECKS, positive_data_acceptance]


def call_examples(operation, mode: GenerationMode, key: str) -> None:
    """Call the operation with its examples in ``mode``, each answer checked."""
    checks = checks_for(operation, mode)

    @given(case=operation.as_strategy(generation_mode=mode))
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
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=checks)

    call()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("role", ["advertiser", "webmaster", "moderator", "admin"])
def test_every_answer_is_one_the_document_declares(api_schema, contract_app, role, mode):
    key = contract_app.config["CONTRACT_KEYS"][role]
    failures = []
    for operation in (result.ok() for result in api_schema.get_all_operations()):
        try:
            call_examples(operation, mode, key)
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure, reported together
            failures.append(f"{operation.label}:\n{failure}")
    assert not failures, f"{len(failures)} operations answer what the document does not declare:\n\n" + (
        "\n\n".join(failures)
    )


def cross_field_schemas(schema) -> list[str]:
    """The schema and schemas nested in it that check their fields together
    (``@validates_schema``), by name."""
    schema = schema() if isinstance(schema, type) else schema
    found = [type(schema).__name__] if schema._hooks.get(VALIDATES_SCHEMA) else []
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, ma_fields.List) else field
        if isinstance(inner, ma_fields.Nested) and isinstance(inner.schema, Schema):
            found += cross_field_schemas(inner.schema)
    return found


def test_each_rule_between_fields_is_stated_or_said_in_words(app):
    """A schema that checks fields together states the rule (``openapi_rules``), or the
    operation says it in words (``x-rules``): else the "accepted" check fails on it by luck
    only, and clients learn it from a 422."""
    document = app.test_client().get("/api/openapi.json").get_json()
    unsaid = []
    for rule in app.url_map.iter_rules():
        arguments = getattr(app.view_functions[rule.endpoint], "_apidoc", {}).get(
            "arguments", {}
        )  # flask-smorest's
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            operation = document["paths"].get(path, {}).get(method.lower(), {})
            for argument in arguments.get("parameters", []):
                for name in cross_field_schemas(argument["schema"]):
                    stated = getattr(class_registry.get_class(name), "openapi_rules", None)
                    if not stated and not operation.get("x-rules"):
                        unsaid.append(f"{method} {path}: {name}")
    assert unsaid == []
