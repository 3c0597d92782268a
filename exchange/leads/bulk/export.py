"""The leads' CSV: each role's columns (an advertiser's lead fields after them; each code's
words in a ``*_text`` column beside it, for the person who reads the file), cells a
spreadsheet cannot run as formulas, written line by line. Used by the streamed export
(bulk/api.py) and by the export that runs as a task (exchange/longjobs/exports.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from exchange import clock
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.words import word

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

WEBMASTER_COLUMNS = (
    "id", "status", "status_text", "reason_codes", "reasons_text", "offer_id",
    "sub1", "sub2", "sub3", "sub4", "sub5",
    "currency", "payout_minor", "txid", "sale_amount_minor", "created_at", "hold_until",
)  # fmt: skip
ADVERTISER_COLUMNS = (
    "id", "status", "status_text", "reason_codes", "reasons_text", "offer_id", "webmaster_id",
    "sub1", "sub2", "sub3", "sub4", "sub5",
    "currency", "rate_minor", "payout_minor", "score", "temperature", "txid", "sale_amount_minor",
    "created_at", "review_deadline", "approved_at", "decision_note",
)  # fmt: skip

# For the person reading the file: the words of the codes beside them (exchange/words.py);
# a lead reinstated on appeal says so, as on the pages.
TEXT_COLUMNS: dict[str, Callable[[Lead], str]] = {
    "status_text": lambda lead: word("lead_status", lead.status),
    "reasons_text": lambda lead: (
        word("lead_action", "reinstate")
        if lead.reinstated_at and lead.status != "rejected"
        else "; ".join(word("reason", code) for code in lead.reason_codes or ())
    ),
}


def safe_cell(value: object) -> str:
    """A cell as text, with a leading quote where a spreadsheet would see a formula."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ",".join(str(item) for item in value)
    text = clock.isoformat(value) if isinstance(value, date) else str(value)
    if not isinstance(value, int | float) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    yield drain(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield drain(buffer)


def drain(buffer: io.StringIO) -> str:
    """What the writer put in ``buffer`` since the last drain (the buffer is emptied)."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _field_names(user: User, offer_id: int | None) -> list[str]:
    """The advertiser's lead fields: those of the offer asked for, or of all its offers."""
    query = select(Offer.fields).where(Offer.advertiser_id == user.id).order_by(Offer.id)
    if offer_id:
        query = query.where(Offer.id == offer_id)
    names: dict[str, None] = {}
    for fields in db.session.scalars(query):
        for spec in fields or ():
            names.setdefault(spec["name"], None)
    return list(names)


@dataclass(frozen=True)
class LeadCsvLayout:
    """The export's columns for one user: its role's, then the lead fields (advertisers)."""

    columns: tuple[str, ...]
    field_names: tuple[str, ...]

    @property
    def header(self) -> list[str]:
        return [*self.columns, *(f"field_{name}" for name in self.field_names)]

    def row(self, lead: Lead) -> list:
        fields = lead.fields or {}
        cells = [
            TEXT_COLUMNS[column](lead) if column in TEXT_COLUMNS else getattr(lead, column)
            for column in self.columns
        ]
        return cells + [fields.get(name) for name in self.field_names]


def lead_csv_layout(user: User, offer_id: int | None) -> LeadCsvLayout:
    """Also used by the export that runs as a task (exchange/longjobs)."""
    if user.role == "advertiser":
        return LeadCsvLayout(ADVERTISER_COLUMNS, tuple(_field_names(user, offer_id)))
    return LeadCsvLayout(WEBMASTER_COLUMNS, ())
