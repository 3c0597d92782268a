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


def test_vertical_clicks_are_buffered_with_offer_clicks_and_written_with_their_vertical(
    live_app_factory, redis_url
):
    from tests.exchange_factories import make_seller, make_vertical

    app, offer_token, _ = buffered_app(live_app_factory, redis_url)
    with app.app_context():
        seller = make_seller(make_user("webmaster"), make_vertical())
        seller_token, ids = seller.token, (seller.vertical_id, seller.id, seller.webmaster_id)
    client, r = app.test_client(), redis.Redis.from_url(redis_url)

    for n in range(6):  # one batch of both kinds; two visitors on each link
        headers = {"User-Agent": f"ua{n % 2}"}
        assert client.get(f"/v/{seller_token}?sub1=v{n}", headers=headers).status_code == 302
        assert client.get(f"/c/{offer_token}?sub1=o{n}", headers=headers).status_code == 302

    assert clicks_in_database(app) == 0
    with app.app_context():
        assert buffer.drain(r) == 12
        owner = (Click.vertical_id, Click.vertical_seller_id, Click.webmaster_id)
        columns = (*owner, Click.sub1, Click.is_unique)
        rows = db.session.execute(select(*columns).where(Click.offer_id.is_(None)).order_by(Click.sub1)).all()
        offer_uniques = db.session.scalar(
            select(func.count()).where(Click.offer_id.is_not(None), Click.is_unique)
        )
    assert [row[:3] for row in rows] == [ids] * 6
    assert [row.sub1 for row in rows] == [f"v{n}" for n in range(6)]
    assert sum(row.is_unique for row in rows) == 2 and offer_uniques == 2  # counted per link kind


def test_a_form_lead_sent_before_its_vertical_click_is_written_is_tied_to_it_and_gets_its_subs(
    live_app_factory, redis_url
):
    from tests.exchange_factories import make_seller, make_vertical

    app, _, _ = buffered_app(live_app_factory, redis_url)
    with app.app_context():
        token = make_seller(make_user("webmaster"), make_vertical()).token
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    form = client.get(f"/v/{token}?sub1=early&sub2=bird").headers["Location"]
    click_id = form.split("click_id=")[1]
    fields = {"name": "Ann Lee", "phone": "+1 202 555 0199", "country": "US", "consent": "on"}

    sent = client.post(form, data={**fields, "click_id": click_id})

    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert clicks_in_database(app) == 0  # attributed by the signature alone
    with app.app_context():
        buffer.drain(r)
        lead = db.session.scalar(select(Lead).where(Lead.click_token == click_id))
        assert (lead.sub1, lead.sub2, lead.vertical_id is not None) == ("early", "bird", True)


def test_clicks_buffered_by_the_previous_release_are_written_beside_new_ones(live_app_factory, redis_url):
    """During a rolling deploy the buffer holds offer clicks without the vertical columns,
    ahead of vertical clicks: each keeps its own columns."""
    from tests.exchange_factories import make_seller, make_vertical

    app, token, _ = buffered_app(live_app_factory, redis_url)
    with app.app_context():
        seller_token = make_seller(make_user("webmaster"), make_vertical()).token
    client, r = app.test_client(), redis.Redis.from_url(redis_url)
    client.get(f"/c/{token}?sub1=old")
    old = json.loads(r.lpop(buffer.BUFFER_KEY))
    del old["vertical_id"], old["vertical_seller_id"]  # as the previous release pushed it
    r.rpush(buffer.BUFFER_KEY, json.dumps(old))
    client.get(f"/v/{seller_token}?sub1=new")

    with app.app_context():
        assert buffer.drain(r) == 2
        rows = db.session.execute(select(Click.sub1, Click.offer_id, Click.vertical_id)).all()
    assert sorted((sub, offer is None, vertical is None) for sub, offer, vertical in rows) == [
        ("new", True, False),
        ("old", False, True),
    ]
