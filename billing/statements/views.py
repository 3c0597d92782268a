"""Pages for statements, invoices and the revenue report, for the signed-in user.

The same queries as the API (billing/statements/api.py); bad input shows the
form again with what to fix (422), never a stack of JSON.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import select

from billing.domain import PURPOSES
from billing.models import Account
from billing.statements.csv_rows import (
    REVENUE_HEADER,
    STATEMENT_HEADER,
    csv_response,
    revenue_filename,
    revenue_rows,
    statement_filename,
    statement_rows,
)
from billing.statements.invoices import invoice_by_number, invoices_of
from billing.statements.revenue import GROUPS, revenue_report
from billing.statements.schemas import (
    InvoiceQuerySchema,
    RevenueQuerySchema,
    StatementQuerySchema,
    this_month,
)
from billing.statements.services import all_lines, currencies_of, statement_account, statement_of
from exchange import clock
from exchange.accounts.views import role_required
from exchange.errors import AppError, Forbidden
from exchange.extensions import db

bp = Blueprint("statement_pages", __name__)
PAGE_LINES = 500


def _load(schema: Schema, defaults: dict | None = None) -> tuple[dict, dict]:
    """The query string (over ``defaults``) through ``schema``: (arguments, {}) or ({}, field messages)."""
    try:
        return schema.load({**(defaults or {}), **request.args.to_dict()}, unknown=EXCLUDE), {}
    except ValidationError as error:
        return {}, _flat(error.messages)


def _flat(messages: dict | list) -> dict:
    if isinstance(messages, list):
        return {"_": messages}
    return {field: value if isinstance(value, list) else [str(value)] for field, value in messages.items()}


def _service_error(error: AppError) -> dict:
    if isinstance(error, Forbidden):
        abort(403)
    return error.fields or {"_": [error.message]}


# -- statements ----------------------------------------------------------------------------------


@bp.get("/statements")
@role_required("advertiser", "webmaster", "admin")
def statement():
    args, errors = _load(StatementQuerySchema(), _statement_defaults())
    found = None
    asked = current_user.role != "admin" or "code" in request.args  # admins first pick an account
    if asked and not errors:
        try:
            account = _account(args)
            found = statement_of(account, args["month"], page=args["page"], per_page=PAGE_LINES)
        except AppError as error:
            errors = _service_error(error)
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
    args, errors = _load(StatementQuerySchema(), _statement_defaults())
    if not errors:
        try:
            account = _account(args)
        except AppError as error:
            errors = _service_error(error)
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


# -- invoices ------------------------------------------------------------------------------------


@bp.get("/invoices")
@role_required("advertiser")
def invoices():
    args, errors = _load(InvoiceQuerySchema())
    found = invoices_of(current_user, args["month"], args["currency"]) if not errors else []
    month = request.args.get("month") or (str(args["month"]) if args else "")
    return render_template(
        "invoices.html", invoices=found, errors=errors, month=month, currency=request.args.get("currency", "")
    ), (422 if errors else 200)


@bp.get("/invoices/<string:number>")
@role_required("advertiser", "admin")
def invoice(number: str):
    try:
        found = invoice_by_number(number, viewer=current_user)
    except AppError:
        abort(404)
    return render_template("invoice.html", invoice=found)


# -- the revenue report --------------------------------------------------------------------------


@bp.get("/admin/revenue")
@role_required("admin")
def revenue():
    args, errors = _load(RevenueQuerySchema(), _revenue_defaults())
    report = None
    if not errors:
        report = revenue_report(
            args["currency"], args["from_"], args["to"], args["group_by"], page=args["page"], per_page=100
        )
    return render_template(
        "revenue.html",
        report=report,
        errors=errors,
        form={**_revenue_defaults(), **request.args.to_dict()},
        currencies=_platform_currencies(),
        groups=GROUPS,
    ), (422 if errors else 200)


@bp.get("/admin/revenue.csv")
@role_required("admin")
def revenue_csv():
    args, errors = _load(RevenueQuerySchema(), _revenue_defaults())
    if errors:
        return revenue()
    report = revenue_report(args["currency"], args["from_"], args["to"], args["group_by"])
    return csv_response(REVENUE_HEADER, revenue_rows(report), revenue_filename(report))


def _revenue_defaults() -> dict:
    """Until the admin picks: this month so far, by offer, the first currency with revenue."""
    return {
        "from": this_month().start.date().isoformat(),
        "to": clock.now().date().isoformat(),
        "currency": (_platform_currencies() or ["USD"])[0],
        "group_by": "offer",
    }


def _platform_currencies() -> list[str]:
    query = select(Account.currency).where(Account.owner == "platform").distinct().order_by(Account.currency)
    return list(db.session.scalars(query))
