"""A buyer's purchases as CSV, the third way a sale delivers its lead (after the signed post
and ``GET /api/v1/sales``): one row per sale, newest first, the lead as ``lead_for_buyer``
shows it (a rejected, voided or returned sale: its lead's columns empty, as there).

Money in major units with the currency's decimals and text a spreadsheet cannot run as a
formula: billing's CSV of money, as the reports and statements write it. Every matching
sale, streamed in batches (no pages, no cap), as the leads' and the audit log's exports.
The API's download and the Purchases page's are this one function.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Response
from sqlalchemy import Select, select

from billing.statements.csv_rows import csv_response, text
from billing.statements.domain import major_units
from exchange import clock
from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.buying.sales import filtered_sales, lead_for_buyer
from exchange.extensions import db
from exchange.leads.bulk.export import safe_cell
from exchange.leads.models import Lead
from exchange.verticals.models import Vertical

SALE_COLUMNS = (
    "sale_id", "lead_id", "vertical", "bought_at", "status", "post_status", "exclusive",
    "currency", "price", "score", "temperature", "country",
)  # fmt: skip
EXPORT_BATCH = 500


def purchases_csv(buyer: User, args: dict) -> Response:
    """``buyer``'s sales that ``args`` (``SaleCsvQuerySchema``) keep, as a streamed download."""
    query = filtered_sales(buyer, args)
    verticals = _verticals_of(query)
    field_names = _field_names(verticals.values())
    header = [*SALE_COLUMNS, *(f"field_{name}" for name in field_names)]
    # Each sale with its lead in one query: ``lead_for_buyer`` then finds the lead in the
    # session instead of asking the database once per row.
    rows_query = (
        query.add_columns(Lead)
        .join(Lead, Lead.id == Sale.lead_id)
        .order_by(Sale.id.desc())
        .execution_options(yield_per=EXPORT_BATCH)
    )

    def rows() -> Iterator[list]:
        # Read while the response streams, on the session of the context stream_with_context
        # pushes again (exchange/leads/bulk/api.py says why).
        for sale, _lead in db.session.execute(rows_query):
            yield purchase_row(sale, verticals[sale.vertical_id], field_names)

    return csv_response(header, rows(), "purchases.csv")


def purchase_row(sale: Sale, vertical: Vertical, field_names: list[str]) -> list:
    lead = lead_for_buyer(sale)
    fields = lead.get("fields") or {}  # erased personal data leaves none (docs/privacy.md)
    return [
        sale.id,
        sale.lead_id,
        text(vertical.name),
        clock.isoformat(sale.created_at),
        sale.status,
        sale.post_status,
        sale.exclusive,
        sale.currency,
        major_units(sale.price_minor, sale.currency),
        *(safe_cell(lead.get(name)) for name in ("score", "temperature", "country")),
        *(safe_cell(fields.get(name)) for name in field_names),
    ]


def _verticals_of(query: Select) -> dict[int, Vertical]:
    """The verticals of the sales ``query`` selects, by id."""
    ids = query.with_only_columns(Sale.vertical_id).distinct()
    found = db.session.scalars(select(Vertical).where(Vertical.id.in_(ids)).order_by(Vertical.id))
    return {vertical.id: vertical for vertical in found}


def _field_names(verticals: Iterable[Vertical]) -> list[str]:
    """One column per field of the verticals' field specs, each name once, in the verticals'
    order: a buyer of two verticals gets both sets, a row empty where its vertical has none."""
    names: dict[str, None] = {}
    for vertical in verticals:
        for spec in vertical.fields or ():
            names.setdefault(spec["name"], None)
    return list(names)
