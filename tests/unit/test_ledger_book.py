"""The in-memory book: recording, idempotency, and the invariant checker itself."""

from __future__ import annotations

import pytest

from billing import plans
from billing.book import Book
from billing.domain import (
    Balance,
    InsufficientFunds,
    PlannedTransfer,
    TransferConflict,
    advertiser_available,
    platform,
    webmaster_hold,
)

ADV = advertiser_available(1, "EUR")
HOLD = webmaster_hold(2, "EUR")
CASH_IN = platform("cash_in", "EUR")


def test_an_empty_book_is_sound():
    assert Book().violations() == []
    assert Book().balance(ADV) == Balance()


def test_record_moves_the_amount_between_the_two_accounts():
    book = Book()
    assert book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 300)) is True
    assert book.balance(ADV) == Balance(credits_posted=300)
    assert book.balance(CASH_IN) == Balance(debits_posted=300)
    assert book.violations() == []


def test_recording_the_same_transfer_twice_is_a_no_op():
    book = Book()
    book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 300))
    assert book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 300)) is False
    assert book.balance(ADV).available == 300


def test_recording_the_same_id_with_other_content_is_refused_and_changes_nothing():
    book = Book()
    book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 300))
    with pytest.raises(TransferConflict):
        book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 301))
    assert book.balance(ADV).available == 300


def test_a_refused_transfer_leaves_no_trace():
    book = Book()
    with pytest.raises(InsufficientFunds):
        book.record(PlannedTransfer("t", ADV, HOLD, 1))
    assert book.transfers == {}
    assert book.balance(ADV) == Balance()
    assert book.balance(HOLD) == Balance()


def test_resolving_marks_the_pending_transfer_resolved():
    book = Book()
    price = plans.LeadPrice(9, 1, 2, "EUR", rate_minor=100, payout_minor=100)
    book.record_all(plans.topup("a", 1, "EUR", 100))
    book.record_all(plans.lead_reservation(price))
    assert book.resolved == set()
    book.record_all(plans.lead_approval(price))
    assert book.resolved == {"lead:9:reserve:payout"}


def test_violations_reports_a_negative_bounded_account():
    book = Book(balances={ADV: Balance(debits_posted=5), CASH_IN: Balance(credits_posted=5)})
    assert book.violations() == ["negative_balance: advertiser:1:available:EUR at -5"]


def test_violations_allows_cash_in_to_be_negative():
    book = Book(balances={CASH_IN: Balance(debits_posted=5), ADV: Balance(credits_posted=5)})
    assert book.violations() == []


def test_violations_reports_unbalanced_posted_amounts_per_currency():
    book = Book(balances={ADV: Balance(credits_posted=5), advertiser_available(1, "USD"): Balance()})
    assert book.violations() == ["unbalanced: EUR debits 0/0 credits 5/0"]


def test_violations_reports_unbalanced_pending_amounts():
    book = Book(
        balances={ADV: Balance(credits_posted=10, debits_pending=4), CASH_IN: Balance(debits_posted=10)}
    )
    assert book.violations() == ["unbalanced: EUR debits 10/4 credits 10/0"]


def test_record_all_writes_every_transfer_or_none():
    book = Book()
    book.record(PlannedTransfer("topup:a", CASH_IN, ADV, 1200))  # covers the payout leg, not both legs
    price = plans.LeadPrice(
        lead_id=9, advertiser_id=1, webmaster_id=2, currency="EUR", rate_minor=1500, payout_minor=1000
    )
    before = (dict(book.balances), dict(book.transfers))

    with pytest.raises(InsufficientFunds):
        book.record_all(plans.lead_reservation(price))

    assert (book.balances, book.transfers) == before
    assert book.balance(HOLD) == Balance()
