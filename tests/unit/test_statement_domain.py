"""The pure rules behind statements and invoices: months, words, amounts, running balances."""

from __future__ import annotations

from datetime import datetime

import pytest

from billing.domain import Balance
from billing.statements.domain import (
    Entry,
    Month,
    describe,
    invoice_number,
    major_units,
    parse_invoice_number,
    running_lines,
)


def test_a_month_is_a_half_open_range_of_naive_utc_times():
    january = Month.parse("2026-01")
    assert (january.start, january.end) == (datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert Month.parse("2025-12").end == datetime(2026, 1, 1)
    assert str(Month(2026, 3)) == "2026-03"
    assert Month.of(datetime(2026, 2, 28, 23, 59)) == Month(2026, 2)


@pytest.mark.parametrize(
    ("month", "after", "before"),
    [
        ((2026, 1), (2026, 2), (2025, 12)),
        ((2025, 12), (2026, 1), (2025, 11)),
        ((2026, 6), (2026, 7), (2026, 5)),
    ],
)
def test_months_follow_each_other_across_years(month, after, before):
    assert Month(*month).next() == Month(*after)
    assert Month(*month).previous() == Month(*before)
    assert Month(*month).next().previous() == Month(*month)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01", "", " 2026-01"]
)
def test_what_is_not_a_month(text):
    with pytest.raises(ValueError):
        Month.parse(text)


@pytest.mark.parametrize(
    ("transfer_id", "direction", "words"),
    [
        ("topup:wire-7", "in", "Top-up wire-7"),
        ("topup:pi_123", "in", "Top-up pi_123"),
        ("lead:42:reserve:payout", "out", "Lead 42 reserved"),
        ("lead:42:reserve:margin", "in", "Lead 42 reserved"),
        ("lead:42:approve:payout", "out", "Lead 42 charge"),
        ("lead:42:approve:payout", "in", "Lead 42 approved"),
        ("lead:42:void:margin", "out", "Lead 42 released (rejected)"),
        ("lead:42:hold-release", "in", "Lead 42 hold released"),
        ("lead:42:return:payout", "in", "Lead 42 returned"),
        ("payout:7", "out", "Payout 7 requested"),
        ("payout:7:paid", "out", "Payout 7 paid"),
        ("payout:7:failed", "out", "Payout 7 failed"),
        ("refund:ch_1:500", "out", "Refund of ch_1"),
        ("refund:ch_1:500:debt", "out", "Refund of ch_1 (owed as debt)"),
        ("dispute:dp_1", "out", "Dispute dp_1 withdrawn"),
        ("topup:dispute:dp_1:reinstated", "in", "Dispute dp_1 won: reinstated"),
        ("debt-repayment:topup:x", "out", "Debt repaid"),
        ("something:else", "in", "something:else"),
        ("payout:7:lost", "out", "payout:7:lost"),
    ],
)
def test_each_transfer_is_described_from_its_id(transfer_id, direction, words):
    assert describe(transfer_id, direction) == words


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "USD", "1234.56"),
        (-5, "USD", "-0.05"),
        (0, "EUR", "0.00"),
        (500, "JPY", "500"),
        (-1234, "KWD", "-1.234"),
        (10**12, "USD", "10000000000.00"),
    ],
)
def test_major_units_are_exact_with_the_currencys_decimals(amount, currency, text):
    assert major_units(amount, currency) == text


def test_invoice_numbers_are_stable_and_read_back():
    number = invoice_number(12, Month(2026, 1), "USD")
    assert number == "INV-12-2026-01-USD"
    assert parse_invoice_number(number) == (12, Month(2026, 1), "USD")


@pytest.mark.parametrize(
    "number",
    ["INV-0-2026-01-USD", "INV-12-2026-13-USD", "INV-12-2026-01-usd", "12-2026-01-USD", "INV-12-2026-01"],
)
def test_what_is_not_an_invoice_number(number):
    with pytest.raises(ValueError):
        parse_invoice_number(number)


def entry(transfer_id: str, direction: str, kind: str, amount: int) -> Entry:
    return Entry(datetime(2026, 1, 1), transfer_id, kind, amount, direction, "platform")


def test_running_balances_follow_reservations_postings_and_voids():
    """Out of an account: a pending debit lowers available now and posted when posted; a void
    gives available back. Into it: a pending credit moves neither until it is posted."""
    entries = [
        entry("a", "out", "pending", 300),
        entry("b", "in", "pending", 50),
        entry("a:post", "out", "post_pending", 300),
        entry("c", "out", "pending", 200),
        entry("c:void", "out", "void_pending", 200),
        entry("b:post", "in", "post_pending", 50),
        entry("d", "in", "posted", 25),
    ]
    opening = Balance(credits_posted=1000)
    lines = list(running_lines(opening, entries))
    assert [(line.posted_minor, line.available_minor) for line, _ in lines] == [
        (1000, 700),
        (1000, 700),
        (700, 700),
        (700, 500),
        (700, 700),
        (750, 750),
        (775, 775),
    ]
    final = lines[-1][1]
    assert final == Balance(debits_posted=300, credits_posted=1075)
