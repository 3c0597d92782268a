"""The advertiser's dashboard figures: clicks, leads by status, the approval rate, spend
and EPC, and approved and rejected leads per day, from the report rollups (never a scan of
the raw clicks and leads); what it was charged and returned (the billing page), from the
ledger, as the invoices count them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.statements.schemas import this_month
from exchange import clock
from exchange.accounts.models import User
from exchange.leads.domain import OFFER_STATES as STATES
from exchange.reports.domain import epc_text, ratio
from exchange.reports.query import changes_waiting, report
from exchange.statements.invoices import Spend, spend_between

CHART_DAYS = 30
FIRST_DAY = date(2000, 1, 1)  # "all time" for the rollups' daily rows


@dataclass(frozen=True)
class SpendFigures:
    """One currency's charges less returns, this month and of all time, counted as the
    invoices count them (``spend_between``): this month's equal this month's invoice, all
    time's the sum of every invoice."""

    currency: str
    month: Spend
    all_time: Spend


def spend_of(advertiser_id: int) -> list[SpendFigures]:
    now = clock.now()
    month = spend_between(advertiser_id, this_month().start, now)
    all_time = spend_between(advertiser_id, None, now)
    return [
        SpendFigures(currency, month.get(currency, Spend(currency, 0, 0)), spent)
        for currency, spent in all_time.items()
    ]


def dashboard_of(advertiser: User) -> dict:
    """The dashboard's traffic and lead figures, read from the report rollups (as fresh as
    the last fold, 30 s at most): the last 30 days by currency, the leads by status and the
    approval rate of all time, leads approved and rejected per day for the chart."""
    today = clock.now().date()
    first = today - timedelta(days=CHART_DAYS - 1)
    all_time = report(advertiser, [], {}, FIRST_DAY, today)
    return {
        "period_days": CHART_DAYS,
        "traffic": [Traffic.of(row) for row in report(advertiser, [], {}, first, today)],
        "counts": {status: sum(row[f"leads_{status}"] for row in all_time) for status in STATES},
        "approval_rate": ratio(
            sum(row["leads_approved"] for row in all_time),
            sum(row["leads_approved"] + row["leads_rejected"] for row in all_time),
        ),
        "daily": daily_decisions(report(advertiser, ["day"], {}, first, today), first),
        "as_of": clock.now(),
        "waiting": changes_waiting(advertiser),
    }


@dataclass(frozen=True)
class Traffic:
    """One currency's clicks, leads and spend (approved leads' rates) over the period."""

    currency: str
    clicks: int
    unique_clicks: int
    leads: int
    spend_minor: int
    cr: Decimal | None
    epc: Decimal | None  # spend per click, in major units

    @classmethod
    def of(cls, row: dict) -> Traffic:
        return cls(
            currency=row["currency"],
            clicks=row["clicks"],
            unique_clicks=row["unique_clicks"],
            leads=row["leads"],
            spend_minor=row["revenue_minor"],
            cr=row["cr"],
            epc=row["epc"],
        )

    @property
    def epc_text(self) -> str:
        return epc_text(self.epc, self.currency)


def daily_decisions(rows: list[dict], first: date, days: int = CHART_DAYS) -> list[dict]:
    """One row per day from ``first``, oldest first: the leads received that day which are
    approved, and rejected, now (all currencies)."""
    approved: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for row in rows:
        day = _day_text(row["day"])
        approved[day] = approved.get(day, 0) + row["leads_approved"]
        rejected[day] = rejected.get(day, 0) + row["leads_rejected"]
    shown = [(first + timedelta(days=offset)).isoformat() for offset in range(days)]
    return [{"day": day, "approved": approved.get(day, 0), "rejected": rejected.get(day, 0)} for day in shown]


def _day_text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]
