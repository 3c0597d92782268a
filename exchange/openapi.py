"""The OpenAPI document (/api/openapi.json) says what the API answers, errors included.

flask-smorest documents an error shape of its own (``{"code", "status", "message",
"errors"}``); ours is ``{"error": {"code", "message", "fields"}}`` (exchange.errors).
``ExchangeApi`` declares ours as the default response of every operation, and
``ErrorResponses`` lists the errors each operation can answer: every call may be
refused (401 without a key, 403 for another role, 429 over the limit per key, 400
for a body that cannot be read, 422 for invalid arguments); a path naming a resource
may be 404, a change may be refused by a rule of the resource's state (409).

A rule OpenAPI 3.0 cannot state (between fields, against the clock, by role, by what a
string means: "until later than since", "a month that has begun") is said in words with
``@blp.rules(...)``: listed in the operation's ``x-rules`` and at the end of its description.
A request that the schema allows may break one of them, and is then answered 422.

A rule across a schema's fields that OpenAPI can state (one of two fields required, one
of a few shapes) is written on the marshmallow schema as ``openapi_rules``, a dict of
JSON Schema keywords (``anyOf``, ``oneOf``) that ``SchemaRules`` adds to its component.

The API's blueprints are ``Blueprint``s from here: a JSON body documented as required is
required (400 without one) instead of being read as ``{}``; where a client may leave it
out, the view says ``required=False``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import flask_smorest
from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api

from exchange import clock
from exchange.errors import AppError, ErrorSchema

EVERY_CALL = {
    "400": "BAD_REQUEST",
    "401": "UNAUTHORIZED",
    "403": "FORBIDDEN",
    "422": "UNPROCESSABLE_ENTITY",
    "429": "LIMITED",
}
NAMING_A_RESOURCE = {"404": "NOT_FOUND"}
CHANGES = {"409": "CONFLICT"}
CHANGING_METHODS = ("post", "put", "patch", "delete")


class ErrorResponses(BasePlugin):
    """Adds the error responses above to every operation (the ones it declares stay)."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            errors = dict(EVERY_CALL)
            if path and "{" in path:
                errors |= NAMING_A_RESOURCE
            if method in CHANGING_METHODS:
                errors |= CHANGES
            for status, name in errors.items():
                if status not in responses and int(status) not in responses:
                    responses[status] = name


class SchemaRules(BasePlugin):
    """Adds a schema's ``openapi_rules`` (JSON Schema keywords) to its component."""

    def schema_helper(self, name, definition, schema=None, **kwargs) -> dict | None:
        if schema is None:
            return None
        schema_class = resolve_schema_cls(schema)
        return dict(getattr(schema_class, "openapi_rules", {})) or None


class RulesInWords(BasePlugin):
    """Ends the description of an operation that has ``x-rules`` with them, for readers."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            rules = operation.get("x-rules")
            if rules:
                listed = "\n".join(f"- {rule}" for rule in rules)
                text = operation.get("description", "")
                operation["description"] = f"{text}\n\n{RULES_HEADING}\n{listed}".lstrip()


RULES_HEADING = "Rules the schema cannot state (a request that breaks one is answered 422):"


# A call over a limit (exchange.rate_limits) says when to come back.
LIMITED = {
    "description": "Too Many Requests: over a limit on abuse (docs/security.md)",
    "headers": {
        "Retry-After": {
            "description": "Seconds until the call is allowed again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "content": {"application/json": {"schema": "Error"}},
}


class ExchangeApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self) -> None:
        super().__init__(spec_kwargs={"extra_plugins": [ErrorResponses(), SchemaRules(), RulesInWords()]})

    def _register_responses(self) -> None:
        super()._register_responses()
        self.spec.components.response("LIMITED", LIMITED, lazy=True)


class UtcJSONProvider(DefaultJSONProvider):
    """JSON written by views themselves (not through a schema) writes moments as the schemas
    do, ISO 8601 in UTC with "Z", rather than Flask's HTTP dates with no date-time format."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, date):
            return clock.isoformat(o)
        return DefaultJSONProvider.default(o)


class Blueprint(flask_smorest.Blueprint):
    def rules(self, *rules: str) -> Callable:
        """The operation's rules that its schemas cannot state (see the module's docstring)."""
        return self.doc(**{"x-rules": list(rules)})

    def arguments(self, schema, *, location: str = "json", required: bool = True, **kwargs) -> Callable:
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(view: Callable) -> Callable:
            parsing = parse(view)

            @functools.wraps(parsing)
            def body_required(*args: Any, **view_kwargs: Any) -> Any:
                if not request.get_data(cache=True):
                    raise AppError("This call takes a JSON body.", code="missing_body")
                return parsing(*args, **view_kwargs)

            return body_required

        return decorator


def json_answer(schema: Any, many: bool = False, status: int = 200) -> dict:
    """A ``status`` whose JSON body is ``schema`` (a marshmallow schema, or a JSON Schema
    dict); ``many``: a list of them. For views that build their answer themselves:
    ``@blp.doc(responses=json_answer(...))`` with ``@blp.response(status, description=...)``."""
    body = {"type": "array", "items": schema} if many else schema
    return {status: {"content": {"application/json": {"schema": body}}}}


def by_role(*schemas: Any, many: bool = False) -> dict:
    """A 200 whose JSON body is one of ``schemas``, by the caller's role (the description
    says which role gets which)."""
    return json_answer({"anyOf": list(schemas)}, many=many)


# A 200 answered as CSV, by a ``.csv`` download or by a view that answers CSV instead of
# JSON when asked (``format=csv``; the document then lists both): ``@blp.doc(responses=CSV_BODY)``.
CSV_BODY = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}
