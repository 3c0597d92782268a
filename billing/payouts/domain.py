"""Payout rules that need no database: rails, schedules and their periods, the amount a
scheduled payout takes, and amounts written for the finance team. Pure.

A schedule's *period* is a week (Monday to Sunday) or a calendar month. A payout falls
due on the schedule's day and stays due on the later days of the same period until that
period's payout is made, so a day the scheduler missed is made up, never skipped; the
key ``sched:<webmaster>:<currency>:<first day of the period>`` makes one payout per
webmaster, currency and period.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from exchange.money import MINOR_DIGITS

MANUAL, STRIPE_CONNECT = "manual", "stripe_connect"
RAILS = (MANUAL, STRIPE_CONNECT)
ON_DEMAND, WEEKLY, MONTHLY = "on_demand", "weekly", "monthly"
SCHEDULES = (ON_DEMAND, WEEKLY, MONTHLY)
# A Stripe connected account id: ``acct_`` and letters and digits (``acct_1032D82eZvKYlo2C``).
STRIPE_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,60}")  # the whole id: fullmatch


@dataclass(frozen=True)
class Schedule:
    kind: str = ON_DEMAND
    weekday: int | None = None  # ISO: 1 = Monday ... 7 = Sunday
    day_of_month: int | None = None  # 1..31; in a shorter month, its last day

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}")
        if self.kind == WEEKLY and self.weekday not in range(1, 8):
            raise ValueError("a weekly schedule needs a weekday from 1 (Monday) to 7 (Sunday)")
        if self.kind == MONTHLY and self.day_of_month not in range(1, 32):
            raise ValueError("a monthly schedule needs a day of the month from 1 to 31")


def period_start(schedule: Schedule, today: date) -> date | None:
    """The first day of the period ``today`` is in (its week's Monday, its month's 1st);
    None for payouts on demand."""
    if schedule.kind == WEEKLY:
        return today - timedelta(days=today.isoweekday() - 1)
    if schedule.kind == MONTHLY:
        return today.replace(day=1)
    return None


def payout_day(schedule: Schedule, today: date) -> date | None:
    """The day of ``today``'s period on which the scheduled payout is made."""
    start = period_start(schedule, today)
    if start is None:
        return None
    if schedule.kind == WEEKLY:
        return start + timedelta(days=schedule.weekday - 1)
    last = calendar.monthrange(start.year, start.month)[1]
    return start.replace(day=min(schedule.day_of_month, last))


def is_due(schedule: Schedule, today: date) -> bool:
    day = payout_day(schedule, today)
    return day is not None and today >= day


def schedule_key(webmaster_id: int, currency: str, schedule: Schedule, today: date) -> str:
    """The idempotency key of the period's scheduled payout (stored, unique, on the payout).
    The schedule's kind is in it: a week and a month can start on the same day."""
    start = period_start(schedule, today)
    if start is None:
        raise ValueError("payouts on demand have no period")
    return f"sched:{webmaster_id}:{currency}:{schedule.kind}:{start.isoformat()}"


def scheduled_amount(available_minor: int, minimum_minor: int, threshold_minor: int | None) -> int:
    """The whole available balance when it reaches max(minimum, threshold), else 0."""
    floor = max(minimum_minor, threshold_minor or 0)
    return available_minor if available_minor >= floor and available_minor > 0 else 0


def major_units(amount_minor: int, currency: str) -> str:
    """``major_units(123456, "USD") == "1234.56"``, ``(500, "JPY") == "500"``,
    ``(1234, "KWD") == "1.234"``: exactly the currency's decimals, no grouping, no float."""
    digits = MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}" + (f".{fraction:0{digits}d}" if digits else "")
