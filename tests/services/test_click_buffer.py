"""Clicks on real Redis: no database write on the click path, batches written
by the flusher, nothing lost or doubled across a crash or a shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import redis
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.tracking import buffer
from exchange.tracking.models import Click
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user
from tests.http_harness import ROOT, process_env


def clicks_in_database(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Click))


def buffered_app(live_app_factory, redis_url):
    app = live_app_factory(REDIS_URL=redis_url)
    with app.app_context():
        participation = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))
        return app, participation.token, participation.webmaster_id


def test_a_click_is_buffered_not_written_then_the_flusher_writes_it_once(live_app_factory, redis_url):
    app, token, _ = buffered_app(live_app_factory, redis_url)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)

    for n in range(25):
        assert client.get(f"/c/{token}?sub1=s{n}", headers={"User-Agent": f"ua{n % 5}"}).status_code == 302

    assert clicks_in_database(app) == 0
    assert buffer.pending(r) == 25
    with app.app_context():
        assert buffer.drain(r, batch_size=10) == 25
        assert buffer.drain(r) == 0
        rows = db.session.execute(select(Click.sub1, Click.is_unique)).all()
    assert sorted(sub for sub, _ in rows) == sorted(f"s{n}" for n in range(25))
    assert sum(unique for _, unique in rows) == 5  # five user agents from one IP


def test_a_flusher_that_died_mid_batch_writes_its_batch_again_without_doubles(live_app_factory, redis_url):
    app, token, _ = buffered_app(live_app_factory, redis_url)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    for _ in range(8):
        client.get(f"/c/{token}")
    with app.app_context():
        buffer.drain_once(r, name="crashy", batch_size=5)  # 5 written and committed...
    processing = "exchange:clicks:processing:crashy"
    batch = [json.loads(item) for item in r.lrange(buffer.BUFFER_KEY, 0, 2)]
    # ...now the state of a flusher killed after writing its next batch but before deleting it:
    r.eval(buffer._TAKE, 2, buffer.BUFFER_KEY, processing, 3)
    with app.app_context():
        buffer._insert([dict(record) for record in batch])
        db.session.commit()
        assert buffer.drain(r, name="crashy") == 3  # the leftover batch, again: no error, no double

    assert clicks_in_database(app) == 8
    assert buffer.pending(r) == 0 and r.llen(processing) == 0


def test_a_graceful_shutdown_of_the_flusher_loses_no_buffered_click(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app, token, _ = buffered_app(live_app_factory, redis_url)
    client = app.test_client()
    flusher = subprocess.Popen(
        [sys.executable, "-m", "flask", "clicks", "flush", "--loop", "--interval", "0.05"],
        cwd=ROOT,
        env=process_env(live_database_url, str(tmp_path / "flusher"), redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert flusher.stdout.readline().startswith("flusher main running")  # signal handlers in place
        answered = sum(client.get(f"/c/{token}?sub1={n}").status_code == 302 for n in range(300))
        flusher.send_signal(signal.SIGTERM)  # mid-stream: some clicks may still be in the buffer
        out, err = flusher.communicate(timeout=60)
    finally:
        if flusher.poll() is None:
            flusher.kill()

    assert flusher.returncode == 0, err
    assert "0 left in the buffer" in out
    assert answered == 300
    assert clicks_in_database(app) == 300


def test_a_lead_sent_before_its_click_is_written_is_attributed_and_later_gets_its_subs(
    live_app_factory, redis_url
):
    app, token, webmaster_id = buffered_app(live_app_factory, redis_url)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    location = client.get(f"/c/{token}?sub1=early&sub2=bird").headers["Location"]
    click_id = location.split("cid=")[1].split("&")[0]
    with app.app_context():
        from exchange.accounts.models import User

        key = make_key(db.session.get(User, webmaster_id))

    response = client.post(
        "/api/v1/leads", json={"click_id": click_id, "fields": lead_fields()}, headers=auth(key)
    )

    assert response.status_code == 202, response.get_json()
    assert clicks_in_database(app) == 0  # attributed by the signature alone
    with app.app_context():
        buffer.drain(r)
        lead = db.session.get(Lead, response.get_json()["id"])
        assert (lead.click_token, lead.sub1, lead.sub2) == (click_id, "early", "bird")


def test_the_click_path_makes_no_database_write_with_a_buffer(live_app_factory, redis_url):
    """Count the statements the click endpoint sends to the database."""
    from sqlalchemy import event

    app, token, _ = buffered_app(live_app_factory, redis_url)
    client = app.test_client()
    app.config["LINK_CACHE_SECONDS"] = 60
    client.get(f"/c/{token}")  # warms the link cache
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            assert client.get(f"/c/{token}").status_code == 302
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []
