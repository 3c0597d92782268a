"""Where the services suite finds PostgreSQL and Redis (override by environment)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

TEST_DATABASE_URL = os.environ.get(
    "EXCHANGE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def own_postgres_database(name: str) -> Iterator[str]:
    """A PostgreSQL database of this name beside TEST_DATABASE_URL, created afresh and
    dropped afterwards; yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(TEST_DATABASE_URL)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
