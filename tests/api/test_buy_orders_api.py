"""Buy orders through the API: fixed or pinged, filters checked against the vertical,
caps and schedules, a buyer's own only (docs/exchange.md)."""

from __future__ import annotations

import pytest

from exchange.buying.models import BuyOrder
from exchange.extensions import db
from tests.exchange_factories import make_buy_order, make_vertical
from tests.factories import auth, make_key, make_user


def order_body(vertical_id: int, **overrides) -> dict:
    body = {
        "vertical_id": vertical_id,
        "name": "Homeowners in Texas",
        "exclusive": True,
        "pricing": "fixed",
        "bid_minor": 2500,
        "filters": {
            "countries": ["US"],
            "regions": ["TX"],
            "conditions": [
                {"field": "age", "op": ">=", "value": 25},
                {"field": "homeowner", "op": "=", "value": True},
            ],
            "min_temperature": "warm",
        },
        "schedule": {"timezone": "America/Chicago", "days": [0, 1, 2, 3, 4], "from_hour": 8, "to_hour": 20},
        "caps": {"day_leads": 10, "month_money_minor": 500_000},
    }
    body.update(overrides)
    return body


def test_a_buyer_creates_a_fixed_bid_order_and_sees_todays_count(client, ctx):
    vertical = make_vertical()
    buyer = make_user("advertiser")
    key = auth(make_key(buyer))

    response = client.post("/api/v1/buy-orders", json=order_body(vertical.id), headers=key)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    stored = db.session.get(BuyOrder, body["id"])
    assert (stored.buyer_id, stored.bid_minor, stored.exclusive) == (buyer.id, 2500, True)
    assert stored.filters["conditions"][0] == {"field": "age", "op": ">=", "value": 25}
    assert stored.schedule["timezone"] == "America/Chicago"
    assert stored.caps["day_leads"] == 10
    assert body["today"] == {"wins": 0, "spend_minor": 0}


def test_a_ping_order_needs_its_url_and_ceiling_and_takes_no_fixed_bid(client, ctx):
    vertical = make_vertical()
    key = auth(make_key(make_user("advertiser")))

    missing = client.post("/api/v1/buy-orders", json=order_body(vertical.id, pricing="ping"), headers=key)
    good = client.post(
        "/api/v1/buy-orders",
        json=order_body(
            vertical.id,
            pricing="ping",
            bid_minor=None,
            ping_url="https://buyer.example/ping",
            max_bid_minor=4000,
        ),
        headers=key,
    )

    assert missing.status_code == 422
    assert set(missing.get_json()["error"]["fields"]) == {"ping_url", "max_bid_minor", "bid_minor"}
    assert good.status_code == 201, good.get_json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"filters": {"conditions": [{"field": "phone", "op": "=", "value": "1"}]}}, "filters"),
        ({"filters": {"conditions": [{"field": "shoe_size", "op": "=", "value": 1}]}}, "filters"),
        ({"filters": {"conditions": [{"field": "region", "op": ">", "value": 1}]}}, "filters"),
        ({"filters": {"conditions": [{"field": "age", "op": "~", "value": 1}]}}, "filters"),
        ({"filters": {"countries": ["DE"]}}, "filters"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule"),
        ({"schedule": {"from_hour": 9, "to_hour": 9}}, "schedule"),
        ({"caps": {"day_leads": 0}}, "caps"),
        ({"bid_minor": 0}, "bid_minor"),
        ({"post_url": "javascript:alert(1)"}, "post_url"),
    ],
)
def test_an_order_that_cannot_work_is_refused_with_the_field_named(client, ctx, change, field):
    vertical = make_vertical()
    key = auth(make_key(make_user("advertiser")))

    response = client.post("/api/v1/buy-orders", json={**order_body(vertical.id), **change}, headers=key)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(BuyOrder).count() == 0


def test_an_order_in_an_unknown_vertical_is_not_found_and_in_a_paused_one_a_conflict(client, ctx):
    """The body is well formed either way: 404 for an id that names nothing, 409 for a
    vertical whose state refuses new orders (issue 17: 422 only for invalid fields)."""
    paused = make_vertical()
    paused.status = "paused"
    key = auth(make_key(make_user("advertiser")))

    unknown = client.post("/api/v1/buy-orders", json=order_body(paused.id + 1000), headers=key)
    refused = client.post("/api/v1/buy-orders", json=order_body(paused.id), headers=key)

    assert unknown.status_code == 404, unknown.get_json()
    assert unknown.get_json()["error"]["fields"] == {"vertical_id": ["Unknown vertical."]}
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "vertical_paused"
    assert db.session.query(BuyOrder).count() == 0


def test_a_buyer_pauses_its_order_on_a_paused_vertical_yet_cannot_resume_it_there(client, ctx):
    vertical = make_vertical()
    buyer = make_user("advertiser")
    order = make_buy_order(buyer, vertical)
    vertical.status = "paused"
    key = auth(make_key(buyer))

    paused = client.patch(f"/api/v1/buy-orders/{order.id}", json={"status": "paused"}, headers=key)
    resumed = client.patch(f"/api/v1/buy-orders/{order.id}", json={"status": "active"}, headers=key)

    assert paused.status_code == 200, paused.get_json()
    assert resumed.status_code == 409 and resumed.get_json()["error"]["code"] == "vertical_paused"
    assert db.session.get(BuyOrder, order.id).status == "paused"


def test_an_orders_vertical_cannot_change_yet_an_order_written_back_whole_is_accepted(client, ctx):
    vertical, elsewhere = make_vertical(), make_vertical()
    buyer = make_user("advertiser")
    order = make_buy_order(buyer, vertical)
    key = auth(make_key(buyer))

    moved = client.patch(f"/api/v1/buy-orders/{order.id}", json={"vertical_id": elsewhere.id}, headers=key)
    same = client.patch(f"/api/v1/buy-orders/{order.id}", json={"vertical_id": vertical.id}, headers=key)

    assert moved.status_code == 422, moved.get_json()
    assert moved.get_json()["error"]["fields"] == {"vertical_id": ["Cannot change."]}
    assert same.status_code == 200, same.get_json()
    assert db.session.get(BuyOrder, order.id).vertical_id == vertical.id


def test_a_buyer_pauses_its_order_and_cannot_touch_anothers(client, ctx):
    vertical = make_vertical()
    buyer, other = make_user("advertiser"), make_user("advertiser")
    order = make_buy_order(buyer, vertical)

    paused = client.patch(
        f"/api/v1/buy-orders/{order.id}", json={"status": "paused"}, headers=auth(make_key(buyer))
    )
    theirs = client.patch(
        f"/api/v1/buy-orders/{order.id}", json={"status": "active"}, headers=auth(make_key(other))
    )

    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    assert paused.get_json()["bid_minor"] == 1000, "a patch changes only what it names"
    assert theirs.status_code == 404
    assert db.session.get(BuyOrder, order.id).status == "paused"
    assert client.get("/api/v1/buy-orders", headers=auth(make_key(make_user("webmaster")))).status_code == 403
