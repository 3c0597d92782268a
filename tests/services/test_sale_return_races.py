"""Sale returns raced on real PostgreSQL over real HTTP: a buyer returning ten sales at once
against a cap that allows one gets exactly one return, and a return conceded or decided by
many requests at once reverses its sale's money exactly once; the ledger's invariants hold
(docs/exchange.md, "Returns")."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from billing.check import run_checks
from billing.models import Transfer
from exchange.buying.models import Sale
from exchange.disputes.models import Dispute
from exchange.extensions import db
from tests.api.test_sale_returns import EVIDENCE, answer, approved_sales, return_sale
from tests.conftest import BACKEND
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer, call

RACERS = 10


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "the return races run on PostgreSQL (tests/services)"


def race(port: int, requests: list[tuple[str, str, dict]]) -> list[tuple[int, str]]:
    """Send every (path, key, body) at once, one thread each; their (status, error code)."""
    barrier = threading.Barrier(len(requests))
    outcomes: list[tuple[int, str]] = []

    def send(path: str, key: str, body: dict) -> None:
        barrier.wait(timeout=30)
        reply = call(port, "POST", path, key, body)
        outcomes.append((reply.status, reply.body["error"]["code"] if reply.status >= 400 else ""))

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(requests), "every request was answered"
    return outcomes


def reversals(sale_id: int) -> int:
    pattern = f"sale:{sale_id}:return:%"
    return db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.id.like(pattern)))


def test_ten_returns_at_once_against_a_cap_of_one_make_exactly_one(live_app_factory):
    app = live_app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": RACERS + 5, "max_overflow": 5})
    with app.app_context():
        # 10 % of 10 purchases: one return.
        _, _, buyer_key, sales = approved_sales(app.test_client(), count=RACERS, cap=10)
        db.session.commit()

    body = {"reason": "wrong_number", "evidence": EVIDENCE}
    with LiveServer(app) as server:
        outcomes = race(
            server.port, [(f"/api/v1/sales/{sale_id}/return", buyer_key, body) for sale_id in sales]
        )

    assert Counter(outcomes) == {(201, ""): 1, (409, "return_cap_reached"): RACERS - 1}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dispute)) == 1


def _opened(app, escalate: bool) -> tuple[int, int, str, str]:
    """One approved sale with a return asked (and contested, if ``escalate``)."""
    client = app.test_client()
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    dispute_id = return_sale(client, buyer_key, sale_id, "no_consent").get_json()["id"]
    if escalate:
        answer(client, seller_key, dispute_id, accept=False, statement="The consent is on record.")
    db.session.commit()
    return sale_id, dispute_id, seller_key, buyer_key


@pytest.mark.parametrize(
    ("escalate", "requests"),
    [
        pytest.param(
            False,
            lambda dispute_id, seller_key, _moderator_key: [
                (f"/api/v1/disputes/{dispute_id}/answer", seller_key, {"accept": True})
            ],
            id="the seller concedes ten times at once",
        ),
        pytest.param(
            True,
            lambda dispute_id, _seller_key, moderator_key: [
                (
                    f"/api/v1/disputes/{dispute_id}/resolve",
                    moderator_key,
                    {"decision": "uphold", "reason": "No consent on record for this number."},
                )
            ],
            id="a moderator upholds ten times at once",
        ),
    ],
)
def test_a_return_upheld_by_many_requests_at_once_reverses_the_sale_once(
    live_app_factory, escalate: bool, requests: Callable
):
    app = live_app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": RACERS + 5, "max_overflow": 5})
    with app.app_context():
        sale_id, dispute_id, seller_key, _ = _opened(app, escalate)
        moderator_key = make_key(make_user("moderator"))
        db.session.commit()

    [request] = requests(dispute_id, seller_key, moderator_key)
    with LiveServer(app) as server:
        outcomes = race(server.port, [request] * RACERS)

    statuses = Counter(status for status, _ in outcomes)
    with app.app_context():
        assert statuses[200] >= 1 and set(statuses) <= {200, 409}, outcomes
        assert db.session.get(Sale, sale_id).status == "returned"
        assert reversals(sale_id) == 2, "the payout and the margin, each reversed once"
        assert not any(run_checks().values()), run_checks()
