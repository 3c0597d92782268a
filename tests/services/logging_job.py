"""A job that only logs a line, for tests/services/test_job_logs.py's real worker."""

import logging
import time

LINE = "a line from inside the job"


def log_a_line() -> None:
    logging.getLogger("tests.job").warning(LINE)


def fail() -> None:
    raise RuntimeError("this job fails on purpose")


RUNS_KEY = "tests:periodic:runs"


def count_a_run() -> str:
    """A periodic job that counts its runs in Redis."""
    from flask import current_app

    from exchange.jobs import redis_connection

    redis_connection(current_app.config["REDIS_URL"]).rpush(RUNS_KEY, time.time())
    return "counted"
