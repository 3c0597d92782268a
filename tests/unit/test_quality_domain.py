"""The arithmetic of quality (exchange/quality/domain.py): a seller's multiplier from its
share of sales rejected or returned, a buyer's tie rank, the scaled price."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.money import BPS_WHOLE, times_bps
from exchange.quality.domain import (
    MIN_DECIDED,
    BuyerRecord,
    SellerRecord,
    multiplier_for,
)


@pytest.mark.parametrize(
    ("bad_tenths", "bps"),
    [
        (0, 10_000),
        (99, 10_000),
        (100, 9_000),
        (199, 9_000),
        (200, 7_500),
        (349, 7_500),
        (350, 5_000),
        (1000, 5_000),
    ],
)
def test_the_tiers_are_the_documented_ones(bad_tenths, bps):
    assert multiplier_for(bad_tenths) == bps


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=1000))
def test_a_worse_record_never_gets_a_higher_multiplier(a, b):
    low, high = sorted((a, b))
    assert multiplier_for(high) <= multiplier_for(low) <= BPS_WHOLE


def test_a_seller_with_too_few_decided_sales_is_not_judged():
    record = SellerRecord(approved=0, rejected=MIN_DECIDED - 1, returned=0)
    assert record.multiplier_bps == BPS_WHOLE
    assert "too few to judge" in record.reason and f"{MIN_DECIDED - 1} decided sales" in record.reason


def test_a_seller_with_a_quarter_of_its_sales_rejected_or_returned_sells_at_75_percent():
    record = SellerRecord(approved=30, rejected=6, returned=4)  # 10 of 40: 25 %
    assert record.multiplier_bps == 7_500
    assert record.reason == (
        "6 rejected and 4 returned of 40 decided sales in the last 90 days (25.0 %): bids and floors at 75 %"
    )


def test_a_clean_seller_keeps_every_bid_whole():
    assert SellerRecord(approved=200, rejected=5, returned=4).multiplier_bps == BPS_WHOLE  # 4.3 %


def test_a_buyer_is_ranked_by_its_share_refused_or_returned_once_judged():
    assert BuyerRecord(sales=MIN_DECIDED - 1, refused=10, returned=5).rate_tenths == 0
    judged = BuyerRecord(sales=40, refused=3, returned=1)  # 4 of 40: 10.0 %
    assert judged.rate_tenths == 100
    assert "3 posts refused and 1 sales returned of 40" in judged.reason


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (2000, 7_500, 1500),
        (1999, 7_500, 1499),
        (3, 5_000, 2),
        (1, 5_000, 1),
        (1234, BPS_WHOLE, 1234),
        (0, 5_000, 0),
    ],
)
def test_a_price_at_a_multiplier_is_rounded_half_up_and_never_nothing(amount, bps, expected):
    assert times_bps(amount, bps) == expected


@given(st.integers(min_value=1, max_value=10**9), st.sampled_from([5_000, 7_500, 9_000, 10_000]))
def test_a_multiplier_takes_its_share_of_the_price_to_the_nearest_unit_and_never_raises_it(amount, bps):
    exact = Fraction(amount * bps, BPS_WHOLE)
    price = times_bps(amount, bps)
    assert price == max(math.floor(exact + Fraction(1, 2)), 1)  # half up, at least one unit
    assert 1 <= price <= amount
    if bps < BPS_WHOLE and amount >= 10:  # a tenth off 10 is a whole unit: lower
        assert price < amount
