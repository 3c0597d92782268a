"""The advertiser's dashboard figures, read from the ledger and the leads: what it spent,
its leads by status, its approval rate, and approved and rejected leads per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from billing.domain import POST_PENDING
from billing.models import Account, Transfer
from billing.statements.schemas import this_month
from exchange import clock
from exchange.extensions import db
from exchange.leads.domain import APPROVED, REJECTED, RETURNED, STATES
from exchange.leads.models import Lead

CHART_DAYS = 30


@dataclass(frozen=True)
class Spend:
    """One currency's lead charges posted from the available account, less returns."""

    currency: str
    charged_month_minor: int
    returned_month_minor: int
    charged_all_minor: int
    returned_all_minor: int

    @property
    def net_month_minor(self) -> int:
        return self.charged_month_minor - self.returned_month_minor

    @property
    def net_all_minor(self) -> int:
        return self.charged_all_minor - self.returned_all_minor


def spend_of(advertiser_id: int) -> list[Spend]:
    """Charges are the posted resolutions of lead reservations debiting the advertiser's
    available account; returns are the lead transfers crediting it back."""
    month_start = this_month().start
    accounts = select(Account.id).where(Account.owner_id == advertiser_id, Account.purpose == "available")
    charged = _sums(
        Transfer.debit_account_id.in_(accounts), Transfer.kind == POST_PENDING, month_start=month_start
    )
    returned = _sums(
        Transfer.credit_account_id.in_(accounts), Transfer.id.like("lead:%:return:%"), month_start=month_start
    )
    currencies = sorted(set(charged) | set(returned))
    return [
        Spend(
            currency=currency,
            charged_month_minor=charged.get(currency, (0, 0))[0],
            returned_month_minor=returned.get(currency, (0, 0))[0],
            charged_all_minor=charged.get(currency, (0, 0))[1],
            returned_all_minor=returned.get(currency, (0, 0))[1],
        )
        for currency in currencies
    ]


def _sums(*conditions, month_start: datetime) -> dict[str, tuple[int, int]]:
    """Per currency: (this month's total, the total of all time) of lead transfers."""
    this_month_amount = func.sum(Transfer.amount_minor).filter(Transfer.created_at >= month_start)
    rows = db.session.execute(
        select(Transfer.currency, this_month_amount, func.sum(Transfer.amount_minor))
        .where(Transfer.lead_id.is_not(None), *conditions)
        .group_by(Transfer.currency)
    )
    return {currency: (int(month or 0), int(total or 0)) for currency, month, total in rows}


def status_counts(advertiser_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Lead.status, func.count()).where(Lead.advertiser_id == advertiser_id).group_by(Lead.status)
    )
    found = dict(rows.all())
    return {status: int(found.get(status, 0)) for status in STATES}


def approval_rate(advertiser_id: int) -> float | None:
    """Approved (returned ones included) over every lead decided after validation accepted it;
    None before the first decision."""
    decided = db.session.execute(
        select(Lead.status, func.count())
        .where(
            Lead.advertiser_id == advertiser_id,
            Lead.accepted_at.is_not(None),
            Lead.status.in_((APPROVED, RETURNED, REJECTED)),
        )
        .group_by(Lead.status)
    )
    counts = dict(decided.all())
    total = sum(counts.values())
    if not total:
        return None
    return (counts.get(APPROVED, 0) + counts.get(RETURNED, 0)) / total


def daily_decisions(advertiser_id: int, days: int = CHART_DAYS) -> list[dict]:
    """One row per day of the last ``days`` (UTC), oldest first: leads approved and rejected."""
    today = clock.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time())
    approved = _per_day(advertiser_id, Lead.approved_at, start)
    rejected = _per_day(advertiser_id, Lead.rejected_at, start)
    rows = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        rows.append({"day": day, "approved": approved.get(day, 0), "rejected": rejected.get(day, 0)})
    return rows


def _per_day(advertiser_id: int, column, start: datetime) -> dict[str, int]:
    day = func.date(column)
    rows = db.session.execute(
        select(day, func.count()).where(Lead.advertiser_id == advertiser_id, column >= start).group_by(day)
    )
    return {_day_text(value): int(count) for value, count in rows}


def _day_text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]
