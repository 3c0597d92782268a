"""The platform's revenue report: margin by offer (or exchange vertical), webmaster or day
(docs/money.md).

Computed from the posted margin legs on ``platform:revenue:<CUR>``: each
approved lead's ``lead:N:approve:margin`` and each approved exchange sale's
``sale:N:approve:margin`` (credited) less each returned lead's
``lead:N:return:margin`` and each returned sale's ``sale:N:return:margin`` (debited
back), dated when they were posted and
joined to their leads. These are the only transfers that change the revenue
account's posted balance, so the report's net total over a range is that
balance's change over the range. Leads without a margin have no margin legs
and do not appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, and_, case, cast, func, literal, or_, select

from billing.domain import POST_PENDING, POSTED, platform
from billing.models import Account, Transfer
from billing.statements.domain import day_range
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.verticals.models import Vertical

GROUPS = ("offer", "webmaster", "day")


@dataclass(frozen=True)
class RevenueRow:
    key: str  # the offer's id (vertical-<id> for the exchange), the webmaster's id, or the day
    label: str  # the offer's name, the webmaster's email, or the day
    leads_approved: int
    margin_minor: int
    leads_returned: int
    returned_minor: int

    @property
    def net_minor(self) -> int:
        return self.margin_minor - self.returned_minor


@dataclass(frozen=True)
class RevenueReport:
    currency: str
    first: date
    last: date
    group_by: str
    total: RevenueRow
    rows: list[RevenueRow]
    groups: int  # rows in the whole report (``rows`` is one page)
    page: int
    per_page: int | None


def revenue_report(
    currency: str, first: date, last: date, group_by: str, *, page: int = 1, per_page: int | None = None
) -> RevenueReport:
    """Margin per group over the UTC days ``first`` to ``last`` (both included); every
    group when ``per_page`` is None (the CSV), else one page of them."""
    account_id = db.session.scalar(
        select(Account.id).where(Account.code == platform("revenue", currency).code)
    )
    empty = RevenueRow("total", "Total", 0, 0, 0, 0)
    if account_id is None:
        return RevenueReport(currency, first, last, group_by, empty, [], 0, page, per_page)
    legs = _Legs(account_id, first, last)
    key, label = _grouping(group_by)
    grouped = legs.select(key.label("key"), label.label("label")).group_by(key, label)
    if group_by == "day":
        grouped = grouped.order_by(key)
    else:
        grouped = grouped.order_by((legs.margin - legs.returned).desc(), key)
    groups = db.session.scalar(select(func.count()).select_from(grouped.order_by(None).subquery()))
    if per_page is not None:
        grouped = grouped.limit(per_page).offset((page - 1) * per_page)
    rows = [_row(str(row.key), str(row.label), row) for row in db.session.execute(grouped)]
    (total,) = db.session.execute(legs.select())
    return RevenueReport(
        currency, first, last, group_by, _row("total", "Total", total), rows, groups, page, per_page
    )


class _Legs:
    """The range's margin legs on the revenue account, joined to their leads, as sums."""

    def __init__(self, account_id: int, first: date, last: date):
        start, end = day_range(first, last)
        self.is_margin = and_(
            Transfer.credit_account_id == account_id,
            Transfer.kind == POST_PENDING,
            or_(Transfer.id.like("lead:%:approve:margin"), Transfer.id.like("sale:%:approve:margin")),
        )
        self.is_return = and_(
            Transfer.debit_account_id == account_id,
            Transfer.kind == POSTED,
            or_(Transfer.id.like("lead:%:return:margin"), Transfer.id.like("sale:%:return:margin")),
        )
        self.where = (
            or_(self.is_margin, self.is_return),
            Transfer.created_at >= start,
            Transfer.created_at < end,
        )
        self.margin = func.coalesce(func.sum(case((self.is_margin, Transfer.amount_minor), else_=0)), 0)
        self.returned = func.coalesce(func.sum(case((self.is_return, Transfer.amount_minor), else_=0)), 0)

    def select(self, *columns):
        return (
            select(
                *columns,
                func.coalesce(func.sum(case((self.is_margin, 1), else_=0)), 0).label("leads_approved"),
                self.margin.label("margin_minor"),
                func.coalesce(func.sum(case((self.is_return, 1), else_=0)), 0).label("leads_returned"),
                self.returned.label("returned_minor"),
            )
            .select_from(Transfer)
            .join(Lead, Lead.id == Transfer.lead_id)
            .outerjoin(Offer, Offer.id == Lead.offer_id)
            .outerjoin(Vertical, Vertical.id == Lead.vertical_id)
            .join(User, User.id == Lead.webmaster_id)
            .where(*self.where)
        )


def _grouping(group_by: str) -> tuple:
    if group_by == "offer":  # an exchange lead has a vertical instead: "vertical-<id>"
        key = case(
            (Lead.offer_id.is_not(None), cast(Lead.offer_id, String)),
            else_=literal("vertical-") + cast(Lead.vertical_id, String),
        )
        label = case((Lead.offer_id.is_not(None), Offer.name), else_=literal("Exchange: ") + Vertical.name)
        return key, label
    if group_by == "webmaster":
        return Lead.webmaster_id, User.email
    if group_by == "day":
        day = func.date(Transfer.created_at)
        return day, day
    raise ValueError(f"group_by is one of {', '.join(GROUPS)}")


def _row(key: str, label: str, row) -> RevenueRow:
    return RevenueRow(
        key=key,
        label=label,
        leads_approved=int(row.leads_approved),
        margin_minor=int(row.margin_minor),
        leads_returned=int(row.leads_returned),
        returned_minor=int(row.returned_minor),
    )
