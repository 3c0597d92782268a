"""Test sends by a real rq worker: the webmaster's test postback (queue ``postbacks``) to a
real local tracker, and the advertiser's API test lead (queue ``delivery``) to a real local
endpoint. The press (or the API call) only queues the job; the worker sends and records it."""

from __future__ import annotations

import redis
from rq import Queue

from exchange.db import commit
from exchange.delivery.leads.settings import put_setting
from exchange.delivery.models import TestSend
from exchange.delivery.postbacks import sample as postback_test
from exchange.delivery.postbacks.services import set_postback_url
from exchange.extensions import db
from tests.advertiser_endpoint import Answer, Endpoint
from tests.factories import auth, make_key, make_user
from tests.http_harness import process_env, run_worker_burst
from tests.tracker_server import Tracker


def test_a_worker_sends_the_test_postback_and_records_its_answer(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url)
    queue = Queue("postbacks", connection=redis.Redis.from_url(redis_url))
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    with Tracker([200], body=b"seen") as tracker:
        with app.app_context():
            webmaster = make_user("webmaster")
            set_postback_url(webmaster.id, None, tracker.base + "/pb?st={status}&c={click_id}", {})
            test_id = postback_test.queue_test_postback(webmaster.id).id
            commit()  # the test's row; then its job goes to Redis
            assert db.session.get(TestSend, test_id).state == "queued"
        assert queue.job_ids == [f"test-postback-{test_id}"]
        assert tracker.requests == []  # nothing leaves from the request

        worked = run_worker_burst(env, "postbacks")
        requests = list(tracker.requests)

    assert worked.returncode == 0, worked.stderr
    assert requests == ["/pb?st=approved&c=test-click-id"]
    with app.app_context():
        sample = db.session.get(TestSend, test_id)
        assert (sample.state, sample.status_code, sample.response_excerpt) == ("sent", 200, "seen")


def test_the_apis_test_lead_answers_queued_and_a_worker_sends_it(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url)
    queue = Queue("delivery", connection=redis.Redis.from_url(redis_url))
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    client = app.test_client()
    with Endpoint([Answer.decision("reject", "test")]) as endpoint:
        with app.app_context():
            advertiser = make_user("advertiser")
            put_setting(advertiser.id, None, endpoint.url)
            commit()
            headers = auth(make_key(advertiser))
        queued = client.post("/api/v1/delivery-settings/test", json={}, headers=headers)
        before = client.get(queued.headers["Location"], headers=headers).get_json()
        busy = client.post("/api/v1/delivery-settings/test", json={}, headers=headers)
        jobs, received_before = queue.job_ids, len(endpoint.received)

        worked = run_worker_burst(env, "delivery")
        received = len(endpoint.received)

    assert queued.status_code == 202, queued.get_json()
    test_id = queued.get_json()["id"]
    assert (queued.get_json()["state"], before["state"], before["status_code"]) == ("queued", "queued", None)
    assert busy.status_code == 409 and busy.get_json()["error"]["code"] == "busy"
    assert jobs == [f"test-lead-{test_id}"] and received_before == 0
    assert worked.returncode == 0, worked.stderr
    after = client.get(queued.headers["Location"], headers=headers).get_json()
    assert received == 1
    assert (after["state"], after["status_code"], after["decision"]) == ("sent", 200, "reject")
