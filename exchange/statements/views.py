"""Pages for invoices (advertisers, admins) and the revenue report (admins).

The same queries as the API (exchange/statements/api.py); bad input shows the form again
with what to fix (422), as billing's statement pages do (their ``load_args``).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from billing.models import Account
from billing.statements.csv_rows import csv_response
from billing.statements.schemas import this_month
from billing.statements.views import load_args
from exchange import clock
from exchange.accounts.views import role_required
from exchange.errors import AppError
from exchange.extensions import db
from exchange.statements.csv_rows import REVENUE_HEADER, revenue_filename, revenue_rows
from exchange.statements.invoices import invoice_by_number, invoices_of
from exchange.statements.revenue import GROUPS, revenue_report
from exchange.statements.schemas import InvoiceQuerySchema, RevenueQuerySchema

bp = Blueprint("offer_statements", __name__)


# -- invoices ------------------------------------------------------------------------------------


@bp.get("/invoices")
@role_required("advertiser")
def invoices():
    args, errors = load_args(InvoiceQuerySchema())
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
    args, errors = load_args(RevenueQuerySchema(), _revenue_defaults())
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
    args, errors = load_args(RevenueQuerySchema(), _revenue_defaults())
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
