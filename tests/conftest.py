"""Test fixtures for both backends.

``EXCHANGE_TEST_BACKEND=sqlite`` (the fast suite) or ``services``
(PostgreSQL + Redis). The schema is built once per session by running the
migrations; each test then runs inside an outer transaction that is rolled
back, with application commits turned into savepoints.
Tests that need data really committed (other processes, threads) use
``live_app`` instead.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime

import pytest
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from exchange import clock, create_app
from exchange.extensions import db, limiter
from tests.services_config import TEST_REDIS_URL, own_postgres_database

BACKEND = os.environ.get("EXCHANGE_TEST_BACKEND", "sqlite")
LIVE_TABLES = (
    "long_tasks, stripe_events, lead_events, transfers, payouts, payout_batches, payout_settings, "
    "leads, clicks, participations, offers, accounts, "
    "api_keys, users, report_changes, report_hourly, report_daily, test_sends, verticals, consumer_locks"
)


def pytest_report_header(config):
    return f"exchange backend: {BACKEND}"


def _build_app(database_url: str, instance_path: str, **extra):
    config = {
        "EXCHANGE_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "SERVER_NAME": "exchange.test",
        # The limits' counts of every app in a test process live in one place (Flask-Limiter's
        # is process-wide): memory, even for production-mode apps whose REDIS_URL is not there.
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(extra)
    os.environ["EXCHANGE_INSTANCE_PATH"] = instance_path
    return create_app(config)


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@pytest.fixture(autouse=True)
def fresh_limit_counts():
    """Each test starts with nothing counted against the limits on abuse (the app lives for
    the whole session): each test's journey must stay within the limits users get."""
    if limiter.initialized:
        limiter.reset()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite: a file. PostgreSQL: a database of this test run's own, created
    beside EXCHANGE_TEST_DATABASE_URL and dropped at the end, so that two
    runs on one server never share tables."""
    if BACKEND != "services":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "template.sqlite")
        return
    with own_postgres_database(f"lx_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    application = _build_app(database_url, str(tmp_path_factory.mktemp("instance")))
    _migrate(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def ctx(app, db_session):
    """An application context on the rolled-back session, for service-level tests."""
    with app.test_request_context():
        yield db_session


@pytest.fixture
def billing_check(app, db_session):
    """Run ``flask billing check`` (the real command) when the test ends, on the test's own
    data: a test that leaves the ledger inconsistent fails here."""
    yield
    result = app.test_cli_runner().invoke(args=["billing", "check"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def frozen_clock():
    """Control time: ``frozen_clock.set(dt)`` and ``frozen_clock.advance(**timedelta_kwargs)``."""

    class Clock:
        def __init__(self) -> None:
            self.now = datetime(2026, 1, 15, 12, 0, 0)
            clock.freeze(self.now)

        def set(self, at: datetime) -> None:
            self.now = at
            clock.freeze(at)

        def advance(self, **delta) -> datetime:
            from datetime import timedelta

            self.set(self.now + timedelta(**delta))
            return self.now

    yield Clock()
    clock.freeze(None)


@pytest.fixture
def live_database_url(app, database_url, tmp_path):
    """A database whose commits are real, emptied for this test.

    On SQLite each test gets a copy of the migrated template file; on
    PostgreSQL the tables are truncated (TRUNCATE does not fire the
    append-only triggers that refuse DELETE).
    """
    if BACKEND == "services":
        _truncate(app)
        yield database_url
        _truncate(app)  # leave nothing behind for the rolled-back tests that follow
        return
    template = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(template)) as connection:  # fold the WAL into the file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "live.sqlite"
    shutil.copy(template, path)
    yield f"sqlite:///{path}"


def _truncate(app) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {LIVE_TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
def live_app_factory(live_database_url, tmp_path):
    """Build apps on the live database; ``extra`` overrides config keys."""
    built = []

    def build(**extra):
        live = _build_app(live_database_url, str(tmp_path / "instance"), **extra)
        built.append(live)
        return live

    yield build
    for live in built:
        with live.app_context():
            db.engine.dispose()


@pytest.fixture
def live_app(live_app_factory):
    """An app on a database whose commits are real (jobs in-process)."""
    return live_app_factory()


@pytest.fixture
def redis_url():
    assert BACKEND == "services", "Redis belongs to the services suite (tests/services)"
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    return TEST_REDIS_URL
