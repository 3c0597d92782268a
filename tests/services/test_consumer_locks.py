"""The register's locks on real PostgreSQL (``lock_consumers``): while one transaction holds
a consumer, another locking the same consumer waits until it ends, whether the consumer's
row was there before or is new; a transaction locking another consumer does not wait
(docs/exchange.md, "Exclusivity")."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from exchange.buying.register import lock_consumers
from exchange.db import commit, rollback
from exchange.extensions import db
from tests.conftest import BACKEND
from tests.exchange_factories import make_vertical

WAIT = "300ms"  # how long the second transaction waits for a lock before it gives up


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "row locks are PostgreSQL's (tests/services)"


@pytest.mark.parametrize("seen_before", [True, False], ids=["row-existed", "row-new"])
def test_a_consumer_held_by_one_transaction_makes_another_wait(live_app_factory, seen_before):
    app = live_app_factory()
    with app.app_context():
        vertical_id = make_vertical().id
        commit()
        if seen_before:
            lock_consumers([(vertical_id, ("phone-a", None))])
            commit()
        lock_consumers([(vertical_id, ("phone-a", "email-a"))])  # held until this session ends
        while_held = _lock_elsewhere(app, vertical_id, ("phone-a", None))
        other_consumer = _lock_elsewhere(app, vertical_id, ("phone-b", None))
        commit()
        after = _lock_elsewhere(app, vertical_id, ("phone-a", None))

    assert while_held == "waited"
    assert other_consumer == "locked"
    assert after == "locked"


def _lock_elsewhere(app, vertical_id: int, hashes: tuple[str | None, str | None]) -> str:
    """Lock the consumer in another transaction (a thread: a session of its own), giving up
    after ``WAIT``: "locked", or "waited" if it had to wait that long."""
    outcome = []

    def other() -> None:
        with app.app_context():
            db.session.execute(text(f"SET LOCAL lock_timeout = '{WAIT}'"))
            try:
                lock_consumers([(vertical_id, hashes)])
                outcome.append("locked")
            except OperationalError as error:
                assert "lock timeout" in str(error)
                outcome.append("waited")
            finally:
                rollback()
                db.session.remove()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=30)
    return outcome[0]
