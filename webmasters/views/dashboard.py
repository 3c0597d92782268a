"""The webmaster's dashboard figures: clicks, leads, CR, approved leads, EPC and earnings
over the last 30 days, with clicks and leads per day for the chart, read from the report
rollups (as fresh as the last fold, 30 s at most; never a scan of the raw clicks); what is
on hold and available, from the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from billing.services import balances_of
from exchange import clock
from exchange.accounts.models import User
from exchange.reports.domain import epc_text, ratio
from exchange.reports.query import report

PERIOD_DAYS = 30


@dataclass(frozen=True)
class Earnings:
    currency: str
    approved_minor: int = 0  # payouts of the approved leads received in the period
    epc: Decimal | None = None  # those payouts per click on the currency's offers, major units
    hold_minor: int = 0
    available_minor: int = 0

    @property
    def epc_text(self) -> str:
        return epc_text(self.epc, self.currency)


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    clicks: int
    leads: int
    approved: int  # leads received in the period that are approved now
    cr_percent: float | None  # leads / clicks
    days: list[dict] = field(default_factory=list)  # {"day", "clicks", "leads"}, oldest first
    earnings: list[Earnings] = field(default_factory=list)
    as_of: datetime | None = None


def dashboard_of(webmaster: User) -> Dashboard:
    today = clock.now().date()
    first = today - timedelta(days=PERIOD_DAYS - 1)
    period = report(webmaster, [], {}, first, today)  # one row per currency
    clicks = sum(row["clicks"] for row in period)
    leads = sum(row["leads"] for row in period)
    cr = ratio(leads, clicks)
    return Dashboard(
        since=datetime.combine(first, datetime.min.time()),
        clicks=clicks,
        leads=leads,
        approved=sum(row["leads_approved"] for row in period),
        cr_percent=None if cr is None else float(cr * 100),
        days=_days(report(webmaster, ["day"], {}, first, today), first),
        earnings=_earnings(webmaster.id, period),
        as_of=clock.now(),
    )


def _days(rows: list[dict], first: date) -> list[dict]:
    """Clicks and leads per day from ``first``, all currencies, a zero for a day without."""
    days = {(first + timedelta(days=n)).isoformat(): {"clicks": 0, "leads": 0} for n in range(PERIOD_DAYS)}
    for row in rows:
        day = days.get(row["day"].isoformat())
        if day is not None:
            day["clicks"] += row["clicks"]
            day["leads"] += row["leads"]
    return [{"day": day, **figures} for day, figures in days.items()]


def _earnings(webmaster_id: int, period: list[dict]) -> list[Earnings]:
    accounts: dict[str, dict[str, int]] = {}
    for account in balances_of(webmaster_id):  # hold: all of it; available: less payouts asked
        figure = account.posted_minor if account.purpose == "hold" else account.available_minor
        accounts.setdefault(account.currency, {})[account.purpose] = figure
    by_currency = {row["currency"]: row for row in period if row["payout_minor"] or row["clicks"]}
    earnings = []
    for currency in sorted(set(accounts) | set(by_currency)):
        row = by_currency.get(currency, {})
        earnings.append(
            Earnings(
                currency=currency,
                approved_minor=row.get("payout_minor", 0),
                epc=row.get("epc"),
                hold_minor=accounts.get(currency, {}).get("hold", 0),
                available_minor=accounts.get(currency, {}).get("available", 0),
            )
        )
    return earnings
