"""Statements, invoices and the revenue report over the API (docs/money.md).

Statements are always of the caller's own accounts (admins name any account by
its code); invoices of the calling advertiser (admins: any, by number); the
revenue report is for admins. Nothing here writes.
"""

from __future__ import annotations

from flask_smorest import Blueprint

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
from billing.statements.revenue import revenue_report
from billing.statements.schemas import (
    InvoiceQuerySchema,
    InvoiceSchema,
    RevenueQuerySchema,
    RevenueSchema,
    StatementQuerySchema,
    StatementSchema,
)
from billing.statements.services import all_lines, statement_account, statement_of
from exchange.accounts.auth import api_key_required, caller

blp = Blueprint("statements", __name__, url_prefix="/api/v1", description="Statements, invoices, revenue")


@blp.route("/statements", methods=["GET"])
@api_key_required("advertiser", "webmaster", "admin")
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementSchema)
def statement(args: dict):
    """One of your accounts in a month: opening balance, every transfer with the running
    posted and available balances after it, closing balance. ``format=csv`` for a CSV."""
    if args["format"] == "csv":
        return _statement_csv(args)
    account = _account(args)
    return statement_of(account, args["month"], page=args["page"], per_page=args["per_page"])


@blp.route("/statements.csv", methods=["GET"])
@api_key_required("advertiser", "webmaster", "admin")
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, description="text/csv: the whole month (no pages), opening and closing rows")
def statement_csv(args: dict):
    return _statement_csv(args)


def _statement_csv(args: dict):
    account = _account(args)
    opening, lines = all_lines(account, args["month"])
    return csv_response(
        STATEMENT_HEADER, statement_rows(account, opening, lines), statement_filename(account, args["month"])
    )


def _account(args: dict):
    return statement_account(caller(), purpose=args["account"], currency=args["currency"], code=args["code"])


@blp.route("/invoices", methods=["GET"])
@api_key_required("advertiser")
@blp.arguments(InvoiceQuerySchema, location="query")
@blp.response(200, InvoiceSchema(many=True))
def invoices(args: dict):
    """Your invoices for a month: one per currency with charges, returns or top-ups."""
    return invoices_of(caller(), args["month"], args["currency"])


@blp.route("/invoices/<string:number>", methods=["GET"])
@api_key_required("advertiser", "admin")
@blp.response(200, InvoiceSchema)
def invoice(number: str):
    """An invoice by its number (``INV-<advertiser id>-<YYYY-MM>-<currency>``)."""
    return invoice_by_number(number, viewer=caller())


@blp.route("/admin/revenue", methods=["GET"])
@api_key_required("admin")
@blp.arguments(RevenueQuerySchema, location="query")
@blp.response(200, RevenueSchema)
def revenue(args: dict):
    """The platform's margin by offer, webmaster or day over ``from``..``to`` (UTC days)."""
    if args["format"] == "csv":
        return _revenue_csv(args)
    return revenue_report(
        args["currency"],
        args["from_"],
        args["to"],
        args["group_by"],
        page=args["page"],
        per_page=args["per_page"],
    )


@blp.route("/admin/revenue.csv", methods=["GET"])
@api_key_required("admin")
@blp.arguments(RevenueQuerySchema, location="query")
@blp.response(200, description="text/csv: every group (no pages), then the total")
def revenue_csv(args: dict):
    return _revenue_csv(args)


def _revenue_csv(args: dict):
    report = revenue_report(args["currency"], args["from_"], args["to"], args["group_by"])
    return csv_response(REVENUE_HEADER, revenue_rows(report), revenue_filename(report))
