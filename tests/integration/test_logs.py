"""Logs (docs/operations.md, "Logs"): every record made while a request is served carries
the request's id (the caller's X-Request-ID when it is a plain token, else a new one,
returned in the response), every record made while an in-process job runs carries the
job's id and queue, and production writes JSON lines. rq's own jobs:
tests/services/test_job_logs.py."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from exchange.extensions import db
from exchange.jobs import JobRequest, _run_in_process
from exchange.logs import job_context
from tests.conftest import _build_app

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens: /readyz logs why its checks fail


def logging_job() -> None:
    logging.getLogger("tests.logs").warning("inside the job")


def _failing_readiness_app(tmp_path, database_url):
    return _build_app(database_url, str(tmp_path / "instance"), REDIS_URL=UNREACHABLE_REDIS)


def test_every_line_of_a_request_carries_the_callers_request_id(app, tmp_path, caplog):
    ready = _failing_readiness_app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"])
    with caplog.at_level(logging.WARNING, logger="exchange.health"):
        answer = ready.test_client().get("/readyz", headers={"X-Request-ID": "lb-7f3a.42"})
    lines = [record for record in caplog.records if record.name == "exchange.health"]

    assert answer.headers["X-Request-ID"] == "lb-7f3a.42"
    assert len(lines) == 3  # redis, scheduler and click buffer, each failing
    assert {record.request_id for record in lines} == {"lb-7f3a.42"}
    with ready.app_context():
        db.engine.dispose()


def test_a_request_without_a_plain_id_gets_a_new_one(client):
    made = client.get("/healthz")
    unsafe = client.get("/healthz", headers={"X-Request-ID": "forged id; level=ERROR"})

    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["X-Request-ID"])
    assert made.headers["X-Request-ID"] != unsafe.headers["X-Request-ID"]


def test_every_line_of_an_in_process_job_carries_its_id_and_queue(ctx, caplog):
    job = JobRequest("tests.integration.test_logs.logging_job", (), "periodic", "sweep-leads")
    with caplog.at_level(logging.WARNING, logger="tests.logs"):
        _run_in_process(job)
    outside = logging.getLogger("tests.logs").makeRecord(
        "tests.logs", logging.WARNING, "", 0, "after", (), None
    )

    (line,) = [record for record in caplog.records if record.name == "tests.logs"]
    assert (line.job, line.job_queue) == ("sweep-leads", "periodic")
    assert (outside.job, outside.job_queue) == (None, None)  # the job's ids end with it


def test_a_line_given_extra_fields_named_like_the_jobs_ids_is_logged(ctx, caplog):
    """rq logs a failed job with ``extra={"job_id": …, "queue": …}``: those names are free."""
    with caplog.at_level(logging.ERROR, logger="tests.logs"), job_context("validate-lead-7", "validation"):
        logging.getLogger("tests.logs").error(
            "failed", extra={"job_id": "validate-lead-7", "queue": "validation"}
        )

    (line,) = [record for record in caplog.records if record.name == "tests.logs"]
    assert (line.job_id, line.queue, line.job, line.job_queue) == ("validate-lead-7", "validation") * 2


def test_production_writes_json_lines_with_the_request_id(tmp_path):
    """A production process (its own interpreter, as gunicorn runs it): each line on stderr
    is one JSON object with its time, level, logger, message and request id."""
    script = (
        "from exchange import create_app\n"
        "app = create_app()\n"
        "answer = app.test_client().get('/readyz', headers={'X-Request-ID': 'prod-1'},"
        " base_url='https://exchange.test')\n"
        "print(answer.status_code, answer.headers['X-Request-ID'])\n"
    )
    env = {
        **os.environ,
        "EXCHANGE_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",  # not migrated: failing too
        "REDIS_URL": UNREACHABLE_REDIS,
        "EXCHANGE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("LOG_FORMAT", None)
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["503", "prod-1"]
    lines = [json.loads(line) for line in ran.stderr.splitlines() if line.strip()]
    readiness = [line for line in lines if line["logger"] == "exchange.health"]
    assert len(readiness) == 4  # migrations, redis, scheduler, click buffer
    assert all(line["request_id"] == "prod-1" and line["level"] == "WARNING" for line in readiness)
    assert all({"time", "message", "job_id", "queue"} <= line.keys() for line in readiness)
