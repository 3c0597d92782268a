"""Settling on a stale plan, and several auctions in one transaction: a winner whose balance
ran out between the plan and the sale (or earlier in the same batch) is refused and replaced
by the next bid, and nothing of its sale is left (no sale row, no ledger transfer); the
auctions of one batch see each other's sales, as if each had been settled alone, in turn."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing.services import free_balance
from exchange.auctions.models import Auction, AuctionBid
from exchange.auctions.plan import prepare
from exchange.auctions.services import claim
from exchange.auctions.settle import Settling, settle, settle_all
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


def settled_together(auction_ids: list[int], attempts: dict[int, int] | None = None) -> list[list[int]]:
    """Claim and plan each auction, then settle them all in one transaction."""
    plans = [planned(auction_id) for auction_id in auction_ids]
    batch = [Settling(plan, [], 5, (attempts or {}).get(plan.auction_id, attempt)) for plan, attempt in plans]
    queued = settle_all(batch)
    commit()
    return queued


def buyers_of(auction_id: int) -> set[int]:
    return set(db.session.scalars(select(Sale.buyer_id).where(Sale.auction_id == auction_id)))


def test_a_batch_spends_a_balance_once_the_later_auction_taking_the_next_bid(ctx):
    vertical = make_vertical(slots=1)
    (seller,) = sellers_on(vertical, 1)
    short, next_best = make_user("advertiser"), make_user("advertiser")
    fund(short, 2800)  # one sale at its bid, not two
    fund(next_best, 100_000)
    make_buy_order(short, vertical, bid_minor=2800)
    make_buy_order(next_best, vertical, bid_minor=2000)
    first, second = for_sale(seller, vertical.id, 1), for_sale(seller, vertical.id, 2)

    settled_together([first, second])

    assert buyers_of(first) == {short.id}
    assert buyers_of(second) == {next_best.id}
    assert free_balance(short.id, "USD") == 0


def test_a_batch_keeps_a_day_cap_across_its_auctions(ctx):
    vertical = make_vertical(slots=1)
    sellers = sellers_on(vertical, 1)
    capped, other = make_user("advertiser"), make_user("advertiser")
    fund(capped, 100_000)
    fund(other, 100_000)
    order = make_buy_order(capped, vertical, bid_minor=3000, caps={"day_leads": 2})
    make_buy_order(other, vertical, bid_minor=1000)
    auctions = [for_sale(sellers[0], vertical.id, n) for n in range(1, 5)]

    settled_together(auctions)

    assert [buyers_of(each) for each in auctions] == [{capped.id}] * 2 + [{other.id}] * 2
    result = db.session.scalar(
        select(AuctionBid.result).where(
            AuctionBid.auction_id == auctions[2], AuctionBid.buy_order_id == order.id
        )
    )
    assert result == "failed: cap: day cap of 2 leads"


def test_two_auctions_of_one_consumer_in_one_batch_never_pass_its_slots(ctx):
    """Submitted again by another seller, the consumer's second auction is decided after the
    first's sales in the same transaction: they took both slots, so it sells nothing."""
    vertical = make_vertical(slots=2)
    sellers = sellers_on(vertical, 2)
    rich = [make_user("advertiser") for _ in range(3)]
    for n, each in enumerate(rich):
        fund(each, 100_000)
        make_buy_order(each, vertical, bid_minor=3000 - 100 * n)
    first, again = for_sale(sellers[0], vertical.id, 7), for_sale(sellers[1], vertical.id, 7)

    settled_together([first, again])

    assert buyers_of(first) == {rich[0].id, rich[1].id}
    assert buyers_of(again) == set()
    auction = db.session.get(Auction, again)
    assert (auction.outcome, auction.unsold_reason) == ("unsold", "no sale could be made")
    assert auction.rules["slots_taken"] == 2


def test_an_auction_claimed_again_since_is_left_alone_and_the_others_of_its_batch_settle(ctx):
    vertical = make_vertical(slots=1)
    (seller,) = sellers_on(vertical, 1)
    rich = make_user("advertiser")
    fund(rich, 100_000)
    make_buy_order(rich, vertical, bid_minor=2000)
    taken_over, mine = for_sale(seller, vertical.id, 1), for_sale(seller, vertical.id, 2)

    queued = settled_together([taken_over, mine], attempts={taken_over: 99})

    assert queued == [[], []]
    assert db.session.get(Auction, taken_over).status == "due"
    assert buyers_of(taken_over) == set()
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuctionBid).where(AuctionBid.auction_id == taken_over)
        )
        == 0
    )
    assert (db.session.get(Auction, mine).status, buyers_of(mine)) == ("done", {rich.id})
