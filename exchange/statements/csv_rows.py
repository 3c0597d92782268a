"""The revenue report as CSV, in billing's CSV of money (amounts in major units, formulas
neutralised, streamed)."""

from __future__ import annotations

from collections.abc import Iterator

from billing.statements.csv_rows import text
from billing.statements.domain import major_units
from exchange.statements.revenue import RevenueReport, RevenueRow

REVENUE_HEADER = (
    "key", "label", "leads_approved", "margin", "leads_returned", "returned", "net", "currency",
)  # fmt: skip


def revenue_rows(report: RevenueReport) -> Iterator[list]:
    """One row per group, then the total."""
    for row in [*report.rows, report.total]:
        yield _revenue_row(row, report.currency)


def _revenue_row(row: RevenueRow, currency: str) -> list:
    return [
        text(row.key),
        text(row.label),
        row.leads_approved,
        major_units(row.margin_minor, currency),
        row.leads_returned,
        major_units(row.returned_minor, currency),
        major_units(row.net_minor, currency),
        currency,
    ]


def revenue_filename(report: RevenueReport) -> str:
    return f"revenue-{report.currency}-{report.first}-{report.last}-by-{report.group_by}.csv"
