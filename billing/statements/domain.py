"""Statements, invoices and the revenue report: the rules, as plain Python.

A statement walks one account's transfers in time order and carries two
running figures after each (the ledger's own definitions, billing/domain.py):

- ``posted``: credits_posted - debits_posted, the money that has moved;
- ``available``: posted less the reservations still open against the account
  (its pending debits), what the owner may spend or withdraw.

A pending debit lowers ``available`` at once and ``posted`` when it is posted;
voiding it gives ``available`` back. A pending credit changes neither until it
is posted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billing.domain import Balance, apply_credit, apply_debit
from exchange.money import MINOR_DIGITS

MONTH_PATTERN = re.compile(r"\A(\d{4})-(\d{2})\Z")
INVOICE_PATTERN = re.compile(r"\AINV-([1-9]\d{0,9})-(\d{4}-\d{2})-([A-Z]{3})\Z")

# Where a transfer stands in the life of its lead or payout: transfers recorded at the
# same instant are shown in this order (a reservation before its posting, a posting
# before the hold it fills is released or returned, a payout before its settlement).
# (SQL LIKE pattern, stage), first match wins.
STAGES: tuple[tuple[str, int], ...] = (
    ("topup:%", 0),
    ("lead:%:reserve:%", 2),
    ("lead:%:approve:%", 3),
    ("lead:%:void:%", 3),
    ("lead:%:hold-release", 4),
    ("lead:%:return:%", 4),
    ("debt-repayment:%", 5),  # after the money (a top-up, a void, a return) that repays it
    ("payout:%:paid", 6),
    ("payout:%:failed", 6),
    ("payout:%", 5),
)
UNKNOWN_STAGE = 7


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC; ``start`` inclusive, ``end`` exclusive (naive UTC)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.year <= 9998 and 1 <= self.month <= 12):
            raise ValueError("a month like 2026-01")

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH_PATTERN.match(text or "")
        if not match:
            raise ValueError("a month like 2026-01")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return self.next().start

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return self.label


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Whole UTC days ``first`` to ``last`` (both included) as [start, end)."""
    return datetime(first.year, first.month, first.day), datetime(
        last.year, last.month, last.day
    ) + timedelta(days=1)


@dataclass(frozen=True)
class Entry:
    """One transfer as one of its two accounts sees it."""

    at: datetime
    transfer_id: str
    kind: str
    amount_minor: int
    direction: str  # "in" (credits the account) or "out" (debits it)
    counterparty: str  # the other account's owner kind: advertiser, webmaster, platform
    lead_id: int | None = None
    payout_id: int | None = None
    pending_id: str | None = None

    @property
    def description(self) -> str:
        return describe(self.transfer_id, self.direction)


@dataclass(frozen=True)
class Line:
    entry: Entry
    posted_minor: int  # the running posted balance after this transfer
    available_minor: int  # the running available balance after this transfer


def apply_entry(balance: Balance, entry: Entry) -> Balance:
    if entry.direction == "out":
        return apply_debit(balance, entry.kind, entry.amount_minor)
    return apply_credit(balance, entry.kind, entry.amount_minor)


def running_lines(opening: Balance, entries: Iterable[Entry]) -> Iterator[tuple[Line, Balance]]:
    """Each entry with the balances after it, and the balance to carry on from."""
    balance = opening
    for entry in entries:
        balance = apply_entry(balance, entry)
        yield Line(entry, balance.posted, balance.available), balance


def describe(transfer_id: str, direction: str) -> str:
    """A person's words for a transfer, from its id (billing/plans.py names them)."""
    parts = transfer_id.split(":")
    if parts[0] == "topup" and len(parts) >= 2:
        if parts[1] == "dispute" and parts[-1] == "reinstated":
            return f"Dispute {':'.join(parts[2:-1])} won: reinstated"
        return f"Top-up {transfer_id.partition(':')[2]}"
    if parts[0] == "debt-repayment":
        return "Debt repaid"
    if parts[0] in ("refund", "dispute") and len(parts) >= 2:
        owed = " (owed as debt)" if parts[-1] == "debt" else ""
        what = f"Refund of {parts[1]}" if parts[0] == "refund" else f"Dispute {parts[1]} withdrawn"
        return what + owed
    if parts[0] == "lead" and len(parts) >= 3 and parts[1].isdigit():
        return _lead_words(parts[1], parts[2], direction)
    if parts[0] == "payout" and len(parts) in (2, 3) and parts[1].isdigit():
        verb = "requested" if len(parts) == 2 else {"paid": "paid", "failed": "failed"}.get(parts[2])
        if verb:
            return f"Payout {parts[1]} {verb}"
    return transfer_id


def _lead_words(lead_id: str, verb: str, direction: str) -> str:
    words = {
        "reserve": "reserved",
        "approve": "charge" if direction == "out" else "approved",
        "void": "released (rejected)",
        "hold-release": "hold released",
        "return": "returned",
    }.get(verb)
    return f"Lead {lead_id} {words}" if words else f"Lead {lead_id} {verb}"


def major_units(amount_minor: int, currency: str) -> str:
    """``-123456, "USD"`` -> ``"-1234.56"``: exact, the currency's decimals, no grouping."""
    digits = MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}" + (f".{fraction:0{digits}d}" if digits else "")


def invoice_number(advertiser_id: int, month: Month, currency: str) -> str:
    """Stable: the same advertiser, month and currency always get the same number."""
    return f"INV-{advertiser_id}-{month.label}-{currency}"


def parse_invoice_number(number: str) -> tuple[int, Month, str]:
    """The advertiser id, month and currency an invoice number names. Raises ValueError."""
    match = INVOICE_PATTERN.match(number or "")
    if not match:
        raise ValueError("an invoice number like INV-12-2026-01-USD")
    return int(match[1]), Month.parse(match[2]), match[3]
