"""The demo seeded on PostgreSQL with Redis, as an operator runs it beside the whole stack
(README, "Running on PostgreSQL, Redis, rq and gunicorn"): ``flask demo seed`` runs its
jobs in its own process as it asks for them, so every lead it decides was validated
first, and the book it leaves passes ``flask billing check``."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKEND
from tests.http_harness import flask_cli, process_env
from tests.services_config import own_postgres_database


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "PostgreSQL and Redis (tests/services)"


def test_demo_seed_works_on_postgresql_with_redis(redis_url, tmp_path):
    with own_postgres_database("lx_demo_on_services") as database_url:
        env = process_env(database_url, str(tmp_path / "instance"), redis_url)
        migrated = flask_cli(env, "db", "upgrade")
        seeded = flask_cli(env, "demo", "seed")
        checked = flask_cli(env, "billing", "check")
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            statuses = set(
                connection.execute(
                    text("SELECT DISTINCT status FROM leads WHERE offer_id IS NOT NULL")
                ).scalars()
            )
        engine.dispose()

    assert migrated.returncode == 0, migrated.stderr
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "Seeded the demo." in seeded.stdout
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert statuses == {"received", "pending", "awaiting_funds", "rejected", "approved", "returned"}
