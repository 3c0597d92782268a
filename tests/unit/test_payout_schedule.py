"""Payout schedules, periods, amounts and CSV amounts: the pure rules of billing.payouts.domain."""

from __future__ import annotations

from datetime import date

import pytest

from billing.payouts.domain import (
    STRIPE_ACCOUNT_ID,
    Schedule,
    is_due,
    major_units,
    payout_day,
    period_start,
    schedule_key,
    scheduled_amount,
)

WEDNESDAYS = Schedule("weekly", weekday=3)
ON_THE_31ST = Schedule("monthly", day_of_month=31)


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 1, 12), False),  # Monday
        (date(2026, 1, 13), False),  # Tuesday
        (date(2026, 1, 14), True),  # Wednesday: the day
        (date(2026, 1, 18), True),  # Sunday: still this week's payout if it was missed
        (date(2026, 1, 19), False),  # Monday: a new week, not due until Wednesday
    ],
)
def test_a_weekly_payout_is_due_from_its_weekday_to_the_end_of_that_week(today, due):
    assert is_due(WEDNESDAYS, today) is due


def test_a_monthly_day_past_the_months_end_is_its_last_day():
    assert payout_day(ON_THE_31ST, date(2026, 2, 10)) == date(2026, 2, 28)
    assert payout_day(ON_THE_31ST, date(2028, 2, 10)) == date(2028, 2, 29)
    assert payout_day(ON_THE_31ST, date(2026, 4, 1)) == date(2026, 4, 30)
    assert not is_due(ON_THE_31ST, date(2026, 2, 27))
    assert is_due(ON_THE_31ST, date(2026, 2, 28))


def test_payouts_on_demand_are_never_due_and_have_no_period():
    assert not is_due(Schedule(), date(2026, 1, 14))
    assert period_start(Schedule(), date(2026, 1, 14)) is None
    with pytest.raises(ValueError):
        schedule_key(7, "USD", Schedule(), date(2026, 1, 14))


def test_one_key_per_webmaster_currency_and_period():
    keys = {schedule_key(7, "USD", WEDNESDAYS, date(2026, 1, d)) for d in range(12, 19)}
    assert keys == {"sched:7:USD:weekly:2026-01-12"}
    assert schedule_key(7, "USD", WEDNESDAYS, date(2026, 1, 21)) == "sched:7:USD:weekly:2026-01-19"
    assert schedule_key(7, "EUR", WEDNESDAYS, date(2026, 1, 14)) != schedule_key(
        7, "USD", WEDNESDAYS, date(2026, 1, 14)
    )
    assert schedule_key(7, "USD", ON_THE_31ST, date(2026, 1, 31)) == "sched:7:USD:monthly:2026-01-01"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "weekly"},
        {"kind": "weekly", "weekday": 8},
        {"kind": "monthly", "day_of_month": 0},
        {"kind": "daily"},
    ],
)
def test_a_schedule_that_does_not_hold_together_cannot_be_built(kwargs):
    with pytest.raises(ValueError):
        Schedule(**kwargs)


@pytest.mark.parametrize(
    ("available", "minimum", "threshold", "amount"),
    [
        (999, 1000, None, 0),
        (1000, 1000, None, 1000),
        (4999, 1000, 5000, 0),
        (5000, 1000, 5000, 5000),
        (7321, 1000, 5000, 7321),  # the whole balance, not the threshold
        (1500, 2000, 1000, 0),  # the minimum wins over a lower threshold
        (0, 0, None, 0),
    ],
)
def test_a_scheduled_payout_takes_the_whole_balance_once_it_reaches_minimum_and_threshold(
    available, minimum, threshold, amount
):
    assert scheduled_amount(available, minimum, threshold) == amount


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "USD", "1234.56"),
        (5, "EUR", "0.05"),
        (3000, "JPY", "3000"),
        (1234, "KWD", "1.234"),
        (10**15 + 1, "USD", "10000000000000.01"),
    ],
)
def test_csv_amounts_have_exactly_the_currencys_decimals(amount, currency, text):
    assert major_units(amount, currency) == text


@pytest.mark.parametrize(
    ("account", "valid"),
    [
        ("acct_1032D82eZvKYlo2C", True),
        ("acct_", False),
        ("acct_12 34", False),
        ("ACCT_123", False),
        ("acct_123\n", False),
        ("cus_123", False),
    ],
)
def test_connected_account_ids(account, valid):
    assert bool(STRIPE_ACCOUNT_ID.fullmatch(account)) is valid


def test_a_week_and_a_month_that_start_on_the_same_day_have_two_keys():
    monday_the_first = date(2026, 6, 1)
    mondays = Schedule(kind="weekly", weekday=1)
    firsts = Schedule(kind="monthly", day_of_month=1)
    assert period_start(mondays, monday_the_first) == period_start(firsts, monday_the_first)
    assert schedule_key(7, "USD", mondays, monday_the_first) != schedule_key(
        7, "USD", firsts, monday_the_first
    )
