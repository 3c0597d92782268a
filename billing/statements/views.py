"""Pages for statements, for the signed-in user (invoices and the revenue report:
exchange/statements/views.py).

The same queries as the API (billing/statements/api.py); bad input shows the
form again with what to fix (422), never a stack of JSON.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError

from billing.domain import PURPOSES
from billing.statements.csv_rows import (
    STATEMENT_HEADER,
    csv_response,
    statement_filename,
    statement_rows,
)
from billing.statements.schemas import (
    StatementQuerySchema,
    this_month,
)
from billing.statements.services import all_lines, currencies_of, statement_account, statement_of
from exchange import clock
from exchange.accounts.views import role_required
from exchange.errors import AppError, Forbidden

bp = Blueprint("statement_pages", __name__)
PAGE_LINES = 500


def load_args(schema: Schema, defaults: dict | None = None) -> tuple[dict, dict]:
    """The query string (over ``defaults``) through ``schema``: (arguments, {}) or ({}, field messages)."""
    try:
        return schema.load({**(defaults or {}), **request.args.to_dict()}, unknown=EXCLUDE), {}
    except ValidationError as error:
        return {}, _flat(error.messages)


def _flat(messages: dict | list) -> dict:
    if isinstance(messages, list):
        return {"_": messages}
    return {field: value if isinstance(value, list) else [str(value)] for field, value in messages.items()}


def service_error(error: AppError) -> dict:
    if isinstance(error, Forbidden):
        abort(403)
    return error.fields or {"_": [error.message]}


# -- statements ----------------------------------------------------------------------------------


@bp.get("/statements")
@role_required("advertiser", "webmaster", "admin")
def statement():
    args, errors = load_args(StatementQuerySchema(), _statement_defaults())
    found = None
    asked = current_user.role != "admin" or "code" in request.args  # admins first pick an account
    if asked and not errors:
        try:
            account = _account(args)
            found = statement_of(account, args["month"], page=args["page"], per_page=PAGE_LINES)
        except AppError as error:
            errors = service_error(error)
    return render_template(
        "statement.html",
        statement=found,
        errors=errors,
        form={**_statement_defaults(), **request.args.to_dict()},
        purposes=PURPOSES.get(current_user.role, ()),
        currencies=currencies_of(current_user.id),
        next_month=found.month.next() if found and found.month.end <= clock.now() else None,
    ), (422 if errors else 200)


@bp.get("/statements.csv")
@role_required("advertiser", "webmaster", "admin")
def statement_csv():
    args, errors = load_args(StatementQuerySchema(), _statement_defaults())
    if not errors:
        try:
            account = _account(args)
        except AppError as error:
            errors = service_error(error)
    if errors:
        return statement()
    opening, lines = all_lines(account, args["month"])
    return csv_response(
        STATEMENT_HEADER, statement_rows(account, opening, lines), statement_filename(account, args["month"])
    )


def _account(args: dict):
    return statement_account(
        current_user, purpose=args["account"], currency=args["currency"], code=args["code"]
    )


def _statement_defaults() -> dict:
    """Until the user picks: this month, the available account, the first currency it has."""
    if current_user.role == "admin":
        return {"month": str(this_month())}
    currencies = currencies_of(current_user.id)
    return {"month": str(this_month()), "account": "available", "currency": (currencies or ["USD"])[0]}
