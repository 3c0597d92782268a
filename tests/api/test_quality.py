"""Quality moves money (docs/exchange.md, "Quality"): a seller whose sales are often rejected
or returned sells its next leads at its multiplier (in the auction, the price each buyer
pays; in the catalog, the floor), and sees it with its reason; a buyer whose posts are often
refused loses ties to a cleaner buyer; the auction log keeps both and still replays."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from exchange.quality.jobs import rate_quality_now
from tests.api.test_dispute_pages import page, signed_in
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")

FLOORS = {"*": {"cold": 1000, "warm": 1000, "hot": 1000}}


def sales_of(seller_key: str, client, vertical_id: int, first: int, count: int) -> list[Sale]:
    made = []
    for n in range(first, first + count):
        lead_id = submit(client, seller_key, vertical_id, solar_lead(n)).get_json()["id"]
        made.append(db.session.scalar(select(Sale).where(Sale.lead_id == lead_id)))
    return made


def test_a_seller_with_many_rejections_sells_at_its_multiplier_and_is_told_why(app, client, ctx):
    vertical = make_vertical(slots=1, margin_bps=2000, floors=FLOORS)
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, vertical)
    fund(buyer, 1_000_000)
    order = make_buy_order(buyer, vertical, bid_minor=2000, exclusive=True)
    seller_key, buyer_key = make_key(seller), make_key(buyer)
    history = sales_of(seller_key, client, vertical.id, 1, 20)
    for n, sale in enumerate(history):  # 6 of 20 rejected: 30 %
        decision = "reject" if n < 6 else "approve"
        assert client.post(f"/api/v1/sales/{sale.id}/{decision}", headers=auth(buyer_key)).status_code == 200

    counted = rate_quality_now()
    [next_sale] = sales_of(seller_key, client, vertical.id, 21, 1)
    order.status = "paused"  # the next lead is not bought: it goes to the catalog
    db.session.commit()
    unsold = submit(client, seller_key, vertical.id, solar_lead(22)).get_json()["id"]
    sweep_catalog()
    mine = client.get("/api/v1/quality", headers=auth(seller_key)).get_json()

    assert counted["sellers_rated"] == 1
    assert (next_sale.price_minor, next_sale.payout_minor) == (1500, 1200)  # 75 % of the 2000 bid
    auction = db.session.get(Auction, next_sale.auction_id)
    assert auction.rules["quality_bps"] == 7_500
    as_seller = client.get(f"/api/v1/auctions/{auction.id}", headers=auth(seller_key)).get_json()
    assert as_seller["multiplier_bps"] == 7_500
    replayed = app.test_cli_runner().invoke(args=["exchange", "replay-auction", str(auction.id)])
    assert replayed.exit_code == 0 and "replays" in replayed.output
    assert db.session.get(CatalogListing, unsold).floor_minor == 750  # the floor of 1000 at 75 %
    [row] = mine["verticals"]
    assert (row["vertical_id"], row["multiplier_bps"], row["rejected"], row["approved"]) == (
        vertical.id,
        7_500,
        6,
        14,
    )
    assert row["reason"] == (
        "6 rejected and 0 returned of 20 decided sales in the last 90 days (30.0 %): bids and floors at 75 %"
    )
    signed_in(app, client, seller)
    body = page(app, client, "/webmaster/listings")
    assert "Your quality: what your leads sell for" in body and "75 %" in body and row["reason"] in body


def test_a_seller_with_a_clean_record_or_too_few_sales_sells_at_every_bid_whole(app, client, ctx):
    vertical = make_vertical(slots=1, margin_bps=2000, floors=FLOORS)
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, vertical)
    fund(buyer, 1_000_000)
    make_buy_order(buyer, vertical, bid_minor=2000, exclusive=True)
    seller_key, buyer_key = make_key(seller), make_key(buyer)
    for sale in sales_of(seller_key, client, vertical.id, 1, 5):  # all rejected, but only 5
        client.post(f"/api/v1/sales/{sale.id}/reject", headers=auth(buyer_key))

    rate_quality_now()
    [sale] = sales_of(seller_key, client, vertical.id, 6, 1)

    assert (sale.price_minor, sale.payout_minor) == (2000, 1600)
    [row] = client.get("/api/v1/quality", headers=auth(seller_key)).get_json()["verticals"]
    assert row["multiplier_bps"] == 10_000 and "too few to judge" in row["reason"]


def test_a_buyer_whose_posts_are_often_refused_loses_a_tie_to_a_cleaner_buyer(app, client, ctx):
    vertical = make_vertical(slots=1, margin_bps=2000, floors=FLOORS)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    refuser, clean = make_user("advertiser"), make_user("advertiser")
    fund(refuser, 1_000_000)
    fund(clean, 1_000_000)
    first = make_buy_order(refuser, vertical, bid_minor=2000, exclusive=True)  # older: it wins ties today
    seller_key = make_key(seller)
    bought = sales_of(seller_key, client, vertical.id, 1, 20)
    # As its endpoint's refusals leave them (the refusal itself: tests/api/test_exchange_flow.py).
    refused = [sale.id for sale in bought[:5]]
    db.session.execute(update(Sale).where(Sale.id.in_(refused)).values(post_status="refused"))
    db.session.commit()
    make_buy_order(clean, vertical, bid_minor=2000, exclusive=True)

    rate_quality_now()
    [tied] = sales_of(seller_key, client, vertical.id, 21, 1)
    standing = client.get("/api/v1/quality", headers=auth(make_key(refuser))).get_json()["verticals"]

    assert tied.buyer_id == clean.id, "an equal bid from the buyer that refuses less wins"
    ranks = dict(
        db.session.execute(
            select(AuctionBid.buy_order_id, AuctionBid.buyer_rank_tenths).where(
                AuctionBid.auction_id == tied.auction_id
            )
        ).all()
    )
    assert ranks[first.id] == 250  # 5 of 20 refused: 25.0 %
    assert standing[0]["rate_tenths"] == 250 and "5 posts refused" in standing[0]["reason"]
    signed_in(app, client, refuser)
    assert "Your standing among equal bids" in page(app, client, "/advertiser/buy-orders")


def test_quality_is_counted_at_most_every_so_often(app, client, ctx, frozen_clock):
    vertical = make_vertical(slots=1, floors=FLOORS)
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, vertical)
    fund(buyer, 100_000)
    make_buy_order(buyer, vertical, bid_minor=2000, exclusive=True)
    sales_of(make_key(seller), client, vertical.id, 1, 1)  # one pending sale: a buyer's record

    first = rate_quality_now()
    frozen_clock.advance(seconds=app.config["QUALITY_EVERY_SECONDS"] - 1)
    early = rate_quality_now()
    frozen_clock.advance(seconds=1)
    due = rate_quality_now()

    assert first == {"sellers_rated": 0, "buyers_rated": 1}  # a pending sale is not decided yet
    assert early == {"sellers_rated": 0, "buyers_rated": 0}, "not due: nothing counted"
    assert due == {"sellers_rated": 0, "buyers_rated": 1}
