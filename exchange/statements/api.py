"""Invoices and the revenue report over the API (docs/money.md): invoices of the calling
advertiser (admins: any, by number); the revenue report is for admins. Nothing here writes."""

from __future__ import annotations

from billing.statements.csv_rows import csv_response
from billing.statements.schemas import MAX_REPORT_DAYS
from exchange.accounts.auth import api_key_required, caller
from exchange.openapi import CSV_BODY, Blueprint
from exchange.statements.csv_rows import REVENUE_HEADER, revenue_filename, revenue_rows
from exchange.statements.invoices import invoice_by_number, invoices_of
from exchange.statements.revenue import revenue_report
from exchange.statements.schemas import InvoiceQuerySchema, InvoiceSchema, RevenueQuerySchema, RevenueSchema

blp = Blueprint(
    "offer_statements_api", __name__, url_prefix="/api/v1", description="Invoices and revenue, by offer"
)
REVENUE_RANGE = f"from: not after to, fewer than {MAX_REPORT_DAYS} days before it"


@blp.route("/invoices", methods=["GET"])
@blp.rules("month: one that has begun")
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
@blp.rules(REVENUE_RANGE)
@api_key_required("admin")
@blp.arguments(RevenueQuerySchema, location="query")
@blp.response(200, RevenueSchema)
@blp.doc(responses=CSV_BODY)
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
@blp.rules(REVENUE_RANGE)
@api_key_required("admin")
@blp.arguments(RevenueQuerySchema, location="query")
@blp.doc(responses=CSV_BODY)
@blp.response(200, description="text/csv: every group (no pages), then the total")
def revenue_csv(args: dict):
    return _revenue_csv(args)


def _revenue_csv(args: dict):
    report = revenue_report(args["currency"], args["from_"], args["to"], args["group_by"])
    return csv_response(REVENUE_HEADER, revenue_rows(report), revenue_filename(report))
