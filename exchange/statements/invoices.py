"""Advertiser invoices: a month's charges per offer, less the month's returns, and the
month's exchange purchases per vertical, less theirs (docs/money.md). What a charge and a
return are is said here once: the dashboards' spend (``spend_between``) counts the same.

An invoice is computed, not stored: the charges are the approved leads'
posted legs (``lead:N:approve:*``, which sum to the lead's rate; ``sale:N:approve:*``
for a sale) debited from the advertiser's available account in the month, the returns
the ``lead:N:return:*`` and ``sale:N:return:*`` legs credited back to it in the month. A
lead approved in one month and returned in the next is charged on the first invoice and
credited on the second. Top-ups received in the month are listed beside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from billing.domain import POST_PENDING, POSTED, advertiser_available
from billing.models import Account, Transfer
from billing.statements.domain import Month, invoice_number, parse_invoice_number
from exchange import clock
from exchange.accounts.models import User
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.verticals.models import Vertical

CHARGES = (POST_PENDING, "lead:%:approve:%")
RETURNS = (POSTED, "lead:%:return:%")
SALE_CHARGES = (POST_PENDING, "sale:%:approve:%")  # an exchange sale is charged at its approval
SALE_RETURNS = (POSTED, "sale:%:return:%")  # a return upheld after the approval: money back


@dataclass
class Charges:
    """What one offer's leads (or one vertical's, bought on the exchange: a rejected sale is
    voided, never charged) were charged in the month, and returned after approval."""

    id: int
    name: str
    leads_charged: int = 0
    charged_minor: int = 0
    leads_returned: int = 0
    returned_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.charged_minor - self.returned_minor


@dataclass(frozen=True)
class TopupLine:
    at: datetime
    reference: str
    amount_minor: int


@dataclass(frozen=True)
class Invoice:
    number: str
    advertiser_id: int
    advertiser_name: str
    month: Month
    currency: str
    final: bool  # the month is over: the invoice will not change
    offers: list[Charges] = field(default_factory=list)
    topups: list[TopupLine] = field(default_factory=list)
    exchange: list[Charges] = field(default_factory=list)

    @property
    def leads_charged(self) -> int:
        return sum(row.leads_charged for row in [*self.offers, *self.exchange])

    @property
    def leads_returned(self) -> int:
        return sum(row.leads_returned for row in [*self.offers, *self.exchange])

    @property
    def charged_minor(self) -> int:
        return sum(row.charged_minor for row in [*self.offers, *self.exchange])

    @property
    def returned_minor(self) -> int:
        return sum(row.returned_minor for row in [*self.offers, *self.exchange])

    @property
    def total_minor(self) -> int:
        """What the month cost the advertiser: charges less returns."""
        return self.charged_minor - self.returned_minor

    @property
    def topups_minor(self) -> int:
        return sum(row.amount_minor for row in self.topups)

    @property
    def empty(self) -> bool:
        return not self.offers and not self.topups and not self.exchange


def invoice_for(advertiser: User, month: Month, currency: str) -> Invoice:
    account_id = db.session.scalar(
        select(Account.id).where(Account.code == advertiser_available(advertiser.id, currency).code)
    )
    return Invoice(
        number=invoice_number(advertiser.id, month, currency),
        advertiser_id=advertiser.id,
        advertiser_name=advertiser.name,
        month=month,
        currency=currency,
        final=month.end <= clock.now(),
        offers=_offer_rows(account_id, month) if account_id else [],
        topups=_topups(account_id, month) if account_id else [],
        exchange=_vertical_rows(account_id, month) if account_id else [],
    )


def invoices_of(advertiser: User, month: Month, currency: str | None = None) -> list[Invoice]:
    """The month's invoices, one per currency with charges, returns or top-ups in it."""
    query = select(Account.currency).where(Account.owner_id == advertiser.id, Account.purpose == "available")
    if currency:
        query = query.where(Account.currency == currency)
    invoices = [
        invoice_for(advertiser, month, code) for code in db.session.scalars(query.order_by(Account.currency))
    ]
    return [invoice for invoice in invoices if not invoice.empty]


def invoice_by_number(number: str, *, viewer: User) -> Invoice:
    """The invoice ``number`` names, for its own advertiser or an admin; 404 for anyone else,
    a number that names nothing, and a month that has not begun."""
    try:
        advertiser_id, month, currency = parse_invoice_number(number)
    except ValueError:
        raise NotFound("No such invoice.") from None
    if viewer.role != "admin" and viewer.id != advertiser_id:
        raise NotFound("No such invoice.")
    advertiser = db.session.get(User, advertiser_id)
    if advertiser is None or advertiser.role != "advertiser" or month.start > clock.now():
        raise NotFound("No such invoice.")
    return invoice_for(advertiser, month, currency)


