"""Statements over the API (docs/money.md): always of the caller's own accounts (admins
name any account by its code). Invoices and the revenue report, which need the leads and
offers behind the transfers, are exchange/statements/api.py. Nothing here writes.
"""

from __future__ import annotations

from billing.statements.csv_rows import (
    STATEMENT_HEADER,
    csv_response,
    statement_filename,
    statement_rows,
)
from billing.statements.schemas import (
    StatementQuerySchema,
    StatementSchema,
)
from billing.statements.services import all_lines, statement_account, statement_of
from exchange.accounts.auth import api_key_required, caller
from exchange.openapi import CSV_BODY, Blueprint

blp = Blueprint("statements", __name__, url_prefix="/api/v1", description="Statements")
RULES = (
    "month: one that has begun",
    "currency: required of advertisers and webmasters; code (any account): required of admins",
    "account: one your role has (hold: webmasters; debt: advertisers)",
)


@blp.route("/statements", methods=["GET"])
@blp.rules(*RULES)
@api_key_required("advertiser", "webmaster", "admin")
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementSchema)
@blp.doc(responses=CSV_BODY)
def statement(args: dict):
    """One of your accounts in a month: opening balance, every transfer with the running
    posted and available balances after it, closing balance. ``format=csv`` for a CSV."""
    if args["format"] == "csv":
        return _statement_csv(args)
    account = _account(args)
    return statement_of(account, args["month"], page=args["page"], per_page=args["per_page"])


@blp.route("/statements.csv", methods=["GET"])
@blp.rules(*RULES)
@api_key_required("advertiser", "webmaster", "admin")
@blp.arguments(StatementQuerySchema, location="query")
@blp.doc(responses=CSV_BODY)
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
