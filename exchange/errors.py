"""Errors that services raise and the JSON shape the API answers with.

Every API error is ``{"error": {"code": ..., "message": ..., "fields": {...}}}``
with a stable ``code``; clients branch on the code, people read the message.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from exchange.domain_errors import DomainError
from exchange.text import deeper_than, first_unstorable


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unavailable(AppError):
    """Try again soon: nothing was done."""

    status = 503
    code = "unavailable"


class Invalid(AppError):
    status = 422
    code = "validation_error"


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable; clients branch on it."})
    message = fields.String(required=True, metadata={"description": "For people to read."})
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "The invalid fields (or query parameters), each with its messages."},
    )


class ErrorSchema(Schema):
    """The body of every API error (the OpenAPI document declares it on every 4xx and 5xx)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or not request.accept_mimetypes.accept_html


MAX_JSON_DEPTH = 32  # lists and objects within each other: deeper than any body the API takes


def refuse_unstorable_input() -> None:
    """Before each request: text no column can store is a 400 naming where it is, and so
    is a JSON body nested more than ``MAX_JSON_DEPTH`` levels (or too deep to parse).

    The click endpoint is left out: it cleans what it records instead, so
    that no click is lost to a stray byte."""
    if request.endpoint == "tracking.click":
        return
    sources = {
        "query": request.args.to_dict(flat=False),
        "form": request.form.to_dict(flat=False) if request.mimetype != "application/json" else {},
        "json": _json_body() if request.is_json else None,
        "headers": {"Idempotency-Key": request.headers.get("Idempotency-Key", "")},
    }
    for source, data in sources.items():
        where = first_unstorable(data)
        if where:
            raise AppError(
                f"{source} {where}: NUL bytes and lone surrogates are not accepted.",
                code="invalid_characters",
                fields={where: ["Contains a character that cannot be stored."]},
            )


def _json_body() -> Any:
    """The request's JSON body (None when malformed: the view answers that), refused when
    nested too deeply, before anything (a view's schema, a check) walks it recursively."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # deeper than the parser itself goes
        data, too_deep = None, True
    else:
        too_deep = deeper_than(data, MAX_JSON_DEPTH)
    if too_deep:
        raise AppError(
            f"The JSON body nests lists and objects more than {MAX_JSON_DEPTH} levels deep.",
            code="invalid_json",
        )
    return data


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_unstorable_input)

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return jsonify(error_body(error.code, error.message, error.fields)), error.status

    @app.errorhandler(DomainError)
    def _refused_by_a_rule(error: DomainError):  # a lead's or dispute's state, the ledger
        return jsonify(error_body(error.code, str(error))), 409

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not _wants_json():
            return error
        fields = None
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            fields = _flatten_webargs(data["messages"])
        code = "validation_error" if error.code == 422 else _code_for(error)
        message = "Some fields are invalid." if fields else (error.description or error.name)
        response = jsonify(error_body(code, message, fields))
        response.status_code = error.code
        for name, value in error.get_headers():  # a 405's Allow, a 401's WWW-Authenticate
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return "Internal error", 500
        return jsonify(error_body("internal_error", "Something went wrong on our side.")), 500


def _code_for(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_")


def _flatten_webargs(messages: dict) -> dict:
    """webargs nests messages under the location (``json``, ``query``)."""
    flat: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            flat.update(location_messages)
    return flat or messages


def field_messages(messages: dict | list) -> dict[str, list[str]]:
    """marshmallow's messages, one list of plain sentences per field, nested ones (a Dict's
    keys, a List's items) flattened into \"key: message\"; the pages' forms show these."""
    if isinstance(messages, list):
        return {"form": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        flat[name] = _sentences(value)
    return flat


def _sentences(value: object, where: str = "") -> list[str]:
    if isinstance(value, dict):  # a Dict's errors sit under "key" or "value": the key says which
        return [
            s
            for key, inner in value.items()
            for s in _sentences(inner, where if key in ("key", "value") else f"{where}{key}: ")
        ]
    if isinstance(value, list):
        return [s for inner in value for s in _sentences(inner, where)]
    return [f"{where}{value}"]
