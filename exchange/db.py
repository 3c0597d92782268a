"""Database helpers: the single commit point, one transaction per item of periodic work,
and SQLite tuning.

``commit()`` is how views, jobs and commands end their unit of work: it
commits, then dispatches the jobs that services asked for during it, so a
job never runs before the rows it needs are visible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Select, Table, Update, bindparam, event, select, update
from sqlalchemy.engine import Engine

from exchange.errors import Conflict
from exchange.extensions import db

log = logging.getLogger(__name__)
Key = TypeVar("Key")


def commit() -> None:
    db.session.commit()
    from exchange import jobs

    jobs.dispatch_after_commit()


def rollback() -> None:
    db.session.rollback()
    from exchange import jobs

    jobs.discard_pending()


def rows_by_id(model: type, ids: Iterable[int], *, lock: bool = False) -> dict[int, Any]:
    """The rows of ``model`` with these ids, by id, in one query; ``lock``: locked FOR
    UPDATE in id order, and read again (a lock must see the committed row)."""
    wanted = set(ids)
    if not wanted:
        return {}
    query = select(model).where(model.id.in_(wanted))
    if lock:
        query = query.order_by(model.id).with_for_update().execution_options(populate_existing=True)
    return {row.id: row for row in db.session.scalars(query)}


def update_each(table: Table, key: str, columns: Iterable[str]) -> Update:
    """An UPDATE of ``columns`` of the row whose ``key`` is given, to run with many rows
    in one statement (executemany, Core: no unit of work). Each row is a dict: ``"key"``
    and ``"new_<column>"`` for each column."""
    return (
        update(table)
        .where(table.c[key] == bindparam("key"))
        .values({column: bindparam(f"new_{column}") for column in columns})
    )


def in_own_transaction(step: Callable[[Key], object], key: Key) -> int:
    """Run one item of periodic work in its own transaction, so one bad row cannot hold up the
    rest and a crash loses nothing (the next run finds what is still due): what the step
    did as a count (True is 1), or 0 if it failed (logged, and raised when JOBS_RAISE_ERRORS)."""
    try:
        done = step(key)
        commit()
        return int(done)
    except Conflict:
        rollback()
        return 0
    except Exception:
        rollback()
        if current_app.config.get("JOBS_RAISE_ERRORS"):
            raise
        log.exception("periodic step failed for %s", key)
        return 0


class StepBudget:
    """What one run of a sweep step may do, however large the backlog: at most ``batch`` items
    of each kind of work (``limit``), and no new item once ``seconds`` have passed (``each``;
    the first item always runs, so every run makes progress). What is left waits for the next
    run; each item is its own transaction, so stopping between two loses nothing. A step's
    run therefore ends well inside its job's timeout (SWEEP_STEP_SECONDS < JOB_TIMEOUT_SECONDS)."""

    def __init__(self, batch: int, seconds: float) -> None:
        self.batch = batch
        self.ends_at = time.monotonic() + seconds
        self.cut_short = False

    @classmethod
    def from_config(cls) -> StepBudget:
        return cls(current_app.config["SWEEP_BATCH_SIZE"], current_app.config["SWEEP_STEP_SECONDS"])

    def limit(self, query: Select) -> Select:
        return query.limit(self.batch)

    def each(self, keys: Iterable[Key]) -> Iterator[Key]:
        for number, key in enumerate(keys):
            if number and time.monotonic() > self.ends_at:
                self.cut_short = True
                return
            yield key


def requeue_each(keys: Iterable[Key], enqueue: Callable[[Key], None]) -> int:
    """Queue the work of each key again (its job leaves after this commit): a sweep step's
    way to recover jobs that were lost or whose retry is due. Returns how many."""
    count = 0
    for key in keys:
        enqueue(key)
        count += 1
    commit()
    return count


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that writers queue up.

    pysqlite's own transaction handling is switched off (it breaks
    SAVEPOINT); every transaction starts with BEGIN IMMEDIATE, which takes
    the write lock at once, so two transactions never deadlock on a lock
    upgrade and the balance checks behave as if rows were locked.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
