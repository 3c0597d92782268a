"""The exchange's pages, driven with the test client: a buyer creates, pauses and sees
today's count of its buy orders and decides its purchases; a seller joins a vertical and
follows its submissions and earnings; staff define verticals, approve sellers and read the
auction log. Nothing of another buyer's can be touched (404)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.auctions.models import Auction
from exchange.buying.models import BuyOrder, Sale
from exchange.extensions import db
from exchange.verticals.models import Vertical, VerticalSeller
from tests.api.test_advertiser_pages import page, post, signed_in
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


def test_a_buyer_creates_a_buy_order_on_its_page_and_sees_todays_wins(app, client, ctx):
    vertical = make_vertical()
    buyer = make_user("advertiser")
    fund(buyer, 10_000)
    signed_in(app, client, buyer)

    created = post(
        app,
        client,
        "/advertiser/buy-orders",
        {
            "vertical_id": str(vertical.id),
            "name": "Texas homeowners",
            "pricing": "fixed",
            "bid": "25.00",
            "exclusive": "on",
            "countries": "us",
            "regions": "tx",
            "min_temperature": "",
            "timezone": "America/Chicago",
            "day_leads": "10",
        },
    )
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    submit(client, make_key(seller), vertical.id, solar_lead())
    text = page(app, client, "/advertiser/buy-orders")

    assert created.status_code == 303
    order = db.session.scalar(select(BuyOrder).where(BuyOrder.buyer_id == buyer.id))
    assert (order.bid_minor, order.exclusive, order.filters["regions"], order.caps["day_leads"]) == (
        2500,
        True,
        ["TX"],
        10,
    )
    assert "Texas homeowners" in text and "1 won, 25.00 USD" in text


def test_a_buy_order_form_that_cannot_work_says_why_and_stores_nothing(app, client, ctx):
    vertical = make_vertical()
    buyer = make_user("advertiser")
    signed_in(app, client, buyer)

    response = post(
        app,
        client,
        "/advertiser/buy-orders",
        {
            "vertical_id": str(vertical.id),
            "name": "Bad",
            "pricing": "fixed",
            "bid": "25.001",
            "timezone": "Mars/Base",
        },
    )

    assert response.status_code == 422
    assert "bid" in response.get_data(as_text=True) and "decimal places" in response.get_data(as_text=True)
    assert db.session.query(BuyOrder).count() == 0


def test_a_buyer_pauses_its_order_and_not_anothers(app, client, ctx):
    vertical = make_vertical()
    buyer, other = make_user("advertiser"), make_user("advertiser")
    mine, theirs = make_buy_order(buyer, vertical), make_buy_order(other, vertical)
    signed_in(app, client, buyer)

    paused = post(app, client, f"/advertiser/buy-orders/{mine.id}/status", {"status": "paused"})
    touched = post(app, client, f"/advertiser/buy-orders/{theirs.id}/status", {"status": "paused"})
    db.session.expire_all()

    assert paused.status_code == 303 and db.session.get(BuyOrder, mine.id).status == "paused"
    assert touched.status_code == 404 and db.session.get(BuyOrder, theirs.id).status == "active"


def test_a_buyer_sees_the_lead_it_bought_and_rejects_it(app, client, ctx):
    vertical = make_vertical(slots=1)
    buyer, seller = make_user("advertiser"), make_user("webmaster")
    fund(buyer, 10_000)
    make_buy_order(buyer, vertical, bid_minor=2000)
    make_seller(seller, vertical)
    submit(client, make_key(seller), vertical.id, solar_lead(5, name="Grace Hopper"))
    sale = db.session.scalar(select(Sale))
    signed_in(app, client, buyer)

    text = page(app, client, "/advertiser/purchases")
    rejected = post(app, client, f"/advertiser/purchases/{sale.id}/reject", {"reason": "wrong number"})
    db.session.expire_all()

    assert "Grace Hopper" in text and "sold 1 of 1" in text
    assert rejected.status_code == 303
    assert db.session.get(Sale, sale.id).status == "rejected"


def test_a_seller_joins_a_vertical_and_follows_what_its_leads_earn(app, client, ctx):
    vertical = make_vertical(margin_bps=2000)
    buyer, seller = make_user("advertiser"), make_user("webmaster")
    fund(buyer, 10_000)
    make_buy_order(buyer, vertical, bid_minor=2000)
    signed_in(app, client, seller)

    joined = post(app, client, f"/webmaster/verticals/{vertical.id}/join")
    submit(client, make_key(seller), vertical.id, solar_lead())
    text = page(app, client, "/webmaster/submissions")
    db.session.expire_all()

    assert joined.status_code == 303
    assert (
        db.session.scalar(select(VerticalSeller.status).where(VerticalSeller.webmaster_id == seller.id))
        == "active"
    )
    assert "sold" in text and "16.00 USD" in text
    assert "20.00" not in text, "a seller never sees the buyer's price"


def test_staff_define_a_vertical_approve_a_seller_and_read_an_auction(app, client, ctx):
    admin = make_user("admin")
    signed_in(app, client, admin)

    created = post(
        app,
        client,
        "/admin/verticals",
        {
            "name": "Roofing — US",
            "currency": "USD",
            "fields": '[{"name": "phone", "type": "phone", "required": true},'
            ' {"name": "country", "type": "country"}]',
            "floors": '{"*": {"cold": 700}}',
            "margin_bps": "1500",
            "slots": "2",
            "sellers_need_approval": "on",
        },
    )
    vertical = db.session.scalar(select(Vertical).where(Vertical.name == "Roofing — US"))
    seller = make_user("webmaster")
    waiting = make_seller_pending(seller, vertical)
    approved = post(app, client, f"/admin/vertical-sellers/{waiting.id}/approve")
    buyer = make_user("advertiser")
    fund(buyer, 10_000)
    make_buy_order(buyer, vertical, bid_minor=900)
    submit(
        client,
        make_key(seller),
        vertical.id,
        {"fields": {"phone": "+1 202 555 0199", "country": "US"}, "consent": solar_lead()["consent"]},
    )
    auction = db.session.scalar(select(Auction))
    text = page(app, client, f"/admin/auctions/{auction.id}")
    db.session.expire_all()

    assert created.status_code == 200 and (vertical.slots, vertical.margin_bps) == (2, 1500)
    assert approved.status_code == 303 and db.session.get(VerticalSeller, waiting.id).status == "active"
    assert "won" in text and "chose" in text and str(buyer.id) in text
    assert "Roofing — US" in page(app, client, "/admin/verticals")


def test_a_vertical_form_with_broken_json_says_so(app, client, ctx):
    signed_in(app, client, make_user("admin"))

    response = post(
        app, client, "/admin/verticals", {"name": "X", "currency": "USD", "fields": "[", "floors": "{}"}
    )

    assert response.status_code == 422 and "Not JSON." in response.get_data(as_text=True)
    assert db.session.query(Vertical).count() == 0


def vertical_form(vertical, **changes) -> dict:
    form = {
        "status": vertical.status,
        "floors": '{"*": {"cold": 500, "warm": 800, "hot": 1200}}',
        "allowed_countries": "",
        "margin_bps": str(vertical.margin_bps),
        "margin_minor": str(vertical.margin_minor),
        "slots": str(vertical.slots),
        "duplicate_window_seconds": str(vertical.duplicate_window_seconds),
        "review_window_seconds": str(vertical.review_window_seconds),
        "hold_seconds": str(vertical.hold_seconds),
        "return_window_seconds": str(vertical.return_window_seconds),
        "return_cap_percent": "" if vertical.return_cap_percent is None else str(vertical.return_cap_percent),
    }
    return {**form, **changes}


def test_an_admin_changes_a_verticals_floors_margin_and_slots_and_the_next_auction_uses_them(
    app, client, ctx
):
    vertical = make_vertical(slots=1, margin_bps=1000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    buyer = make_user("advertiser")
    fund(buyer, 100_000)
    make_buy_order(buyer, vertical, bid_minor=900)
    signed_in(app, client, make_user("admin"))
    assert f"/admin/verticals/{vertical.id}" in page(app, client, "/admin/verticals")

    saved = post(
        app,
        client,
        f"/admin/verticals/{vertical.id}",
        vertical_form(
            vertical, floors='{"*": {"cold": 1000, "warm": 1000, "hot": 1000}}', margin_bps="2500", slots="3"
        ),
    )
    submit(client, make_key(seller), vertical.id, solar_lead())
    db.session.expire_all()

    assert saved.status_code == 200 and "Saved." in saved.get_data(as_text=True)
    assert (vertical.margin_bps, vertical.slots) == (2500, 3)
    assert vertical.floors == {"*": {"cold": 1000, "warm": 1000, "hot": 1000}}
    auction = db.session.scalar(select(Auction))
    assert auction.outcome == "unsold", "the 900 bid is under the new floor of 1000"
    assert auction.rules["slots"] == 3


def test_a_verticals_page_refuses_bad_settings_with_field_messages_and_changes_nothing(app, client, ctx):
    vertical = make_vertical(slots=2, margin_bps=1000)
    signed_in(app, client, make_user("admin"))

    broken = post(
        app, client, f"/admin/verticals/{vertical.id}", vertical_form(vertical, floors="{", slots="x")
    )
    invalid = post(
        app, client, f"/admin/verticals/{vertical.id}", vertical_form(vertical, floors='{"usa": {"cold": 1}}')
    )
    db.session.expire_all()

    assert broken.status_code == 422 and "Not JSON." in broken.get_data(as_text=True)
    assert "A whole number." in broken.get_data(as_text=True)
    assert invalid.status_code == 422 and "A country code, or *." in invalid.get_data(as_text=True)
    assert (vertical.slots, vertical.margin_bps) == (2, 1000)


def test_an_admin_sets_a_verticals_return_window_and_cap_and_clears_the_cap(app, client, ctx):
    vertical = make_vertical(slots=2)
    signed_in(app, client, make_user("admin"))

    capped = post(
        app,
        client,
        f"/admin/verticals/{vertical.id}",
        vertical_form(vertical, return_window_seconds="86400", return_cap_percent="15"),
    )
    db.session.expire_all()
    assert capped.status_code == 200
    assert (vertical.return_window_seconds, vertical.return_cap_percent) == (86400, 15)

    uncapped = post(
        app, client, f"/admin/verticals/{vertical.id}", vertical_form(vertical, return_cap_percent="")
    )
    too_long = post(
        app,
        client,
        f"/admin/verticals/{vertical.id}",
        vertical_form(vertical, return_window_seconds=str(vertical.hold_seconds + 1)),
    )
    too_high = post(
        app, client, f"/admin/verticals/{vertical.id}", vertical_form(vertical, return_cap_percent="101")
    )
    db.session.expire_all()
    assert uncapped.status_code == 200 and vertical.return_cap_percent is None
    assert too_long.status_code == 422
    assert "The return window cannot be longer than the hold." in too_long.get_data(as_text=True)
    assert too_high.status_code == 422
    assert "less than or equal to 100" in too_high.get_data(as_text=True)
    assert vertical.return_window_seconds == 86400 and vertical.return_cap_percent is None


def test_a_moderator_reads_the_verticals_but_cannot_change_one(app, client, ctx):
    vertical = make_vertical(slots=2)
    signed_in(app, client, make_user("moderator"))

    listing = page(app, client, "/admin/verticals")
    refused = post(app, client, f"/admin/verticals/{vertical.id}", vertical_form(vertical, slots="1"))
    db.session.expire_all()

    assert vertical.name in listing and f"/admin/verticals/{vertical.id}" not in listing
    assert refused.status_code == 403 and vertical.slots == 2


def make_seller_pending(webmaster, vertical):
    from exchange.db import commit
    from exchange.verticals.services import join_vertical

    seller = join_vertical(webmaster, vertical.id)
    commit()
    assert seller.status == "pending"
    return seller
