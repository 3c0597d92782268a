"""Money Stripe takes back (refunds, disputes) and the debt it may leave. Pure plans,
exercised in the in-memory book that has the ledger's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import plans
from billing.book import Book
from billing.domain import InsufficientFunds, advertiser_available, advertiser_debt, platform

ADV = advertiser_available(3, "USD")
DEBT = advertiser_debt(3, "USD")
CASH_IN = platform("cash_in", "USD")


def funded(amount_minor: int) -> Book:
    book = Book()
    if amount_minor:
        book.record_all(plans.topup("card", 3, "USD", amount_minor))
    return book


def test_a_take_back_the_free_balance_covers_is_one_debit_of_that_balance():
    legs = plans.take_back("refund:ch_1:500", 3, "USD", 500, free_minor=2_000)
    assert [(leg.id, leg.debit, leg.credit, leg.amount_minor) for leg in legs] == [
        ("refund:ch_1:500", ADV, CASH_IN, 500)
    ]


def test_what_the_free_balance_does_not_cover_becomes_debt():
    legs = plans.take_back("dispute:dp_1", 3, "USD", 5_000, free_minor=1_200)
    assert [(leg.id, leg.debit, leg.amount_minor) for leg in legs] == [
        ("dispute:dp_1", ADV, 1_200),
        ("dispute:dp_1:debt", DEBT, 3_800),
    ]


@pytest.mark.parametrize("free", [0, -300])
def test_with_nothing_free_the_whole_take_back_is_debt(free):
    legs = plans.take_back("dispute:dp_2", 3, "USD", 700, free_minor=free)
    assert [(leg.debit, leg.amount_minor) for leg in legs] == [(DEBT, 700)]


def test_a_debt_is_repaid_from_what_is_free_and_never_more_than_owed():
    assert [leg.amount_minor for leg in plans.debt_repayment("topup:x", 3, "USD", 800, 5_000)] == [800]
    assert [leg.amount_minor for leg in plans.debt_repayment("topup:x", 3, "USD", 800, 300)] == [300]
    assert plans.debt_repayment("topup:x", 3, "USD", 0, 5_000) == []
    assert plans.debt_repayment("topup:x", 3, "USD", 800, 0) == []


def test_the_ledger_refuses_a_take_back_planned_on_a_balance_that_is_not_there():
    book = funded(1_000)
    with pytest.raises(InsufficientFunds):
        book.record_all(plans.take_back("refund:ch_1:5000", 3, "USD", 5_000, free_minor=5_000))


@given(
    paid=st.integers(min_value=0, max_value=10_000),
    reserved=st.integers(min_value=0, max_value=10_000),
    taken=st.integers(min_value=1, max_value=20_000),
    arriving=st.integers(min_value=1, max_value=20_000),
)
def test_take_back_then_new_money_keeps_every_balance_sound_and_repays_first(paid, reserved, taken, arriving):
    book = funded(paid)
    reserved = min(reserved, paid)
    if reserved:
        book.record_all(
            plans.lead_reservation(
                plans.LeadPrice(1, 3, 9, "USD", rate_minor=reserved, payout_minor=reserved)
            )
        )
    free = book.balance(ADV).available
    book.record_all(plans.take_back("dispute:dp", 3, "USD", taken, free))
    owed = -book.balance(DEBT).posted
    assert owed == max(taken - free, 0)
    assert book.balance(ADV).available == max(free - taken, 0)

    book.record_all(plans.topup("later", 3, "USD", arriving))
    free = book.balance(ADV).available
    book.record_all(plans.debt_repayment("topup:later", 3, "USD", owed, free))
    assert -book.balance(DEBT).posted == max(owed - free, 0)
    assert book.balance(ADV).available == max(free - owed, 0)
    assert book.violations() == []
