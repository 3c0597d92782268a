"""The click path's own Redis connection and the flusher's batching, on real Redis."""

from __future__ import annotations

import redis
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.tracking import buffer
from exchange.tracking.models import Click
from tests.factories import make_join, make_offer, make_user


def buffered_link(live_app_factory, redis_url):
    app = live_app_factory(REDIS_URL=redis_url)
    with app.app_context():
        return app, make_join(make_user("webmaster"), make_offer(make_user("advertiser"))).token


def test_a_click_after_redis_dropped_the_connection_is_still_buffered(live_app_factory, redis_url):
    app, token = buffered_link(live_app_factory, redis_url)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    assert client.get(f"/c/{token}?sub1=before").status_code == 302

    r.client_kill_filter(_type="normal", skipme=True)  # what a Redis restart or idle timeout does

    assert client.get(f"/c/{token}?sub1=after").status_code == 302
    assert buffer.pending(r) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Click)) == 0  # nothing fell back


def test_the_flusher_waits_for_a_fuller_batch_but_a_drain_does_not(live_app_factory, redis_url, monkeypatch):
    app, token = buffered_link(live_app_factory, redis_url)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    waits: list[float] = []
    monkeypatch.setattr(buffer.time, "sleep", waits.append)
    for n in range(6):
        client.get(f"/c/{token}?sub1={n}")

    with app.app_context():
        assert buffer.drain_once(r, batch_size=4) == 4  # a whole batch is there: no wait
        assert waits == []
        assert buffer.drain_once(r, batch_size=4) == 2  # less than a batch: one short wait, then write
        assert waits == [buffer.LINGER_SECONDS]
        assert buffer.drain_once(r) == 0  # nothing to wait for
        for n in range(3):
            client.get(f"/c/{token}?sub1=late{n}")
        assert buffer.drain(r) == 3  # a drain (shutdown, tests) never waits
        assert waits == [buffer.LINGER_SECONDS]
        assert db.session.scalar(select(func.count()).select_from(Click)) == 9
