"""Health for operators (docs/operations.md, "Health"): ``/healthz`` says the process
answers and touches nothing else; ``/readyz`` checks the database and its schema (and, with
Redis, Redis, the scheduler and the click buffer: tests/services/test_health_services.py),
answers 503 when one fails, and says only "ok" or "failing" for each. Neither asks who is
calling. Runs on both backends."""

from __future__ import annotations

from sqlalchemy import text

from exchange.db import commit
from exchange.extensions import db
from tests.conftest import BACKEND, _build_app

UNREACHABLE_DATABASE = {
    "sqlite": "sqlite:////nonexistent-directory/exchange.sqlite",  # cannot be opened
    "services": "postgresql+psycopg://postgres@127.0.0.1:1/test",  # nothing listens there
}[BACKEND]


def test_healthz_says_the_process_answers(client):
    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in answer.headers


def test_readyz_is_ok_when_the_database_answers_at_the_migrations_head(client):
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert "Set-Cookie" not in answer.headers


def readiness_at(client, version: str):
    """``/readyz``'s answer while the database says it is at ``version``; then back at its head."""
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.session.execute(text("UPDATE alembic_version SET version_num = :version"), {"version": version})
    commit()
    answer = client.get("/readyz")
    db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    commit()
    return answer


def test_readyz_fails_while_the_schema_is_behind_the_migrations_and_recovers(client, db_session):
    behind = readiness_at(client, "0027")
    again = client.get("/readyz")

    assert behind.status_code == 503
    assert behind.get_json() == {"status": "failing", "checks": {"database": "ok", "migrations": "failing"}}
    assert again.status_code == 200


def test_readyz_stays_ok_when_a_newer_release_has_migrated_the_database(client, db_session):
    """During a deploy the new release migrates first; the old processes keep serving (their
    schema's additions are there) until they are replaced, instead of all leaving rotation."""
    ahead = readiness_at(client, "9999_from_a_newer_release")

    assert ahead.status_code == 200
    assert ahead.get_json()["checks"]["migrations"] == "ok"


def test_without_its_database_a_process_is_healthy_but_not_ready(tmp_path):
    """An unreachable database fails readiness (take the process out of rotation) but not
    health (do not restart it), and the answer says which check failed, never why."""
    app = _build_app(UNREACHABLE_DATABASE, str(tmp_path / "instance"))
    client = app.test_client()

    health = client.get("/healthz")
    ready = client.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": "failing", "migrations": "failing"}
    with app.app_context():
        db.engine.dispose()
