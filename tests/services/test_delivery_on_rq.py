"""Advertiser lead delivery by a real rq worker (queue ``delivery``) to a real local endpoint:
the job is enqueued after the commit that makes the lead pending, a failure is retried
after the sweep, and the approval in the endpoint's answer decides the lead."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue
from sqlalchemy import select, update

from exchange import clock
from exchange.actors import Actor
from exchange.db import commit
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.leads.settings import put_setting
from exchange.extensions import db
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead
from exchange.leads.schemas import LeadSubmitSchema
from exchange.periodic import sweep
from tests.advertiser_endpoint import Answer, Endpoint
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.http_harness import process_env, run_worker_burst
from tests.readme_snippet import verify_delivery_from_readme


def test_a_worker_delivers_the_lead_retries_after_the_sweep_and_applies_the_decision(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url)
    connection = redis.Redis.from_url(redis_url)
    delivery_queue = Queue("delivery", connection=connection)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    with Endpoint([Answer(500), Answer.decision("approve")]) as endpoint:
        with app.app_context():
            advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
            offer = make_offer(advertiser)
            fund(advertiser, 100_000)
            make_join(webmaster, offer)
            secret = put_setting(advertiser.id, None, endpoint.url).secret
            commit()
            payload = LeadSubmitSchema().load({"offer_id": offer.id, "fields": lead_fields()})
            lead_id = submit_lead(webmaster.id, payload, Actor(kind="user", user_id=webmaster.id)).lead.id
            commit()

        validated = run_worker_burst(env, "validation")
        assert validated.returncode == 0, validated.stderr
        assert delivery_queue.job_ids == [f"deliver-lead-{lead_id}"]  # enqueued after the commit
        assert endpoint.received == []

        first = run_worker_burst(env, "delivery")  # the endpoint answers 500
        assert first.returncode == 0, first.stderr
        assert len(endpoint.received) == 1

        with app.app_context():
            db.session.execute(
                update(LeadDelivery)
                .where(LeadDelivery.lead_id == lead_id)
                .values(next_attempt_at=clock.now() - timedelta(seconds=1))
            )
            commit()
            sweep()
        assert delivery_queue.job_ids == [f"deliver-lead-{lead_id}"]
        second = run_worker_burst(env, "delivery")
        assert second.returncode == 0, second.stderr
        received = list(endpoint.received)

    assert len(received) == 2
    verify = verify_delivery_from_readme()
    for request in received:
        assert request.json()["lead"]["id"] == lead_id
        assert verify(
            secret,
            request.body,
            request.headers["X-Exchange-Timestamp"],
            request.headers["X-Exchange-Signature"],
        )
    with app.app_context():
        delivery = db.session.scalar(select(LeadDelivery).where(LeadDelivery.lead_id == lead_id))
        assert (delivery.state, delivery.attempts) == ("delivered", 2)
        attempts = db.session.scalars(
            select(LeadDeliveryAttempt)
            .where(LeadDeliveryAttempt.delivery_id == delivery.id)
            .order_by(LeadDeliveryAttempt.number)
        ).all()
        assert [(a.status_code, a.decision, a.decision_result) for a in attempts] == [
            (500, None, None),
            (200, "approve", "applied"),
        ]
        assert db.session.get(Lead, lead_id).status == "approved"
