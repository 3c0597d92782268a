"""Where the services suite finds PostgreSQL and Redis (override by environment)."""

import os

TEST_DATABASE_URL = os.environ.get(
    "EXCHANGE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
