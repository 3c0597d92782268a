"""Ping-post in: a seller prices a lead by its non-personal part, then posts it whole and
sells it at the quoted price or better, or learns why not (docs/exchange.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.buying.models import BuyOrder, Sale
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.models import Lead
from tests.api.test_exchange_flow import solar_lead
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")

PING_FIELDS = {"country": "US", "region": "TX", "age": 40, "homeowner": True}


@pytest.fixture
def market(ctx):
    vertical = make_vertical(slots=1, margin_bps=2000)
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, vertical)
    fund(buyer, 10_000)
    order = make_buy_order(buyer, vertical, bid_minor=2000)
    return vertical, auth(make_key(seller)), buyer, order


def ping(client, key, vertical_id, fields=PING_FIELDS):
    return client.post("/api/v1/pings", json={"vertical_id": vertical_id, "fields": fields}, headers=key)


def test_a_pinged_price_is_paid_when_the_lead_is_posted(client, market):
    vertical, key, buyer, order = market

    quoted = ping(client, key, vertical.id)
    posted = client.post(
        "/api/v1/posts", json={"ping_id": quoted.get_json()["ping_id"], **solar_lead()}, headers=key
    )

    assert quoted.status_code == 200, quoted.get_json()
    assert quoted.get_json()["price_minor"] == 1600  # 2000 bid less the 20 % margin
    assert posted.status_code == 200, posted.get_json()
    answer = posted.get_json()
    assert (answer["status"], answer["payout_minor"], answer["reason"]) == ("sold", 1600, None)
    (sale,) = db.session.scalars(select(Sale).where(Sale.lead_id == answer["lead_id"])).all()
    assert sale.buy_order_id == order.id
    again = client.post(
        "/api/v1/posts", json={"ping_id": quoted.get_json()["ping_id"], **solar_lead()}, headers=key
    )
    assert again.get_json() == answer, "posting again answers the same, sells nothing more"
    assert db.session.query(Lead).count() == 1


def test_a_ping_carrying_personal_data_is_refused(client, market):
    vertical, key, *_ = market

    response = ping(client, key, vertical.id, {**PING_FIELDS, "phone": "+1 202 555 0101"})

    assert response.status_code == 422
    assert "phone" in response.get_json()["error"]["fields"]


def test_a_price_no_buyer_pays_any_more_sells_nothing_and_says_why(client, market):
    vertical, key, buyer, order = market
    quoted = ping(client, key, vertical.id).get_json()
    db.session.get(BuyOrder, order.id).bid_minor = 1500
    commit()

    answer = client.post(
        "/api/v1/posts", json={"ping_id": quoted["ping_id"], **solar_lead()}, headers=key
    ).get_json()

    assert (answer["status"], answer["payout_minor"]) == ("unsold", 0)
    assert "1600" in answer["reason"]
    assert balance(client, make_key(buyer), "available")["available_minor"] == 10_000


def test_a_post_that_differs_from_its_ping_or_comes_too_late_is_refused(client, market, frozen_clock):
    vertical, key, *_ = market
    quoted = ping(client, key, vertical.id).get_json()

    changed = client.post(
        "/api/v1/posts", json={"ping_id": quoted["ping_id"], **solar_lead(age=20)}, headers=key
    )
    frozen_clock.advance(minutes=2)
    late = client.post("/api/v1/posts", json={"ping_id": quoted["ping_id"], **solar_lead()}, headers=key)

    assert changed.status_code == 422 and "age" in changed.get_json()["error"]["fields"]["fields"]
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "ping_expired"
    assert db.session.query(Lead).count() == 0


def test_no_bid_means_no_price(client, ctx):
    vertical = make_vertical()
    seller = make_user("webmaster")
    make_seller(seller, vertical)

    answer = ping(client, auth(make_key(seller)), vertical.id).get_json()

    assert answer["ping_id"] is None and answer["price_minor"] == 0 and answer["reason"]
