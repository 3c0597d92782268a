"""The auction log as each party reads it: staff everything, the seller its outcome and
payout, each buyer only its own bids and why they lost (docs/exchange.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.auctions.models import Auction
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


@pytest.fixture
def auction(client, ctx):
    vertical = make_vertical(slots=1, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    winner, loser, poor = make_user("advertiser"), make_user("advertiser"), make_user("advertiser")
    fund(winner, 10_000)
    fund(loser, 10_000)
    orders = {
        "winner": make_buy_order(winner, vertical, bid_minor=3000),
        "loser": make_buy_order(loser, vertical, bid_minor=2500),
        "poor": make_buy_order(poor, vertical, bid_minor=2000),
    }
    lead_id = submit(client, make_key(seller), vertical.id, solar_lead()).get_json()["id"]
    row = db.session.scalar(select(Auction).where(Auction.lead_id == lead_id))
    users = {"seller": seller, "winner": winner, "loser": loser, "poor": poor}
    return row, users, orders


def read(client, user, auction_id):
    return client.get(f"/api/v1/auctions/{auction_id}", headers=auth(make_key(user)))


def test_staff_see_every_bid_and_step(client, auction):
    row, users, orders = auction

    body = read(client, make_user("moderator"), row.id).get_json()

    assert {bid["buy_order_id"]: bid["bid_minor"] for bid in body["bids"] if bid["bid_minor"]} == {
        orders["winner"].id: 3000,
        orders["loser"].id: 2500,
    }
    assert {bid["buyer_id"] for bid in body["bids"]} == {
        users["winner"].id,
        users["loser"].id,
        users["poor"].id,
    }
    assert body["steps"][0]["kind"] == "chose" and body["sales"][0]["price_minor"] == 3000
    assert {bid["buyer_rank_tenths"] for bid in body["bids"]} == {0}  # no buyer has a record yet


def test_the_seller_sees_its_outcome_and_payout_not_the_buyers(client, auction):
    row, users, _ = auction

    body = read(client, users["seller"], row.id).get_json()

    assert (body["outcome"], body["payout_minor"], body["sales_count"]) == ("sold", 2400, 1)
    assert body["multiplier_bps"] == 10_000  # no record yet: every bid whole
    assert "bids" not in body and "sales" not in body and "3000" not in str(body)


def test_each_buyer_sees_only_its_own_bid_and_why_it_lost(client, auction):
    row, users, orders = auction

    loser = read(client, users["loser"], row.id).get_json()
    poor = read(client, users["poor"], row.id).get_json()
    winner = read(client, users["winner"], row.id).get_json()
    stranger = read(client, make_user("advertiser"), row.id)

    assert [(b["buy_order_id"], b["bid_minor"], b["why"]) for b in loser["bids"]] == [
        (orders["loser"].id, 2500, "outbid")
    ]
    assert "3000" not in str(loser) and all("buyer_id" not in bid for bid in loser["bids"])
    assert poor["bids"][0]["why"] == "did not bid: balance"
    assert winner["bids"][0]["result"] == "won" and winner["bids"][0]["why"] is None
    assert stranger.status_code == 404
