"""Print why the services suite cannot run (nothing when it can)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.services_config import TEST_DATABASE_URL, TEST_REDIS_URL  # noqa: E402


def problem() -> str:
    try:
        import psycopg

        psycopg.connect(TEST_DATABASE_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception as error:  # any failure means "not reachable"
        return f"PostgreSQL at {TEST_DATABASE_URL} unreachable: {str(error).strip().splitlines()[0]}"
    try:
        import redis

        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"Redis at {TEST_REDIS_URL} unreachable: {error}"
    return ""


if __name__ == "__main__":
    print(problem())
