"""Reconciling Stripe's balance transactions with the ledger's cash_in: the pure parts."""

from __future__ import annotations

import pytest

from billing.topups.domain import Movement, compare, ledger_key


@pytest.mark.parametrize(
    "transfer_id, key",
    [
        ("topup:pi_123", "charge pi_123"),
        ("refund:ch_9:5000", "refunds of ch_9"),
        ("refund:ch_9:8000:debt", "refunds of ch_9"),
        ("dispute:dp_4", "dispute dp_4"),
        ("dispute:dp_4:debt", "dispute dp_4"),
        ("topup:dispute:dp_4:reinstated", "dispute dp_4"),
        ("topup:manual-0a1b", None),  # an admin's credit: not Stripe's money
        ("topup:test-3", None),
    ],
)
def test_each_cash_in_transfer_is_keyed_as_stripe_knows_it(transfer_id, key):
    assert ledger_key(transfer_id) == key


def test_equal_sums_per_key_and_currency_reconcile_however_they_are_split():
    stripe = [Movement("refunds of ch_1", "USD", -3000), Movement("refunds of ch_1", "USD", -2000)]
    ledger = [Movement("refunds of ch_1", "USD", -1500), Movement("refunds of ch_1", "USD", -3500)]
    assert compare(stripe, ledger) == []


def test_each_difference_is_named_with_both_sums():
    stripe = [Movement("charge pi_1", "USD", 25_000), Movement("charge pi_2", "EUR", 1_000)]
    ledger = [Movement("charge pi_1", "USD", 25_000), Movement("charge pi_3", "EUR", 700)]
    assert compare(stripe, ledger) == [
        "charge pi_2: Stripe 1000 EUR, ledger 0 EUR",
        "charge pi_3: Stripe 0 EUR, ledger 700 EUR",
    ]


def test_the_same_key_in_two_currencies_is_two_keys():
    stripe = [Movement("charge pi_1", "USD", 500)]
    ledger = [Movement("charge pi_1", "EUR", 500)]
    assert len(compare(stripe, ledger)) == 2
