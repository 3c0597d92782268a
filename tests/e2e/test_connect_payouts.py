"""Stripe Connect payouts end to end, over HTTP, through the official ``stripe`` library.

``localstripe`` has no Connect transfers (``POST /v1/transfers``), so these tests run
that path against ``tests/stripe_connect_server.py``: a small local HTTP server on
127.0.0.1 that answers ``/v1/transfers`` as Stripe's API reference documents it
(form-encoded parameters, a ``transfer`` object, ``Idempotency-Key`` replays, Stripe's
error bodies). The application is not patched: ``STRIPE_API_BASE`` points the library
at the server, exactly as it points it at localstripe for top-ups.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.check import run_checks
from billing.domain import platform, webmaster_available
from billing.models import Account, Transfer
from billing.payouts.jobs import connect_payout_job, payouts_job
from billing.payouts.models import Payout
from billing.payouts.services import request_payout
from exchange import jobs
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, release_hold
from tests.conftest import BACKEND
from tests.factories import fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.http_harness import LiveServer, call, process_env, run_worker_burst
from tests.integration.helpers import submit_and_validate
from tests.stripe_connect_server import CONNECTED_ACCOUNT, StripeConnectServer

EARNED = 5000


@pytest.fixture
def stripe_connect():
    with StripeConnectServer() as server:
        yield server


class Market:
    """An app on the Stripe Connect server, served over HTTP, with a webmaster who has
    EARNED available and has chosen the Stripe Connect rail."""

    def __init__(self, live_app_factory, stripe_connect, account: str = CONNECTED_ACCOUNT, **config):
        self.app = live_app_factory(**stripe_connect.app_config(), **config)
        self.stripe = stripe_connect
        with self.app.app_context():
            advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
            offer = make_offer(advertiser, rate_minor=EARNED + 1000, payout_minor=EARNED, hold_seconds=0)
            fund(advertiser, 20_000)
            make_join(webmaster, offer)
            lead = submit_and_validate(webmaster, offer, lead_fields())
            approve_lead(lead.id, Actor(kind="user", user_id=advertiser.id, label="test"))
            commit()
            assert release_hold(lead.id)
            commit()
            self.webmaster_id, self.key = webmaster.id, make_key(webmaster)
        self._server = LiveServer(self.app)
        self.port = self._server.__enter__().port
        chosen = self.call(
            "PUT", "/api/v1/payout-settings", {"rail": "stripe_connect", "stripe_account_id": account}
        )
        assert chosen.status == 200, chosen.body

    def close(self) -> None:
        self._server.__exit__()

    def call(self, method: str, path: str, body: object = None):
        return call(self.port, method, path, self.key, body)

    def request_payout(self, amount_minor: int = EARNED):
        return self.call("POST", "/api/v1/payouts", {"currency": "USD", "amount_minor": amount_minor})

    def read(self, query):
        with self.app.app_context():
            value = db.session.scalar(query.execution_options(populate_existing=True))
            db.session.expunge_all()
            return value

    def payout(self, payout_id: int) -> Payout:
        return self.read(select(Payout).where(Payout.id == payout_id))

    def available(self) -> int:
        account = self.read(
            select(Account).where(Account.code == webmaster_available(self.webmaster_id, "USD").code)
        )
        return account.balance.available

    def cash_out(self) -> int:
        account = self.read(select(Account).where(Account.code == platform("cash_out", "USD").code))
        return account.credits_posted if account else 0

    def transfer(self, transfer_id: str) -> Transfer | None:
        return self.read(select(Transfer).where(Transfer.id == transfer_id))

    def ledger_problems(self) -> dict:
        with self.app.app_context():
            return {name: problems for name, problems in run_checks().items() if problems}


@pytest.fixture
def market(live_app_factory, stripe_connect):
    built = []

    def build(**kwargs) -> Market:
        built.append(Market(live_app_factory, stripe_connect, **kwargs))
        return built[-1]

    yield build
    for each in built:
        each.close()


def test_a_connect_payout_is_sent_as_a_stripe_transfer_and_marked_paid(market, stripe_connect):
    shop = market()

    reply = shop.request_payout()

    assert reply.status == 201, reply.body
    payout = shop.payout(reply.body["id"])  # the job ran after the request's commit
    assert (payout.status, payout.rail, payout.stripe_account_id) == (
        "paid",
        "stripe_connect",
        CONNECTED_ACCOUNT,
    )
    (transfer,) = stripe_connect.transfers.values()
    assert payout.stripe_transfer_id == transfer["id"] and transfer["id"].startswith("tr_")
    (sent,) = stripe_connect.requests
    assert sent["idempotency_key"] == f"payout-{payout.id}"
    assert sent["params"] == {
        "amount": str(EARNED),
        "currency": "usd",
        "destination": CONNECTED_ACCOUNT,
        "transfer_group": f"payout-{payout.id}",
        "metadata": {"payout_id": str(payout.id), "webmaster_id": str(shop.webmaster_id)},
    }
    posted = shop.transfer(f"payout:{payout.id}:paid")
    assert (posted.kind, posted.pending_id, posted.amount_minor) == (
        "post_pending",
        f"payout:{payout.id}",
        EARNED,
    )
    assert (shop.available(), shop.cash_out()) == (0, EARNED)
    listed = shop.call("GET", "/api/v1/payouts").body["items"]
    assert [(p["id"], p["status"], p["stripe_transfer_id"]) for p in listed] == [
        (payout.id, "paid", transfer["id"])
    ]
    assert shop.ledger_problems() == {}


def test_a_job_retried_after_stripe_forgot_its_key_finds_the_transfer_it_made(market, stripe_connect):
    shop = market(JOBS_RAISE_ERRORS=False)
    stripe_connect.lose_answers(3)  # the transfer is made, no answer arrives
    payout_id = shop.request_payout().body["id"]
    assert (shop.payout(payout_id).status, stripe_connect.creations) == ("requested", 1)
    stripe_connect.forget_idempotency_keys()  # a day later, Stripe no longer knows payout-<id>

    with shop.app.app_context():
        outcome = connect_payout_job(payout_id)

    assert "paid" in outcome, outcome
    assert stripe_connect.creations == 1
    (transfer,) = stripe_connect.transfers.values()
    assert shop.payout(payout_id).stripe_transfer_id == transfer["id"]
    assert (shop.available(), shop.cash_out()) == (0, EARNED)
    assert shop.ledger_problems() == {}


def test_a_retried_job_makes_one_transfer_when_stripes_first_answer_was_lost(market, stripe_connect):
    # In-process jobs log their failure instead of raising it into the request (as in production).
    shop = market(JOBS_RAISE_ERRORS=False)
    stripe_connect.lose_answers(
        3
    )  # Stripe acts, the answer never arrives: the first try and the library's 2 retries

    reply = shop.request_payout()

    assert reply.status == 201, reply.body
    payout_id = reply.body["id"]
    assert shop.payout(payout_id).status == "requested"  # the job raised, for rq to try again
    assert (stripe_connect.creations, len(stripe_connect.requests)) == (1, 3)
    assert shop.available() == 0  # still reserved

    with shop.app.app_context():
        outcome = connect_payout_job(payout_id)  # what rq's retry runs
        done = connect_payout_job(payout_id)  # and a duplicate delivery of the job

    assert "paid" in outcome and done == "nothing to do"
    assert stripe_connect.creations == 1  # the library's retries carried the same Idempotency-Key
    assert {r["idempotency_key"] for r in stripe_connect.requests} == {f"payout-{payout_id}"}
    assert len(stripe_connect.requests) == 3  # the retried job found the transfer by its group
    assert f"transfer_group=payout-{payout_id}" in stripe_connect.lookups[-1]
    (transfer,) = stripe_connect.transfers.values()
    assert shop.payout(payout_id).stripe_transfer_id == transfer["id"]
    assert (shop.available(), shop.cash_out()) == (0, EARNED)
    assert shop.ledger_problems() == {}


def test_a_connect_payout_whose_job_was_lost_is_sent_by_the_periodic_job(
    market, stripe_connect, frozen_clock
):
    shop = market()
    with shop.app.app_context():
        payout_id = request_payout(shop.webmaster_id, "USD", EARNED).id
        jobs.discard_pending()  # the job never reaches a queue
        commit()

        payouts_job()  # too early to call it lost
        assert (stripe_connect.creations, db.session.get(Payout, payout_id).status) == (0, "requested")

        frozen_clock.advance(seconds=shop.app.config["PAYOUT_STUCK_SECONDS"] + 1)
        report = payouts_job()

    assert "queued again=1" in report
    assert shop.payout(payout_id).status == "paid"
    assert stripe_connect.creations == 1
    assert shop.ledger_problems() == {}


@pytest.mark.parametrize(
    ("account", "balance_minor", "code", "words"),
    [
        ("acct_1UnknownToStripe", 10**9, "resource_missing", "No such destination: 'acct_1UnknownToStripe'"),
        (CONNECTED_ACCOUNT, EARNED - 1, "balance_insufficient", "insufficient available funds"),
    ],
    ids=["no such destination", "platform balance too low"],
)
def test_a_final_stripe_refusal_fails_the_payout_and_returns_the_money(
    market, stripe_connect, account, balance_minor, code, words
):
    stripe_connect.balance_minor = balance_minor
    shop = market(account=account)

    reply = shop.request_payout()

    assert reply.status == 201, reply.body
    payout = shop.payout(reply.body["id"])
    assert payout.status == "failed"
    assert code in payout.note and words in payout.note
    assert payout.stripe_transfer_id is None and stripe_connect.creations == 0
    voided = shop.transfer(f"payout:{payout.id}:failed")
    assert (voided.kind, voided.pending_id) == ("void_pending", f"payout:{payout.id}")
    assert (shop.available(), shop.cash_out()) == (EARNED, 0)  # back in available
    with shop.app.app_context():
        assert connect_payout_job(payout.id) == "nothing to do"  # a failed payout is never sent
    assert len(stripe_connect.requests) == 1
    assert shop.request_payout().status == 201  # and the money can be asked for again
    assert shop.ledger_problems() == {}


@pytest.mark.skipif(BACKEND != "services", reason="a real rq worker needs Redis (the services suite)")
def test_a_connect_payout_is_sent_by_a_real_worker_from_the_billing_queue(
    market, stripe_connect, redis_url, live_database_url, tmp_path
):
    import redis
    from rq import Queue

    shop = market(REDIS_URL=redis_url)

    reply = shop.request_payout()

    payout_id = reply.body["id"]
    assert shop.payout(payout_id).status == "requested"  # queued, not run in the request
    assert f"payout-{payout_id}" in Queue("billing", connection=redis.Redis.from_url(redis_url)).job_ids
    env = process_env(live_database_url, str(tmp_path / "worker"), redis_url)
    env.update(stripe_connect.app_config())
    worker = run_worker_burst(env, "billing")

    assert worker.returncode == 0, worker.stderr
    assert shop.payout(payout_id).status == "paid"
    assert [r["idempotency_key"] for r in stripe_connect.requests] == [f"payout-{payout_id}"]
    assert (shop.available(), shop.cash_out()) == (0, EARNED)
