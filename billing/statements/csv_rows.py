"""Statements as CSV (and the helpers every CSV of money uses): amounts in major units with the currency's
exact decimals (``-1234.56``; never a float), streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

from billing.domain import Balance
from billing.statements.domain import Line, Month, major_units
from billing.statements.services import StatementAccount
from exchange import clock

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

STATEMENT_HEADER = (
    "date", "id", "description", "direction", "counterparty", "kind", "amount",
    "posted_balance", "available_balance", "currency", "lead_id", "payout_id",
)  # fmt: skip


def text(value: object) -> str:
    """Free text (names, references) with a leading quote where a spreadsheet would see a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def statement_rows(
    account: StatementAccount, opening: Balance, lines: Iterable[tuple[Line, Balance]]
) -> Iterator[list]:
    """An opening row, one row per transfer, a closing row (the balance after the last)."""
    currency = account.currency
    yield _balance_row("Opening balance", opening, currency)
    closing = opening
    for line, after in lines:
        closing = after
        entry = line.entry
        yield [
            clock.isoformat(entry.at),
            text(entry.transfer_id),
            text(entry.description),
            entry.direction,
            entry.counterparty,
            entry.kind,
            major_units(entry.amount_minor, currency),
            major_units(line.posted_minor, currency),
            major_units(line.available_minor, currency),
            currency,
            entry.lead_id or "",
            entry.payout_id or "",
        ]
    yield _balance_row("Closing balance", closing, currency)


def _balance_row(words: str, balance: Balance, currency: str) -> list:
    posted, available = major_units(balance.posted, currency), major_units(balance.available, currency)
    return ["", "", words, "", "", "", "", posted, available, currency, "", ""]


def csv_response(header: Iterable[str], rows: Iterable[list], filename: str) -> Response:
    response = Response(stream_with_context(_lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def statement_filename(account: StatementAccount, month: Month) -> str:
    return f"statement-{account.code.replace(':', '-')}-{month}.csv"


def _lines(header: Iterable[str], rows: Iterable[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        yield _drain(buffer)
        writer.writerow(row)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value
