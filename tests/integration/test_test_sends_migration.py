"""Revision 0018 moves the test sends that were stored as notifications (kinds
``test_postback`` and ``test_lead``, state in their JSON) into ``test_sends``, keeping
their ids (a queued test's job names its row by id), and leaves other notifications alone.
Run on a database of its own, migrated to 0017 first (on PostgreSQL in the services suite,
where the id sequence must move past the ids given)."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade

from exchange import create_app
from exchange.db import commit
from exchange.delivery import postback_test
from exchange.delivery.models import TestSend
from exchange.delivery.services import set_postback_url
from exchange.extensions import db
from exchange.notifications import Notification, notify
from tests.factories import make_user

BACKEND = os.environ.get("EXCHANGE_TEST_BACKEND", "sqlite")


@pytest.fixture
def empty_database_url(tmp_path):
    if BACKEND != "services":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.services_config import TEST_DATABASE_URL

    server = make_url(TEST_DATABASE_URL)
    name = f"lx_migrate_{os.getpid()}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_tests_kept_as_notifications_move_to_their_own_table(empty_database_url, tmp_path):
    os.environ["EXCHANGE_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app(
        {
            "EXCHANGE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "REDIS_URL": None,
            "SERVER_NAME": "exchange.test",
        }
    )
    with app.app_context():
        upgrade(revision="0017")
        webmaster, advertiser = make_user("webmaster"), make_user("advertiser")
        sent = notify(
            webmaster.id,
            "test_postback",
            "Test postback to https://t.example/pb: HTTP 200 in 31 ms.",
            state="sent",
            offer_id=None,
            url="https://t.example/pb",
            claimed_at="2026-01-15T12:00:01",
            sent_at="2026-01-15T12:00:02",
            status_code=200,
            latency_ms=31,
            error=None,
            response_excerpt="ok",
        )
        queued = notify(
            advertiser.id, "test_lead", "Test lead queued.", state="queued", url="https://c.example/in"
        )
        other = notify(advertiser.id, "offer_paused", "Offer paused: top up your balance.", offer_id=None)
        commit()
        ids = (sent.id, queued.id, other.id)
        webmaster_id, advertiser_id = webmaster.id, advertiser.id
        db.session.remove()  # let go of the database for the migration

        upgrade()

        db.session.expire_all()
        moved_sent, moved_queued = db.session.get(TestSend, ids[0]), db.session.get(TestSend, ids[1])
        assert (moved_sent.owner_user_id, moved_sent.kind, moved_sent.state) == (
            webmaster_id,
            "postback",
            "sent",
        )
        assert (moved_sent.url, moved_sent.status_code, moved_sent.latency_ms) == (
            "https://t.example/pb",
            200,
            31,
        )
        assert moved_sent.sent_at.isoformat() == "2026-01-15T12:00:02"
        assert moved_sent.response_excerpt == "ok" and moved_sent.decision is None
        assert (moved_queued.owner_user_id, moved_queued.kind, moved_queued.state) == (
            advertiser_id,
            "lead",
            "queued",
        )
        assert moved_queued.sent_at is None and moved_queued.url == "https://c.example/in"
        left = db.session.scalars(db.select(Notification.id)).all()
        assert left == [ids[2]]

        set_postback_url(webmaster_id, None, "https://t.example/pb", {})
        fresh = postback_test.queue_test_postback(webmaster_id)  # flushed: a new id after the moved ones
        assert fresh.id > max(ids[:2])
        db.session.rollback()
        db.engine.dispose()
