"""Health for operators and load balancers (docs/operations.md, "Health").

``GET /healthz`` says the process answers: it touches nothing else, so a failing database
never gets a healthy process restarted. ``GET /readyz`` says whether this process can
serve now, check by check: the database answers and its schema is at the migrations'
head; with Redis (``REDIS_URL``), Redis answers, a scheduler (``rq cron``) has beaten its
heart within ``READY_SCHEDULER_STALE_SECONDS``, and the click buffer holds fewer than
``READY_CLICK_BUFFER_MAX`` clicks waiting for the flusher. It answers 200 when every check
is ok, else 503; each check is only "ok" or "failing" (why is logged, never answered), and
neither endpoint asks who is calling.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from redis import Redis
from sqlalchemy import text

from exchange.extensions import db
from exchange.tracking.buffer import BUFFER_KEY

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

SCHEDULERS_KEY = "rq:cron_schedulers"  # rq's registry of cron schedulers: name -> last heartbeat (epoch s)
REDIS_TIMEOUT_SECONDS = 1.0  # a readiness probe answers fast, or says failing


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = {name: _outcome(name, check) for name, check in _checks(current_app).items()}
    ready = all(outcome == "ok" for outcome in checks.values())
    return jsonify(status="ok" if ready else "failing", checks=checks), 200 if ready else 503


def _checks(app: Flask) -> dict[str, Callable[[], bool]]:
    checks: dict[str, Callable[[], bool]] = {"database": _database_answers, "migrations": _migrations_at_head}
    if redis_url := app.config["REDIS_URL"]:
        redis = redis_for_probes(redis_url)
        checks["redis"] = redis.ping
        checks["scheduler"] = lambda: _scheduler_beats(redis, app.config["READY_SCHEDULER_STALE_SECONDS"])
        checks["click_buffer"] = lambda: redis.llen(BUFFER_KEY) < app.config["READY_CLICK_BUFFER_MAX"]
    return checks


def _outcome(name: str, check: Callable[[], bool]) -> str:
    try:
        return "ok" if check() else "failing"
    except Exception as error:  # a probe reports, it never fails the request
        log.warning("readyz: %s failing: %s", name, type(error).__name__)
        return "failing"
    finally:
        if name in ("database", "migrations"):
            db.session.rollback()


def _database_answers() -> bool:
    return db.session.execute(text("SELECT 1")).scalar_one() == 1


def _migrations_at_head() -> bool:
    """The schema is at this release's head, or past it: a revision this release does not
    know was applied by a newer release's ``flask db upgrade``, and the old processes keep
    serving until they are replaced (migrations add before the code that needs them and
    remove only after the code that used them is gone: docs/operations.md, "Deploying")."""
    applied = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    script = _script(current_app.extensions["migrate"].directory)
    return applied == set(script.get_heads()) or not all(_known(script, revision) for revision in applied)


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # alembic's word for a revision it has no file for
        return False


@functools.cache
def _script(directory: str) -> ScriptDirectory:
    return ScriptDirectory(os.path.abspath(directory))


def _scheduler_beats(redis: Redis, stale_seconds: float) -> bool:
    """Some scheduler's last heartbeat is younger than ``stale_seconds`` (rq's scheduler
    beats at every turn of its loop, at least once a minute here)."""
    freshest = redis.zrevrange(SCHEDULERS_KEY, 0, 0, withscores=True)
    return bool(freshest) and time.time() - freshest[0][1] < stale_seconds


@functools.cache
def redis_for_probes(url: str) -> Redis:
    """A client that answers fast or fails (readiness probes, metrics scrapes)."""
    timeout = REDIS_TIMEOUT_SECONDS
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
