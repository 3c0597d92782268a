"""Webmaster postbacks sent by a real rq worker (queue ``postbacks``) to a real local tracker."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue
from sqlalchemy import select, update

from exchange import clock
from exchange.actors import Actor
from exchange.db import commit
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery
from exchange.delivery.postbacks.services import set_postback_url
from exchange.extensions import db
from exchange.leads.intake import submit_lead
from exchange.leads.schemas import LeadSubmitSchema
from exchange.periodic import sweep
from tests.factories import lead_fields, make_join, make_offer, make_user
from tests.http_harness import process_env, run_worker_burst
from tests.tracker_server import Tracker


def test_a_worker_sends_the_postback_and_retries_it_after_the_sweep(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url)
    queue = Queue("postbacks", connection=redis.Redis.from_url(redis_url))
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    with Tracker([500, 200]) as tracker:
        with app.app_context():
            advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
            offer = make_offer(advertiser)
            make_join(webmaster, offer)
            set_postback_url(webmaster.id, None, tracker.base + "/pb?lead={lead_id}&st={status}", {})
            commit()
            payload = LeadSubmitSchema().load(
                {"offer_id": offer.id, "fields": lead_fields(), "sub1": "a\r\nb"}
            )
            lead_id = submit_lead(webmaster.id, payload, Actor(kind="user", user_id=webmaster.id)).lead.id
            commit()  # the lead, its event and the delivery; then the jobs go to Redis
            delivery_id = db.session.scalar(
                select(PostbackDelivery.id).where(PostbackDelivery.lead_id == lead_id)
            )
        assert queue.job_ids == [f"postback-{delivery_id}"]

        first = run_worker_burst(env, "postbacks")  # the tracker answers 500
        assert first.returncode == 0, first.stderr
        assert len(tracker.requests) == 1

        with app.app_context():  # the backoff has passed: the sweep puts the delivery back on the queue
            db.session.execute(
                update(PostbackDelivery)
                .where(PostbackDelivery.id == delivery_id)
                .values(next_attempt_at=clock.now() - timedelta(seconds=1))
            )
            commit()
            assert sweep().postbacks_due == 1
        second = run_worker_burst(env, "postbacks")
        assert second.returncode == 0, second.stderr
        requests = list(tracker.requests)

    assert requests == [f"/pb?lead={lead_id}&st=received"] * 2
    with app.app_context():
        delivery = db.session.get(PostbackDelivery, delivery_id)
        assert (delivery.state, delivery.attempts) == ("delivered", 2)
        codes = db.session.scalars(
            select(PostbackAttempt.status_code)
            .where(PostbackAttempt.delivery_id == delivery_id)
            .order_by(PostbackAttempt.number)
        ).all()
        assert codes == [500, 200]
