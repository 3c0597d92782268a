"""Stripe's webhook on the real queue: answered at once, applied by a real rq worker
(localstripe sends the signed event; PostgreSQL, Redis and the worker are real)."""

from __future__ import annotations

import time

import redis
from rq import Queue
from sqlalchemy import select

from billing.topups.models import StripeEvent, Topup
from exchange.db import commit
from exchange.extensions import db
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer, call, process_env, run_worker_burst
from tests.stripe_server import LocalStripe


def stored_event(app) -> StripeEvent | None:
    with app.app_context():
        event = db.session.scalar(select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded"))
        db.session.remove()
        return event


def test_the_webhook_is_answered_at_once_and_the_credit_is_made_by_a_worker(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    with LocalStripe() as stripe_server:
        app = live_app_factory(REDIS_URL=redis_url, **stripe_server.app_config())
        with app.app_context():
            key = make_key(make_user("advertiser"))
            commit()
        with LiveServer(app) as server:
            stripe_server.send_webhooks_to(f"http://127.0.0.1:{server.port}/webhooks/stripe")
            started = call(server.port, "POST", "/api/v1/topups", key, {"amount": "75.00", "currency": "USD"})
            stripe_server.pay(started.body["payment_intent_id"])
            deadline = time.monotonic() + 20
            while stored_event(app) is None:
                assert time.monotonic() < deadline, "the webhook never arrived"
                time.sleep(0.1)

            event = stored_event(app)
            assert event.processed_at is None  # answered 2xx; nothing applied yet
            balance = call(server.port, "GET", "/api/v1/balance", key).body
            assert [row for row in balance if row["purpose"] == "available"] == []
            billing = Queue("billing", connection=redis.Redis.from_url(redis_url))
            assert f"stripe-event-{event.id}" in billing.job_ids

            env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
            worker = run_worker_burst(env, "billing")

            assert worker.returncode == 0, worker.stderr
            assert stored_event(app).processed_at is not None
            balance = call(server.port, "GET", "/api/v1/balance", key).body
            assert [row["available_minor"] for row in balance if row["purpose"] == "available"] == [7_500]
            with app.app_context():
                assert db.session.get(Topup, started.body["id"]).status == "succeeded"
