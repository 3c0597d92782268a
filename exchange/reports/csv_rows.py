"""A report's rows as CSV: money columns in major units (``spend`` for ``spend_minor``),
text a spreadsheet cannot run as a formula. The API's download, the report pages' and the
report export task (exchange/longjobs/exports.py) write the same CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from billing.statements.csv_rows import text
from billing.statements.domain import major_units
from exchange import clock
from exchange.reports.domain import MONEY_COLUMNS


def csv_names(columns: tuple[str, ...]) -> list[str]:
    return [name.removesuffix("_minor") if name in MONEY_COLUMNS else name for name in columns]


def csv_rows(rows: Iterator[dict], header: list[str]) -> Iterator[list]:
    for row in rows:
        currency = row["currency"]
        values = {
            (name.removesuffix("_minor") if name in MONEY_COLUMNS else name): (
                major_units(value, currency) if name in MONEY_COLUMNS else value
            )
            for name, value in row.items()
        }
        yield [_csv_value(values[name]) for name in header]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return text(value)
    return clock.isoformat(value) if isinstance(value, date) else value
