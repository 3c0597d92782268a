"""The webmaster's dashboard figures: clicks, leads, CR, EPC and earnings over the last
30 days, with clicks and leads per day for the chart. Read-only queries over its own rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from billing.services import balances_of
from exchange import clock
from exchange.extensions import db
from exchange.leads.domain import APPROVED
from exchange.leads.models import Lead
from exchange.tracking.models import Click

PERIOD_DAYS = 30


@dataclass(frozen=True)
class Earnings:
    currency: str
    approved_minor: int = 0  # payouts of the leads approved in the period
    epc_minor: int | None = None  # approved payouts per click, rounded to the minor unit
    hold_minor: int = 0
    available_minor: int = 0


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    clicks: int
    leads: int
    approved: int
    cr_percent: float | None  # leads / clicks
    days: list[dict] = field(default_factory=list)  # {"day", "clicks", "leads"}, oldest first
    earnings: list[Earnings] = field(default_factory=list)


def dashboard_of(webmaster_id: int) -> Dashboard:
    today = clock.now().date()
    first = today - timedelta(days=PERIOD_DAYS - 1)
    since = datetime.combine(first, datetime.min.time())
    clicks = _per_day(Click, webmaster_id, since)
    leads = _per_day(Lead, webmaster_id, since)
    days = [
        {"day": day.isoformat(), "clicks": clicks.get(day, 0), "leads": leads.get(day, 0)}
        for day in (first + timedelta(days=n) for n in range(PERIOD_DAYS))
    ]
    total_clicks, total_leads = sum(clicks.values()), sum(leads.values())
    approved = _approved(webmaster_id, since)
    return Dashboard(
        since=since,
        clicks=total_clicks,
        leads=total_leads,
        approved=sum(count for count, _ in approved.values()),
        cr_percent=round(100 * total_leads / total_clicks, 2) if total_clicks else None,
        days=days,
        earnings=_earnings(webmaster_id, approved, total_clicks),
    )


def _per_day(model, webmaster_id: int, since: datetime) -> dict[date, int]:
    day = func.date(model.created_at)
    rows = db.session.execute(
        select(day, func.count())
        .where(model.webmaster_id == webmaster_id, model.created_at >= since)
        .group_by(day)
    )
    return {_as_date(value): count for value, count in rows}


def _as_date(value) -> date:
    """SQLite answers ``date()`` with text, PostgreSQL with a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _approved(webmaster_id: int, since: datetime) -> dict[str, tuple[int, int]]:
    """Leads approved in the period, by currency: (count, payouts in minor units)."""
    rows = db.session.execute(
        select(Lead.currency, func.count(), func.coalesce(func.sum(Lead.payout_minor), 0))
        .where(Lead.webmaster_id == webmaster_id, Lead.status == APPROVED, Lead.approved_at >= since)
        .group_by(Lead.currency)
    )
    return {currency: (count, int(total)) for currency, count, total in rows if currency}


def _earnings(webmaster_id: int, approved: dict[str, tuple[int, int]], clicks: int) -> list[Earnings]:
    accounts: dict[str, dict[str, int]] = {}
    for account in balances_of(webmaster_id):  # hold: all of it; available: less payouts asked
        figure = account.posted_minor if account.purpose == "hold" else account.available_minor
        accounts.setdefault(account.currency, {})[account.purpose] = figure
    currencies = sorted(set(accounts) | set(approved))
    earnings = []
    for currency in currencies:
        total = approved.get(currency, (0, 0))[1]
        earnings.append(
            Earnings(
                currency=currency,
                approved_minor=total,
                epc_minor=round(total / clicks) if clicks else None,
                hold_minor=accounts.get(currency, {}).get("hold", 0),
                available_minor=accounts.get(currency, {}).get("available", 0),
            )
        )
    return earnings
