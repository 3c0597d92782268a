"""A job that only logs a line, for tests/services/test_job_logs.py's real worker."""

import logging

LINE = "a line from inside the job"


def log_a_line() -> None:
    logging.getLogger("tests.job").warning(LINE)


def fail() -> None:
    raise RuntimeError("this job fails on purpose")
