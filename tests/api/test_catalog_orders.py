"""Catalog orders filled in turns (docs/exchange.md, "The catalog"): the orders waiting
when a request takes the till are filled in one transaction, each as it would be alone,
after the ones before it; an order whose buyer stopped waiting is never filled; a batch
that fails leaves each request to fill its own order alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

import exchange.catalog.purchases as purchases
from billing.domain import advertiser_available
from billing.ledger import existing_account
from exchange import clock
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing, CatalogOrder
from exchange.catalog.till import Till
from exchange.db import commit
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

FLOOR = 1000
FUNDS = 10_000


@pytest.fixture
def two_leads(client, ctx):
    """Two unsold leads of a three-slot vertical, listed at a floor of 1000."""
    vertical = make_vertical(slots=3, margin_bps=2000)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)
    lead_ids = [submit(client, key, vertical.id, solar_lead(n)).get_json()["id"] for n in (70, 71)]
    sweep_catalog()
    db.session.execute(
        update(CatalogListing).where(CatalogListing.lead_id.in_(lead_ids)).values(floor_minor=FLOOR)
    )
    commit()
    return lead_ids


def funded_buyer() -> int:
    buyer = make_user("advertiser")
    fund(buyer, FUNDS)
    return buyer.id


def place(buyer_id: int, *lead_ids: int, first: int | None = None, placed_at=None) -> int:
    order = CatalogOrder(
        buyer_id=buyer_id,
        purchases=[
            {"lead_id": lead_id, "exclusive": False, "expected_price_minor": FLOOR} for lead_id in lead_ids
        ],
        first=first,
        placed_at=placed_at or clock.now(),
    )
    db.session.add(order)
    commit()
    return order.id


def available(buyer_id: int) -> int:
    db.session.expire_all()
    return existing_account(advertiser_available(buyer_id, "USD")).balance.available


def order(order_id: int) -> CatalogOrder:
    db.session.expire_all()
    return db.session.get(CatalogOrder, order_id)


def buyers_of(lead_id: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(Sale.buyer_id).where(Sale.lead_id == lead_id).order_by(Sale.id)))


def test_waiting_orders_are_filled_together_each_as_if_it_were_alone(two_leads):
    """Three slots of lead A: the first three orders take them, the fourth is refused
    sold out. A basket of B and A is every lead or none: refused on A, it leaves B unbought,
    so the order after it buys B's first slot."""
    lead_a, lead_b = two_leads
    buyers = [funded_buyer() for _ in range(6)]
    shared = [place(buyer, lead_a) for buyer in buyers[:4]]
    basket = place(buyers[4], lead_b, lead_a)
    after_it = place(buyers[5], lead_b)

    purchases.fill_waiting()
    commit()

    assert [order(n).status for n in shared] == ["filled", "filled", "filled", "refused"]
    assert order(shared[3]).refusal["code"] == "sold_out"
    assert buyers_of(lead_a) == buyers[:3]
    assert order(basket).status == "refused"
    assert order(basket).refusal["fields"] == {"lead_ids": [str(lead_a)]}
    assert buyers_of(lead_b) == [buyers[5]]
    assert order(after_it).sale_ids == [
        sale_id for (sale_id,) in db.session.execute(select(Sale.id).where(Sale.lead_id == lead_b))
    ]
    assert available(buyers[4]) == FUNDS  # its basket reserved nothing
    assert db.session.get(CatalogListing, lead_a).sold == 3
    assert db.session.get(CatalogListing, lead_b).sold == 1


def test_next_n_passes_by_what_it_cannot_buy_inside_a_batch(two_leads):
    """An order for the first one of A and B, placed after three orders took A's slots,
    gets B."""
    lead_a, lead_b = two_leads
    for _ in range(3):
        place(funded_buyer(), lead_a)
    late = funded_buyer()
    next_one = place(late, lead_a, lead_b, first=1)

    purchases.fill_waiting()
    commit()

    assert order(next_one).status == "filled"
    assert buyers_of(lead_b) == [late]
    assert late not in buyers_of(lead_a)


def test_an_order_left_waiting_past_the_wait_is_refused_and_never_filled(two_leads):
    lead_a, _ = two_leads
    buyer = funded_buyer()
    stale = place(buyer, lead_a, placed_at=clock.now() - timedelta(seconds=purchases.WAIT_SECONDS + 1))

    purchases.fill_waiting()
    commit()

    assert order(stale).status == "refused"
    assert order(stale).refusal["code"] == "expired"
    assert buyers_of(lead_a) == []
    assert available(buyer) == FUNDS


def test_a_batch_that_fails_leaves_each_request_to_fill_its_own_order_alone(two_leads, monkeypatch):
    """Writing a batch of several buyers' orders raises: the request that took the till
    rolls it back and fills its own order alone; the others wait for their own requests."""
    lead_a, _ = two_leads
    others = [place(funded_buyer(), lead_a) for _ in range(2)]
    real_close = Till.close

    def close_failing_for_several(till: Till) -> None:
        if len({sale.buyer_id for sale in till.made}) > 1:
            raise RuntimeError("the batch failed")
        real_close(till)

    monkeypatch.setattr(Till, "close", close_failing_for_several)
    buyer = funded_buyer()

    sale = purchases.buy(buyer, purchases.Purchase(lead_a, expected_price_minor=FLOOR))
    commit()

    assert sale.buyer_id == buyer
    assert buyers_of(lead_a) == [buyer]
    assert [order(n).status for n in others] == ["waiting", "waiting"]
