"""From a seller's lead to its sales: submitted to a vertical, validated, auctioned to the
buy orders whose filters it matches, money reserved per sale (docs/exchange.md). Fixed bids
only here; pinged buyers are in tests/api/test_auction_pings.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import Sale
from exchange.extensions import db
from exchange.leads.models import Consent, Lead
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

CONSENT = {
    "text": "I agree to be called about solar panels.",
    "given_at": "2026-12-05T10:00:00+01:00",
    "page_url": "https://solar.example/quote",
    "ip": "198.51.100.7",
    "certificate": "https://cert.trustedform.com/abc123",
}


def solar_lead(n: int = 1, **fields) -> dict:
    values = {
        "name": f"Ann Smith {n}",
        "phone": f"+1 202 555 {n:04d}",
        "email": f"ann{n}@example.com",
        "country": "US",
        "region": "TX",
        "postcode": "73301",
        "age": 40,
        "homeowner": True,
    }
    values.update(fields)
    return {"fields": values, "consent": CONSENT}


def submit(client, key: str, vertical_id: int, body: dict, idempotency: str | None = None):
    headers = auth(key) | ({"Idempotency-Key": idempotency} if idempotency else {})
    return client.post(f"/api/v1/verticals/{vertical_id}/leads", json=body, headers=headers)


def test_the_best_exclusive_bid_buys_the_lead_and_its_price_is_reserved(client, ctx):
    vertical = make_vertical(slots=3, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    alone, shared_1, shared_2 = (make_user("advertiser") for _ in range(3))
    for buyer in (alone, shared_1, shared_2):
        fund(buyer, 10_000)
    exclusive = make_buy_order(alone, vertical, exclusive=True, bid_minor=3000)
    make_buy_order(shared_1, vertical, bid_minor=1500)
    make_buy_order(shared_2, vertical, bid_minor=1400)

    response = submit(client, make_key(seller), vertical.id, solar_lead())

    assert response.status_code == 202, response.get_json()
    lead = db.session.get(Lead, response.get_json()["id"])
    assert lead.status == "sold"
    (sale,) = db.session.scalars(select(Sale).where(Sale.lead_id == lead.id)).all()
    assert (sale.buy_order_id, sale.price_minor, sale.payout_minor) == (exclusive.id, 3000, 2400)
    assert sale.exclusive and sale.status == "pending"
    assert balance(client, make_key(alone), "available")["available_minor"] == 7000
    assert balance(client, make_key(shared_1), "available")["available_minor"] == 10_000
    results = dict(db.session.execute(select(AuctionBid.buy_order_id, AuctionBid.result)).all())
    assert results[exclusive.id] == "won" and sorted(results.values()) == ["outbid", "outbid", "won"]
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == lead.id))
    assert consent.certificate == CONSENT["certificate"] and consent.given_at.hour == 9  # stored in UTC


def test_shared_bids_whose_sum_beats_the_exclusive_each_buy_a_slot(client, ctx):
    vertical = make_vertical(slots=3, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    buyers = [make_user("advertiser") for _ in range(4)]
    for buyer in buyers:
        fund(buyer, 10_000)
    make_buy_order(buyers[0], vertical, exclusive=True, bid_minor=3000)
    shared = [
        make_buy_order(b, vertical, bid_minor=bid)
        for b, bid in zip(buyers[1:], (1500, 1200, 1000), strict=True)
    ]

    lead_id = submit(client, make_key(seller), vertical.id, solar_lead()).get_json()["id"]

    sales = db.session.scalars(select(Sale).where(Sale.lead_id == lead_id).order_by(Sale.price_minor)).all()
    assert [(s.buy_order_id, s.price_minor, s.exclusive) for s in sales] == [
        (shared[2].id, 1000, False),
        (shared[1].id, 1200, False),
        (shared[0].id, 1500, False),
    ]
    assert db.session.get(Lead, lead_id).status == "sold"


def test_a_lead_no_order_wants_is_unsold_with_its_reason(client, ctx):
    vertical = make_vertical()
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    buyer = make_user("advertiser")
    fund(buyer, 10_000)
    order = make_buy_order(buyer, vertical, filters={"regions": ["CA"]})

    lead_id = submit(client, make_key(seller), vertical.id, solar_lead()).get_json()["id"]

    assert db.session.get(Lead, lead_id).status == "unsold"
    auction = db.session.scalar(select(Auction).where(Auction.lead_id == lead_id))
    assert (auction.status, auction.outcome, auction.unsold_reason) == ("done", "unsold", "no bid")
    bid = db.session.scalar(select(AuctionBid).where(AuctionBid.auction_id == auction.id))
    assert (bid.buy_order_id, bid.skipped) == (order.id, "filter: region")


def test_an_order_whose_buyer_cannot_pay_waits_and_the_next_bid_wins(client, ctx):
    vertical = make_vertical(slots=1)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    poor, rich = make_user("advertiser"), make_user("advertiser")
    fund(poor, 500)
    fund(rich, 10_000)
    waiting = make_buy_order(poor, vertical, bid_minor=5000)
    second = make_buy_order(rich, vertical, bid_minor=900)

    lead_id = submit(client, make_key(seller), vertical.id, solar_lead()).get_json()["id"]

    (sale,) = db.session.scalars(select(Sale).where(Sale.lead_id == lead_id)).all()
    assert sale.buy_order_id == second.id
    skipped = db.session.scalar(select(AuctionBid.skipped).where(AuctionBid.buy_order_id == waiting.id))
    assert skipped == "balance"
    assert db.session.get(type(waiting), waiting.id).status == "active", (
        "it waits for money, it does not fail"
    )


def test_a_seller_not_approved_for_the_vertical_cannot_submit(client, ctx):
    vertical = make_vertical(sellers_need_approval=True)
    stranger = make_user("webmaster")

    response = submit(client, make_key(stranger), vertical.id, solar_lead())

    assert response.status_code == 403
    assert db.session.query(Lead).count() == 0


def test_bad_fields_or_a_missing_consent_are_refused_with_field_messages(client, ctx):
    vertical = make_vertical()
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)

    no_consent = client.post(f"/api/v1/verticals/{vertical.id}/leads", json={"fields": {}}, headers=auth(key))
    bad_age = submit(client, key, vertical.id, solar_lead(age="forty"))

    assert no_consent.status_code == 422 and "consent" in no_consent.get_json()["error"]["fields"]
    assert bad_age.status_code == 422 and "age" in bad_age.get_json()["error"]["fields"]["fields"]
    assert db.session.query(Lead).count() == 0


def test_the_same_idempotency_key_answers_the_same_lead_once(client, ctx):
    vertical = make_vertical()
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)

    first = submit(client, key, vertical.id, solar_lead(), idempotency="k-1")
    again = submit(client, key, vertical.id, solar_lead(), idempotency="k-1")
    other = submit(client, key, vertical.id, solar_lead(2), idempotency="k-1")

    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert other.status_code == 409
    assert db.session.query(Lead).count() == 1