def _offer_rows(account_id: int, month: Month) -> list[Charges]:
    return _charge_rows(account_id, month, CHARGES, RETURNS, by=(Offer, Lead.offer_id))


def _legs(
    account_id: int, month: Month, kind: str, pattern: str, *, debit: bool, by: tuple = (Offer, Lead.offer_id)
) -> list[tuple]:
    """(id, name, leads, amount) of the month's legs of one kind on the account, by offer
    (or ``by`` another table the lead refers to: the vertical)."""
    side = Transfer.debit_account_id if debit else Transfer.credit_account_id
    table, lead_column = by
    query = (
        select(
            table.id,
            table.name,
            func.count(func.distinct(Transfer.lead_id)),
            func.sum(Transfer.amount_minor),
        )
        .select_from(Transfer)
        .join(Lead, Lead.id == Transfer.lead_id)
        .join(table, table.id == lead_column)
        .where(
            side == account_id,
            Transfer.kind == kind,
            Transfer.id.like(pattern),
            Transfer.created_at >= month.start,
            Transfer.created_at < month.end,
        )
        .group_by(table.id, table.name)
        .order_by(table.id)
    )
    return [(row_id, name, leads, int(amount)) for row_id, name, leads, amount in db.session.execute(query)]


def _vertical_rows(account_id: int, month: Month) -> list[Charges]:
    # a buyer buys a consumer once: a sale's lead counts once
    by = (Vertical, Lead.vertical_id)
    return _charge_rows(account_id, month, SALE_CHARGES, SALE_RETURNS, by=by)


def _charge_rows(
    account_id: int, month: Month, charges: tuple, returns: tuple, *, by: tuple
) -> list[Charges]:
    """One row per offer (or vertical) with the month's charges and returns on the account."""
    rows: dict[int, Charges] = {}
    for row_id, name, leads, amount in _legs(account_id, month, *charges, debit=True, by=by):
        row = rows.setdefault(row_id, Charges(row_id, name))
        row.leads_charged, row.charged_minor = leads, amount
    for row_id, name, leads, amount in _legs(account_id, month, *returns, debit=False, by=by):
        row = rows.setdefault(row_id, Charges(row_id, name))
        row.leads_returned, row.returned_minor = leads, amount
    return [rows[row_id] for row_id in sorted(rows)]


@dataclass(frozen=True)
class Spend:
    """One currency's charges and returns over a period, as the invoices count them."""

    currency: str
    charged_minor: int
    returned_minor: int

    @property
    def net_minor(self) -> int:
        return self.charged_minor - self.returned_minor


def spend_between(advertiser_id: int, start: datetime | None, end: datetime) -> dict[str, Spend]:
    """Per currency, what the advertiser was charged from ``start`` (None: ever) to ``end``
    and what was returned to it: the invoices of the months in between, added up."""
    accounts = select(Account.id).where(Account.owner_id == advertiser_id, Account.purpose == "available")
    sums: dict[str, list[int]] = {}
    for (kind, pattern), debit, index in (
        (CHARGES, True, 0),
        (SALE_CHARGES, True, 0),
        (RETURNS, False, 1),
        (SALE_RETURNS, False, 1),
    ):
        side = Transfer.debit_account_id if debit else Transfer.credit_account_id
        query = (
            select(Transfer.currency, func.sum(Transfer.amount_minor))
            .where(
                side.in_(accounts),
                Transfer.kind == kind,
                Transfer.id.like(pattern),
                Transfer.created_at < end,
            )
            .group_by(Transfer.currency)
        )
        if start is not None:
            query = query.where(Transfer.created_at >= start)
        for currency, amount in db.session.execute(query):
            sums.setdefault(currency, [0, 0])[index] += int(amount)
    return {currency: Spend(currency, *sums[currency]) for currency in sorted(sums)}


def _topups(account_id: int, month: Month) -> list[TopupLine]:
    query = (
        select(Transfer.created_at, Transfer.id, Transfer.amount_minor)
        .where(
            Transfer.credit_account_id == account_id,
            Transfer.kind == POSTED,
            Transfer.id.like("topup:%"),
            Transfer.created_at >= month.start,
            Transfer.created_at < month.end,
        )
        .order_by(Transfer.created_at, Transfer.id)
    )
    return [
        TopupLine(at, transfer_id.removeprefix("topup:"), amount)
        for at, transfer_id, amount in db.session.execute(query)
    ]
