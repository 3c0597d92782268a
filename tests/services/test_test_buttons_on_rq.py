"""The webmaster's test postback sent by a real rq worker (queue ``postbacks``) to a real
local tracker: the page's press only queues the job; the worker sends and records it."""

from __future__ import annotations

import redis
from rq import Queue

from exchange.db import commit
from exchange.delivery import postback_test
from exchange.delivery.services import set_postback_url
from exchange.extensions import db
from exchange.notifications import Notification
from tests.factories import make_user
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
            note_id = postback_test.queue_test_postback(webmaster.id).id
            commit()  # the test's row; then its job goes to Redis
            assert db.session.get(Notification, note_id).data["state"] == "queued"
        assert queue.job_ids == [f"test-postback-{note_id}"]
        assert tracker.requests == []  # nothing leaves from the request

        worked = run_worker_burst(env, "postbacks")
        requests = list(tracker.requests)

    assert worked.returncode == 0, worked.stderr
    assert requests == ["/pb?st=approved&c=test-click-id"]
    with app.app_context():
        data = db.session.get(Notification, note_id).data
        assert (data["state"], data["status_code"], data["response_excerpt"]) == ("sent", 200, "seen")
