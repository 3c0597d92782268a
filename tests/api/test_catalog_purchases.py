"""Buying from the catalog through the API: one slot or every slot, at the price shown,
reserved through the ledger like an auction's sale; refused with a clear 409 and no money
moved when it cannot be made (docs/exchange.md, "The catalog")."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from billing.models import Transfer
from exchange import clock
from exchange.buying.models import Sale
from exchange.buying.register import consumer_hashes
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.delivery.leads.domain import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from exchange.delivery.leads.settings import put_setting
from exchange.extensions import db
from exchange.leads.models import Lead
from tests.advertiser_endpoint import Answer, Endpoint
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import auth, balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

AGEING = {
    "steps": [{"after_hours": 0, "percent": 100}, {"after_hours": 24, "percent": 50}],
    "gone_after_hours": 48,
}
FLOOR = 1000


@pytest.fixture
def listed(client, ctx):
    """One unsold lead of a three-slot vertical (20 % margin), listed at a floor of 1000."""
    vertical = make_vertical(slots=3, ageing=AGEING, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    lead_id = submit(client, make_key(seller), vertical.id, solar_lead(60)).get_json()["id"]
    sweep_catalog()
    db.session.execute(
        update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(floor_minor=FLOOR)
    )
    db.session.commit()
    return vertical, seller, lead_id


def buyer_with(funds: int) -> str:
    user = make_user("advertiser")
    fund(user, funds)
    return make_key(user)


def buy(client, key: str, lead_id: int, **body):
    return client.post(f"/api/v1/catalog/{lead_id}/buy", json=body, headers=auth(key))


def listing(lead_id: int) -> CatalogListing:
    db.session.expire_all()
    return db.session.get(CatalogListing, lead_id)


def sales_of(lead_id: int) -> list[Sale]:
    db.session.expire_all()
    return list(db.session.scalars(select(Sale).where(Sale.lead_id == lead_id).order_by(Sale.id)))


def transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def test_a_buyer_buys_one_slot_at_the_price_shown_and_its_money_is_reserved(client, listed):
    _, seller, lead_id = listed
    key = buyer_with(5000)

    response = buy(client, key, lead_id, expected_price_minor=FLOOR)

    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    assert (sale["price_minor"], sale["status"], sale["exclusive"], sale["auction_id"]) == (
        FLOOR,
        "pending",
        False,
        None,
    )
    assert sale["lead"]["fields"]["phone"]  # the full lead, as every sale gives its buyer
    stored = sales_of(lead_id)[0]
    assert (stored.payout_minor, stored.seller_id) == (800, seller.id)  # 20 % margin
    assert balance(client, key, "available")["available_minor"] == 5000 - FLOOR
    assert (listing(lead_id).sold, listing(lead_id).listed) == (1, True)


def test_the_sale_is_stored_as_it_was_made(client, listed, frozen_clock):
    """Its time to the microsecond, its review deadline, its buyer, seller and consumer: on
    PostgreSQL the sales are written from a JSON array, and nothing may be lost on the way."""
    vertical, seller, lead_id = listed
    buyer = make_user("advertiser")
    fund(buyer, 5000)
    bought_at = listing(lead_id).captured_at + timedelta(hours=1, microseconds=123_456)
    frozen_clock.set(bought_at)

    response = buy(client, make_key(buyer), lead_id)

    assert response.status_code == 201, response.get_json()
    stored = sales_of(lead_id)[0]
    lead = db.session.get(Lead, lead_id)
    assert stored.id == response.get_json()["id"]
    assert (stored.created_at, stored.review_deadline) == (
        bought_at,
        bought_at + timedelta(seconds=vertical.review_window_seconds),
    )
    assert (stored.buyer_id, stored.seller_id, stored.vertical_id, stored.currency) == (
        buyer.id,
        seller.id,
        vertical.id,
        vertical.currency,
    )
    assert (stored.exclusive, stored.buy_order_id, stored.auction_id) == (False, None, None)
    assert (stored.phone_hash, stored.email_hash) == consumer_hashes(lead.phone_key, lead.email_key)
    assert stored.phone_hash and stored.email_hash


def test_an_exclusive_purchase_takes_every_slot_and_closes_the_listing(client, listed):
    _, _, lead_id = listed
    first, second = buyer_with(5000), buyer_with(5000)

    bought = buy(client, first, lead_id, exclusive=True)
    late = buy(client, second, lead_id)

    assert bought.status_code == 201 and bought.get_json()["price_minor"] == 3 * FLOOR
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "sold_out"
    assert (listing(lead_id).sold, listing(lead_id).exclusive_sold, listing(lead_id).listed) == (
        3,
        True,
        False,
    )
    assert balance(client, second, "available")["available_minor"] == 5000


def test_no_exclusive_once_a_slot_is_sold_and_no_consumer_twice_to_one_buyer(client, listed):
    _, _, lead_id = listed
    first, second = buyer_with(5000), buyer_with(5000)
    assert buy(client, first, lead_id).status_code == 201

    exclusive = buy(client, second, lead_id, exclusive=True)
    again = buy(client, first, lead_id)

    assert exclusive.status_code == 409 and exclusive.get_json()["error"]["code"] == "sold_out"
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_bought"
    assert len(sales_of(lead_id)) == 1


def test_the_last_slot_sells_once_and_the_listing_leaves_the_catalog(client, listed):
    _, _, lead_id = listed
    keys = [buyer_with(5000) for _ in range(4)]

    statuses = [buy(client, key, lead_id).status_code for key in keys]

    assert statuses == [201, 201, 201, 409]
    assert (listing(lead_id).sold, listing(lead_id).listed) == (3, False)


def test_a_price_that_changed_since_it_was_shown_is_a_409_with_the_new_price(client, listed, frozen_clock):
    _, _, lead_id = listed
    key = buyer_with(5000)
    before = transfers()
    frozen_clock.set(listing(lead_id).captured_at + timedelta(hours=25))  # the 50 % step

    response = buy(client, key, lead_id, expected_price_minor=FLOOR)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "price_changed"
    assert response.get_json()["error"]["fields"] == {
        "expected_price_minor": ["500"],
        "lead_ids": [str(lead_id)],
    }
    assert (sales_of(lead_id), transfers()) == ([], before)
    assert buy(client, key, lead_id, expected_price_minor=500).status_code == 201


def test_not_enough_money_or_too_old_is_a_409_and_nothing_moves(client, listed, frozen_clock):
    _, _, lead_id = listed
    poor, rich = buyer_with(FLOOR - 1), buyer_with(5000)
    before = transfers()
    captured = listing(lead_id).captured_at

    frozen_clock.set(captured + timedelta(hours=1))
    short = buy(client, poor, lead_id)
    frozen_clock.set(captured + timedelta(hours=48))
    gone = buy(client, rich, lead_id)

    assert short.status_code == 409 and short.get_json()["error"]["code"] == "insufficient_funds"
    assert gone.status_code == 409 and gone.get_json()["error"]["code"] == "gone"
    assert (sales_of(lead_id), transfers()) == ([], before)


def test_only_buyers_buy_and_an_unknown_lead_is_not_found(client, listed):
    _, _, lead_id = listed

    webmaster = buy(client, make_key(make_user("webmaster")), lead_id)
    unknown = buy(client, buyer_with(5000), lead_id + 1000)
    bad = buy(client, buyer_with(5000), lead_id, expected_price_minor=-5)

    assert webmaster.status_code == 403
    assert unknown.status_code == 404
    assert bad.status_code == 422 and "expected_price_minor" in bad.get_json()["error"]["fields"]
    assert sales_of(lead_id) == []


def test_a_buyer_with_an_endpoint_gets_the_sale_posted_signed_with_the_lead_whole(client, listed):
    _, _, lead_id = listed
    buyer = make_user("advertiser")
    fund(buyer, 5000)
    with Endpoint() as endpoint:
        secret = put_setting(buyer.id, None, endpoint.url).secret
        db.session.commit()

        response = buy(client, make_key(buyer), lead_id)

    assert response.status_code == 201, response.get_json()
    [received] = endpoint.received
    body = received.json()
    assert (body["event"], body["sale"]["id"], body["lead"]["id"]) == (
        "exchange.sale",
        response.get_json()["id"],
        lead_id,
    )
    assert body["lead"]["fields"]["phone"]
    headers = {name.lower(): value for name, value in received.headers.items()}
    stamp, signed = headers[TIMESTAMP_HEADER.lower()], headers[SIGNATURE_HEADER.lower()]
    assert verify(secret, received.body, stamp, signed, int(time.time()))
    assert sales_of(lead_id)[0].post_status == "delivered"


def test_an_endpoint_that_rejects_the_post_rejects_the_sale_and_the_money_goes_back(client, listed):
    _, _, lead_id = listed
    buyer = make_user("advertiser")
    fund(buyer, 5000)
    key = make_key(buyer)
    with Endpoint([Answer.decision("reject", "not in our area")]) as endpoint:
        put_setting(buyer.id, None, endpoint.url)
        db.session.commit()

        response = buy(client, key, lead_id)

    assert response.status_code == 201
    [sale] = sales_of(lead_id)
    assert (sale.status, sale.post_status, sale.decision_reason) == ("rejected", "refused", "not in our area")
    assert balance(client, key, "available")["available_minor"] == 5000


@pytest.fixture
def shelf(client, ctx):
    """Four unsold leads of a two-slot vertical, listed at floors 1000, 1100, 1200, 1300,
    the oldest first."""
    vertical = make_vertical(slots=2, ageing=AGEING, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)
    ids = [submit(client, key, vertical.id, solar_lead(70 + n)).get_json()["id"] for n in range(4)]
    sweep_catalog()
    for n, lead_id in enumerate(ids):
        values = {"floor_minor": 1000 + 100 * n, "captured_at": clock.now() - timedelta(hours=4 - n)}
        db.session.execute(update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(**values))
    db.session.commit()
    return vertical, ids


def test_a_basket_buys_every_lead_or_none(client, shelf):
    _, ids = shelf
    key = buyer_with(10_000)
    taken = buyer_with(10_000)
    exclusive = {"lead_id": ids[2], "exclusive": True}
    assert (
        client.post("/api/v1/catalog/baskets", json={"items": [exclusive]}, headers=auth(taken)).status_code
        == 201
    )
    before = transfers()

    refused = client.post(
        "/api/v1/catalog/baskets",
        json={"items": [{"lead_id": ids[0]}, {"lead_id": ids[2]}]},
        headers=auth(key),
    )
    bought = client.post(
        "/api/v1/catalog/baskets",
        json={
            "items": [
                {"lead_id": ids[0], "expected_price_minor": 1000},
                {"lead_id": ids[1], "exclusive": True},
            ]
        },
        headers=auth(key),
    )

    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "sold_out"
    assert refused.get_json()["error"]["fields"] == {"lead_ids": [str(ids[2])]}
    assert bought.status_code == 201, bought.get_json()
    assert [(s["lead_id"], s["price_minor"], s["exclusive"]) for s in bought.get_json()] == [
        (ids[0], 1000, False),
        (ids[1], 2200, True),
    ]
    assert transfers() == before + 4  # two sales, two legs each: nothing of the refused basket
    assert balance(client, key, "available")["available_minor"] == 10_000 - 3200


def test_a_basket_names_each_lead_once_and_at_most_a_hundred(client, shelf):
    _, ids = shelf
    key = buyer_with(10_000)

    twice = client.post(
        "/api/v1/catalog/baskets",
        json={"items": [{"lead_id": ids[0]}, {"lead_id": ids[0]}]},
        headers=auth(key),
    )
    empty = client.post("/api/v1/catalog/baskets", json={"items": []}, headers=auth(key))

    assert twice.status_code == 422 and empty.status_code == 422


def test_the_next_n_that_match_are_bought_in_the_searchs_order_passing_by_the_unbuyable(client, shelf):
    _, ids = shelf
    first, second = buyer_with(10_000), buyer_with(10_000)
    assert buy(client, first, ids[3]).status_code == 201  # the newest is the first buyer's already

    bought = client.post("/api/v1/catalog/next", json={"count": 2, "sort": "newest"}, headers=auth(first))
    cheap = client.post(
        "/api/v1/catalog/next",
        json={"count": 5, "sort": "cheapest", "max_price_minor": 1100},
        headers=auth(second),
    )

    assert bought.status_code == 201, bought.get_json()
    assert [s["lead_id"] for s in bought.get_json()] == [ids[2], ids[1]]  # ids[3]: bought already
    assert [(s["lead_id"], s["price_minor"]) for s in cheap.get_json()] == [(ids[0], 1000), (ids[1], 1100)]


def test_next_with_nothing_to_buy_is_a_409(client, shelf):
    key = buyer_with(10_000)

    response = client.post("/api/v1/catalog/next", json={"count": 3, "country": "CA"}, headers=auth(key))

    assert response.status_code == 409 and response.get_json()["error"]["code"] == "none_available"


def test_a_rejected_sale_frees_its_slot_and_the_sweep_lists_the_lead_again(client, listed):
    _, _, lead_id = listed
    key = buyer_with(5000)
    sale = buy(client, key, lead_id, exclusive=True).get_json()
    assert listing(lead_id).listed is False

    rejected = client.post(
        f"/api/v1/sales/{sale['id']}/reject", json={"reason": "wrong number"}, headers=auth(key)
    )
    counts = sweep_catalog()

    assert rejected.status_code == 200, rejected.get_json()
    assert counts["listings_freed"] == 1
    assert (listing(lead_id).listed, listing(lead_id).sold, listing(lead_id).exclusive_sold) == (
        True,
        0,
        False,
    )
    assert sweep_catalog()["listings_freed"] == 0  # once
    assert buy(client, buyer_with(5000), lead_id).status_code == 201


def test_a_leads_own_sales_count_beyond_the_duplicate_window(client, ctx):
    """With no duplicate window the register keeps nothing, yet a lead sold exclusively is
    sold out, and its buyer cannot buy it again (issue 18 review)."""
    vertical = make_vertical(slots=2, duplicate_window_seconds=0, ageing=AGEING)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    lead_id = submit(client, make_key(seller), vertical.id, solar_lead(90)).get_json()["id"]
    sweep_catalog()
    first, second = buyer_with(10_000), buyer_with(10_000)

    alone = buy(client, first, lead_id, exclusive=True)
    late = buy(client, second, lead_id)

    assert alone.status_code == 201
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "sold_out"


def test_a_buyer_sees_its_price_never_the_sellers_payout(client, listed):
    _, _, lead_id = listed
    key = buyer_with(5000)

    sale = buy(client, key, lead_id).get_json()
    read = client.get(f"/api/v1/sales/{sale['id']}", headers=auth(key)).get_json()

    assert "payout_minor" not in sale and "payout_minor" not in read
    assert read["price_minor"] == FLOOR


def test_the_next_n_pass_by_what_the_buyer_has_and_exclusive_only_buys_every_slot(client, shelf):
    vertical, ids = shelf
    key = buyer_with(20_000)
    assert buy(client, key, ids[3]).status_code == 201  # the newest

    one = client.post("/api/v1/catalog/next", json={"count": 1, "sort": "newest"}, headers=auth(key))
    alone = client.post(
        "/api/v1/catalog/next", json={"count": 1, "sort": "newest", "exclusive_only": True}, headers=auth(key)
    )

    assert [s["lead_id"] for s in one.get_json()] == [ids[2]]  # not ids[3], its own already
    assert [(s["lead_id"], s["exclusive"], s["price_minor"]) for s in alone.get_json()] == [
        (ids[1], True, 2200)
    ]


def test_the_price_the_search_shows_is_the_price_a_purchase_charges_at_a_rounded_step(
    client, listed, frozen_clock
):
    """The search computes the price in SQL, the purchase in Python (Ageing.price_at): at
    the 50 % step a floor of 999 is 499.5, rounded half up to 500 by both."""
    vertical, _, lead_id = listed
    db.session.execute(
        update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(floor_minor=999)
    )
    db.session.commit()
    frozen_clock.set(listing(lead_id).captured_at + timedelta(hours=24))  # the first instant of the step
    key = buyer_with(5000)

    shown = client.get(
        "/api/v1/catalog", query_string={"vertical_id": vertical.id}, headers=auth(key)
    ).get_json()
    [item] = [i for i in shown["items"] if i["lead_id"] == lead_id]
    bought = buy(client, key, lead_id, expected_price_minor=item["price_minor"])

    assert (item["price_minor"], item["exclusive_price_minor"]) == (500, 1500)
    assert bought.status_code == 201 and bought.get_json()["price_minor"] == 500


def test_an_unsold_lead_bought_from_the_catalog_becomes_sold_once(client, listed):
    from exchange.leads.models import Lead, LeadEvent

    _, _, lead_id = listed
    assert db.session.get(Lead, lead_id).status == "unsold"

    first = buy(client, buyer_with(5000), lead_id)
    second = buy(client, buyer_with(5000), lead_id)
    db.session.expire_all()

    assert first.status_code == 201 and second.status_code == 201
    assert db.session.get(Lead, lead_id).status == "sold"
    moves = db.session.scalars(
        select(LeadEvent.action).where(LeadEvent.lead_id == lead_id, LeadEvent.to_status == "sold")
    ).all()
    assert moves == ["sell_from_catalog"], "moved once, by the first purchase"
