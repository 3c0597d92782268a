"""Catalog orders taking turns at the till on real PostgreSQL over real HTTP: while another
transaction holds the till, a buyer's request waits, then withdraws its order after the
wait and answers 503 with nothing bought; once the till is free, the same purchase is made
(docs/exchange.md, "The catalog")."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

import exchange.catalog.purchases as purchases
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogOrder
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead, submit
from tests.conftest import BACKEND
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import fund, make_key, make_user
from tests.http_harness import LiveServer, call


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "the till's turns are PostgreSQL's advisory locks (tests/services)"


def test_a_request_that_cannot_get_its_turn_withdraws_its_order(live_app_factory, monkeypatch):
    monkeypatch.setattr(purchases, "WAIT_SECONDS", 1.0)
    app = live_app_factory()
    with app.app_context():
        vertical = make_vertical(slots=2)
        seller = make_user("webmaster")
        make_seller(seller, vertical)
        lead_id = submit(app.test_client(), make_key(seller), vertical.id, solar_lead(90)).get_json()["id"]
        sweep_catalog()
        buyer = make_user("advertiser")
        fund(buyer, 10_000)
        key = make_key(buyer)
        db.session.commit()
        with db.engine.connect() as holder, LiveServer(app) as server:
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": purchases.TILL_LOCK})
            busy = call(server.port, "POST", f"/api/v1/catalog/{lead_id}/buy", key, {})
            holder.rollback()  # the till is free
            bought = call(server.port, "POST", f"/api/v1/catalog/{lead_id}/buy", key, {})
        db.session.expire_all()
        orders = list(db.session.scalars(select(CatalogOrder).order_by(CatalogOrder.id)))
        sales = list(db.session.scalars(select(Sale).where(Sale.lead_id == lead_id)))

    assert busy.status == 503
    assert busy.body["error"]["code"] == "busy"
    assert bought.status == 201
    assert [order.status for order in orders] == ["withdrawn", "filled"]
    assert [sale.id for sale in sales] == orders[1].sale_ids


def test_the_filling_after_a_long_wait_keeps_no_short_lock_timeout(live_app_factory):
    """Taking the till sets lock_timeout for its wait only: the transaction that then
    fills the orders has the server's own again."""
    app = live_app_factory()
    with app.app_context():
        default = db.session.scalar(text("SELECT current_setting('lock_timeout')"))
        db.session.rollback()
        db.session.execute(purchases.TAKE_TILL, {"key": purchases.TILL_LOCK, "timeout": "5"})
        during_the_fill = db.session.scalar(text("SELECT current_setting('lock_timeout')"))
        db.session.rollback()

    assert during_the_fill == default
