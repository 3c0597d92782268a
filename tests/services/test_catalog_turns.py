"""Catalog orders taking turns at the till on real PostgreSQL over real HTTP: while another
transaction holds the till, a buyer's request waits, then withdraws its order after the
wait and answers 503 with nothing bought; once the till is free, the same purchase is made.
A request learns that the holder filled its order from the holder's announcement (its
doorbell), and the doorbell wakes the orders done and one other, and stops listening when
nobody waits (docs/exchange.md, "The catalog")."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from sqlalchemy import func, select, text

import exchange.catalog.doorbell as doorbell
import exchange.catalog.purchases as purchases
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogOrder
from exchange.db import commit
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
        lead_id, key = _a_listed_lead_and_a_funded_buyer(app)
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


def test_a_request_hears_that_the_holder_of_the_till_filled_its_order(live_app_factory, monkeypatch):
    """The request never looks for itself here (its poll is longer than the test): it
    answers because the holder's commit rang its bell, with the sale the holder made."""
    monkeypatch.setattr(purchases, "POLL_SECONDS", 60.0)
    monkeypatch.setattr(purchases, "WAIT_SECONDS", 60.0)
    app = live_app_factory()
    with app.app_context():
        lead_id, key = _a_listed_lead_and_a_funded_buyer(app)
        with LiveServer(app) as server:
            db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": purchases.TILL_LOCK})
            answers = []
            request = threading.Thread(
                target=lambda: answers.append(
                    call(server.port, "POST", f"/api/v1/catalog/{lead_id}/buy", key, {})
                )
            )
            request.start()
            _until(lambda: _orders("waiting") == 1)
            purchases.fill_waiting()
            commit()  # lets go of the till, and rings
            request.join(timeout=20)
        orders = list(db.session.scalars(select(CatalogOrder)))

    assert not request.is_alive(), "the request did not hear that its order was filled"
    assert answers[0].status == 201
    assert [order.status for order in orders] == ["filled"]
    assert answers[0].body["id"] == orders[0].sale_ids[0]


def test_an_announcement_wakes_the_orders_done_and_the_longest_waiting_other(live_app_factory):
    """Orders 1, 2 and 3 wait in one process; 2 is announced done: 2 is woken (done) and
    1 (the oldest still waiting: it tries the till), not 3."""
    app = live_app_factory()
    with app.app_context():
        bell = doorbell.Doorbell(doorbell.listening_connector(db.engine))
        with bell.expecting(1) as first, bell.expecting(2) as second, bell.expecting(3) as third:
            _until(bell.listening)
            doorbell.announce({2: None})
            commit()
            rung = second.wait(10)
            woken = first.is_set(), third.is_set()

    assert rung
    assert woken == (True, False)
    assert second.sale_ids is None  # refused, or not said: its request looks at its order


def test_an_announcement_tells_each_order_its_sales(live_app_factory):
    app = live_app_factory()
    with app.app_context():
        bell = doorbell.Doorbell(doorbell.listening_connector(db.engine))
        with bell.expecting(1) as filled, bell.expecting(2) as refused, bell.expecting(3) as two:
            _until(bell.listening)
            doorbell.announce({1: [41], 2: None, 3: [42, 43]})
            commit()
            rung = [order.wait(10) for order in (filled, refused, two)]

    assert rung == [True, True, True]
    assert (filled.sale_ids, refused.sale_ids, two.sale_ids) == ([41], None, [42, 43])


def test_orders_whose_sales_would_overflow_an_announcement_are_announced_without_them(live_app_factory):
    """Fifty orders of a hundred sales each say more than a notification may carry (8000
    bytes): the first ones carry their sales, the rest are announced alone, and every one
    of them is woken."""
    sales_of = {
        order_id: list(range(1_000_000 * order_id, 1_000_000 * order_id + 100)) for order_id in range(1, 51)
    }
    app = live_app_factory()
    with app.app_context():
        bell = doorbell.Doorbell(doorbell.listening_connector(db.engine))
        with contextlib.ExitStack() as waiting:
            bells = {order_id: waiting.enter_context(bell.expecting(order_id)) for order_id in sales_of}
            _until(bell.listening)
            doorbell.announce(sales_of)
            commit()
            rung = all(order.wait(10) for order in bells.values())

    told = [order_id for order_id, order in bells.items() if order.sale_ids is not None]
    assert rung
    assert told == list(range(1, len(told) + 1))  # the first ones, in order
    assert 0 < len(told) < 50
    assert all(bells[order_id].sale_ids == sales_of[order_id] for order_id in told)


def test_the_listening_connection_is_let_go_when_nobody_waits(live_app_factory, monkeypatch):
    monkeypatch.setattr(doorbell, "IDLE_SECONDS", 0.0)
    app = live_app_factory()
    with app.app_context():
        connect, made = doorbell.listening_connector(db.engine), []
        bell = doorbell.Doorbell(lambda: made.append(connect()) or made[-1])
        with bell.expecting(1):
            _until(bell.listening)
        _until(lambda: made[0].closed)

    assert not bell.listening()
    assert len(made) == 1


def _a_listed_lead_and_a_funded_buyer(app) -> tuple[int, str]:
    vertical = make_vertical(slots=2)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    lead_id = submit(app.test_client(), make_key(seller), vertical.id, solar_lead(90)).get_json()["id"]
    sweep_catalog()
    buyer = make_user("advertiser")
    fund(buyer, 10_000)
    key = make_key(buyer)
    db.session.commit()
    return lead_id, key


def _orders(status: str) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).where(CatalogOrder.status == status))


def _until(condition, seconds: float = 10.0) -> None:
    """Wait (bounded) for what another thread or process does."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.02)
