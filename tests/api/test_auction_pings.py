"""Pinged buyers and posts, against real HTTP endpoints on 127.0.0.1: bids answered in
time win, late and garbled answers count for nothing, pings never carry personal data, the
auction ends at its deadline, and a refused post hands the slot to the next bid."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import Sale
from exchange.db import commit
from exchange.delivery.leads.domain import verify
from exchange.delivery.leads.settings import put_setting
from exchange.extensions import db
from exchange.leads.models import Lead
from tests.advertiser_endpoint import Answer, Endpoint
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each


def bid(amount: int | None, delay: float = 0.0) -> Answer:
    return Answer(200, json.dumps({"bid_minor": amount}).encode(), delay)


@pytest.fixture
def market(ctx):
    vertical = make_vertical(slots=1, margin_bps=1000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    return vertical, make_key(seller)


def pinged_order(vertical, url: str, *, funds: int = 100_000, max_bid: int = 9000, **extra):
    buyer = make_user("advertiser")
    fund(buyer, funds)
    order = make_buy_order(
        buyer, vertical, pricing="ping", bid_minor=None, ping_url=url, max_bid_minor=max_bid, **extra
    )
    return buyer, order


def test_the_highest_answer_in_time_wins_and_late_or_garbled_answers_do_not(client, market):
    vertical, seller_key = market
    with (
        Endpoint([bid(2500)]) as fast,
        Endpoint([bid(9000, delay=2.0)]) as late,
        Endpoint([Answer(200, b"<html>no</html>")]) as garbled,
        Endpoint([Answer(500, b"{}")]) as broken,
        Endpoint([bid(None)]) as passing,
    ):
        orders = {
            name: pinged_order(vertical, e.url)[1]
            for name, e in [
                ("fast", fast),
                ("late", late),
                ("garbled", garbled),
                ("broken", broken),
                ("passing", passing),
            ]
        }
        lead_id = submit(client, seller_key, vertical.id, solar_lead()).get_json()["id"]

    (sale,) = db.session.scalars(select(Sale).where(Sale.lead_id == lead_id)).all()
    assert (sale.buy_order_id, sale.price_minor, sale.payout_minor) == (orders["fast"].id, 2500, 2250)
    rows = {row.buy_order_id: row for row in db.session.scalars(select(AuctionBid))}
    assert rows[orders["fast"].id].ping_status == "answered" and rows[orders["fast"].id].result == "won"
    assert rows[orders["late"].id].ping_status == "timed_out" and rows[orders["late"].id].bid_minor is None
    assert rows[orders["garbled"].id].ping_status == "invalid"
    assert (rows[orders["broken"].id].ping_status, rows[orders["broken"].id].ping_error) == (
        "error",
        "HTTP 500",
    )
    assert rows[orders["passing"].id].ping_status == "no_bid"


def test_a_ping_carries_no_personal_field(client, market):
    vertical, seller_key = market
    with Endpoint([bid(1000)]) as endpoint:
        pinged_order(vertical, endpoint.url)
        submit(client, seller_key, vertical.id, solar_lead(7, name="Zelda Q", postcode="99501"))
        (ping,) = endpoint.received

    body = ping.json()
    text = ping.body.decode()
    for personal in ("Zelda", "202 555", "ann7@example.com", "99501", "12025550007"):
        assert personal not in text
    assert body["fields"] == {"country": "US", "region": "TX", "age": 40, "homeowner": True}
    assert {"score", "temperature", "age_seconds", "floor_minor", "max_bid_minor"} <= set(body)


def test_an_auction_whose_buyers_all_time_out_ends_at_its_deadline(client, market, app):
    vertical, seller_key = market
    app.config["AUCTION_DEADLINE_MS"] = 300
    try:
        with Endpoint([bid(5000, delay=3.0)]) as slow_1, Endpoint([bid(5000, delay=3.0)]) as slow_2:
            pinged_order(vertical, slow_1.url)
            pinged_order(vertical, slow_2.url)
            lead_id = submit(client, seller_key, vertical.id, solar_lead()).get_json()["id"]
    finally:
        app.config["AUCTION_DEADLINE_MS"] = 750

    auction = db.session.scalar(select(Auction).where(Auction.lead_id == lead_id))
    assert auction.outcome == "unsold"
    assert auction.duration_ms < 3000, "it waited for the buyers, not for its deadline"
    statuses = db.session.scalars(
        select(AuctionBid.ping_status).where(AuctionBid.auction_id == auction.id)
    ).all()
    assert statuses == ["timed_out", "timed_out"]


def test_a_refused_post_hands_the_slot_to_the_next_bid_and_gives_the_money_back(client, market):
    vertical, seller_key = market
    with (
        Endpoint([Answer.decision("reject", "not in our area")]) as refusing,
        Endpoint([Answer.decision("approve")]) as taking,
    ):
        first = make_user("advertiser")
        second = make_user("advertiser")
        fund(first, 10_000)
        fund(second, 10_000)
        secrets = {}
        for buyer, endpoint in ((first, refusing), (second, taking)):
            secrets[buyer.id] = put_setting(buyer.id, None, endpoint.url).secret
        commit()
        top = make_buy_order(first, vertical, bid_minor=3000)
        runner_up = make_buy_order(second, vertical, bid_minor=2000)

        lead_id = submit(client, seller_key, vertical.id, solar_lead()).get_json()["id"]
        (posted,) = taking.received

    sales = {
        sale.buy_order_id: sale for sale in db.session.scalars(select(Sale).where(Sale.lead_id == lead_id))
    }
    assert (sales[top.id].status, sales[top.id].post_status) == ("voided", "refused")
    assert (sales[runner_up.id].status, sales[runner_up.id].post_status) == ("pending", "delivered")
    assert db.session.get(Lead, lead_id).status == "sold"
    headers = {k.lower(): v for k, v in posted.headers.items()}
    assert verify(
        secrets[second.id],
        posted.body,
        headers["x-exchange-timestamp"],
        headers["x-exchange-signature"],
        int(headers["x-exchange-timestamp"]),
    )
    assert posted.json()["lead"]["fields"]["name"] == "Ann Smith 1", "the post carries the full lead"

    assert balance(client, make_key(first), "available")["available_minor"] == 10_000
    assert balance(client, make_key(second), "available")["available_minor"] == 8000
    steps = db.session.scalar(select(Auction.steps).where(Auction.lead_id == lead_id))
    assert [step["kind"] for step in steps] == ["chose", "sold", "failed", "chose", "sold"]
