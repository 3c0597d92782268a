"""Settling on a stale plan: a winner whose balance ran out between the plan and the sale
is refused in the same round as the others and replaced by the next bid, and nothing of
its sale is left (no sale row, no ledger transfer)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import exchange.auctions.settle as settling
from billing.services import free_balance
from exchange.auctions.models import AuctionBid
from exchange.auctions.plan import prepare
from exchange.auctions.services import claim
from exchange.auctions.settle import Contended, settle
from exchange.buying.models import Sale
from exchange.db import commit
from exchange.extensions import db
from tests.exchange_factories import make_buy_order, make_vertical
from tests.factories import fund, make_user
from tests.services.test_exchange_races import for_sale, sellers_on

pytestmark = pytest.mark.usefixtures("billing_check")


def planned(auction_id: int):
    attempt = claim(auction_id, lease_seconds=30)
    plan = prepare(auction_id)
    commit()
    return plan, attempt


def test_a_winner_whose_balance_ran_out_since_the_plan_is_replaced_by_the_next_bid(ctx):
    vertical = make_vertical(slots=2)
    (seller,) = sellers_on(vertical, 1)
    rich, short, next_best = make_user("advertiser"), make_user("advertiser"), make_user("advertiser")
    fund(rich, 100_000)
    fund(short, 2800)  # one sale at its bid, not two
    fund(next_best, 100_000)
    orders = {
        "rich": make_buy_order(rich, vertical, bid_minor=3000),
        "short": make_buy_order(short, vertical, bid_minor=2800),
        "next": make_buy_order(next_best, vertical, bid_minor=2000),
    }
    first, second = for_sale(seller, vertical.id, 1), for_sale(seller, vertical.id, 2)
    first_plan, first_attempt = planned(first)
    second_plan, second_attempt = planned(second)  # also sees the short buyer's 2800 free

    settle(first_plan, [], 5, first_attempt)
    commit()
    settle(second_plan, [], 5, second_attempt)
    commit()

    buyers = set(db.session.scalars(select(Sale.buyer_id).where(Sale.auction_id == second)))
    assert buyers == {rich.id, next_best.id}
    result = db.session.scalar(
        select(AuctionBid.result).where(
            AuctionBid.auction_id == second, AuctionBid.buy_order_id == orders["short"].id
        )
    )
    assert result == "failed: balance"
    assert db.session.scalar(select(func.count()).select_from(Sale).where(Sale.buyer_id == short.id)) == 1
    assert free_balance(short.id, "USD") == 0, "the first auction's reservation, and no other"


def test_a_balance_that_fell_short_under_the_lock_rolls_the_optimistic_settle_back(ctx, monkeypatch):
    """The optimistic settle chooses on balances read unlocked. Read stale here (the short
    buyer's 2800 spent by another auction since), it would sell to that buyer; the
    reservation under the lock refuses, and the settle raises ``Contended`` instead of
    writing a sale the ledger did not reserve. Settled again pessimistically, the next bid
    takes the slot."""
    vertical = make_vertical(slots=1)
    (seller,) = sellers_on(vertical, 1)
    short, next_best = make_user("advertiser"), make_user("advertiser")
    fund(short, 2800)
    fund(next_best, 100_000)
    make_buy_order(short, vertical, bid_minor=2800)
    make_buy_order(next_best, vertical, bid_minor=2000)
    first, second = for_sale(seller, vertical.id, 1), for_sale(seller, vertical.id, 2)
    first_plan, first_attempt = planned(first)
    second_plan, second_attempt = planned(second)
    settle(first_plan, [], 5, first_attempt)
    commit()
    monkeypatch.setattr(settling, "free_balances", lambda buyers, currency: dict.fromkeys(buyers, 10**9))

    with pytest.raises(Contended):
        settle(second_plan, [], 5, second_attempt)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Sale).where(Sale.auction_id == second)) == 0

    settle(second_plan, [], 5, second_attempt, False)
    commit()
    buyers = list(db.session.scalars(select(Sale.buyer_id).where(Sale.auction_id == second)))
    assert buyers == [next_best.id]
    assert free_balance(short.id, "USD") == 0
