"""Fixtures for the integration tests (on top of tests/conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from exchange.extensions import db
from tests.conftest import BACKEND, LIVE_TABLES


@pytest.fixture
def book(ctx):
    """The rolled-back session on an empty database.

    On PostgreSQL, tests that use ``live_app`` commit for real into the same
    database; their rows are truncated here inside the test's own
    transaction, so the truncation is rolled back with everything else.
    (On SQLite the rolled-back template database never holds committed rows.)
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {LIVE_TABLES} CASCADE"))
        db.session.commit()
    return ctx


@pytest.fixture
def live(live_app):
    """``live_app``, emptied again afterwards so that real commits do not leak into later tests."""
    yield live_app
    if BACKEND == "services":
        with live_app.app_context(), db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {LIVE_TABLES} RESTART IDENTITY CASCADE"))
