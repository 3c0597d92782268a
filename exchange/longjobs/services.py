"""Asking for a task, finding one, and the writes a running task makes.

``start_task`` works in the caller's transaction and enqueues the job after its commit.
A run claims its task by raising ``runs``; every later write of that run is a conditional
update on (id, runs, state running), so a run that a newer one replaced (rq delivers at
least once; the sweep or ``flask tasks run`` may start it again) writes nothing more.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select, update

from exchange import clock
from exchange.accounts.models import User
from exchange.errors import Conflict, Forbidden, Invalid, NotFound
from exchange.extensions import db
from exchange.jobs import ABANDONED_GRACE_SECONDS, enqueue_after_commit, job_timeout
from exchange.longjobs.domain import (
    DECISIONS_IMPORT,
    DONE,
    EXPORTS,
    FAILED,
    LABELS,
    LEADS_EXPORT,
    MAX_ERRORS_KEPT,
    MAX_RUNS,
    MAX_UNFINISHED_PER_USER,
    QUEUED,
    REPORT_EXPORT,
    RUNNING,
    UNFINISHED,
    ImportRefused,
    read_decisions,
)
from exchange.longjobs.models import LongTask
from exchange.reports.query import check_groups

QUEUE = "tasks"
TOO_MANY_RUNS = (
    f"Stopped: its {MAX_RUNS} tries were all interrupted (too slow, or an error); "
    "the operators were told. Narrow it (fewer rows) and start it again."
)
EXPIRED = "Expired: the file is kept {days} days; start the export again."


class TaskFailed(Exception):
    """The work can never be done as asked (too large, bad params, its owner gone): the task
    fails with this message, said on the task page. Any other exception stops only the run:
    the task waits for the next one (see runner.py)."""


class Superseded(Exception):
    """A newer run of the task took over (or it was finished meanwhile): stop quietly."""


def job_id(task_id: int) -> str:
    return f"long-task-{task_id}"


def start_task(user: User, kind: str, params: dict, source: bytes | None = None) -> LongTask:
    unfinished = db.session.scalar(
        select(func.count()).where(LongTask.user_id == user.id, LongTask.state.in_(UNFINISHED))
    )
    if unfinished >= MAX_UNFINISHED_PER_USER:
        raise Conflict(
            f"You have {unfinished} tasks still running; wait until one ends.", code="too_many_tasks"
        )
    long_task = LongTask(user_id=user.id, kind=kind, params=params, source=source, errors=[])
    db.session.add(long_task)
    db.session.flush()
    enqueue_after_commit(
        "exchange.longjobs.jobs.run_long_task", long_task.id, queue=QUEUE, job_id=job_id(long_task.id)
    )
    return long_task


def visible_task(user: User, task_id: int) -> LongTask:
    """The task if ``user`` asked for it (or is an admin); otherwise 404, as if it did not exist."""
    long_task = db.session.get(LongTask, task_id)
    if long_task is None or (long_task.user_id != user.id and user.role != "admin"):
        raise NotFound("No such task.")
    return long_task


def tasks_of(user: User, limit: int = 100) -> list[LongTask]:
    query = select(LongTask).where(LongTask.user_id == user.id).order_by(LongTask.id.desc()).limit(limit)
    return list(db.session.scalars(query))


# -- the writes of a run: each its own short transaction -----------------------------------------


def claim(task_id: int) -> int | None:
    """Start a run of an unfinished task: its run number, or None when there is nothing to do.
    A task that has had its MAX_RUNS runs already (each stopped before the end) fails instead."""
    now = clock.now()
    unfinished = (LongTask.id == task_id, LongTask.state.in_(UNFINISHED))
    claimed = db.session.execute(
        update(LongTask)
        .where(*unfinished, LongTask.runs < MAX_RUNS)
        .values(state=RUNNING, runs=LongTask.runs + 1, started_at=now, updated_at=now, message=None)
        .returning(LongTask.runs)
    ).scalar_one_or_none()
    if claimed is None:
        db.session.execute(
            update(LongTask)
            .where(*unfinished, LongTask.runs >= MAX_RUNS)
            .values(state=FAILED, message=TOO_MANY_RUNS, finished_at=now, updated_at=now)
        )
    db.session.commit()
    return claimed


def record_progress(
    task_id: int, run: int, *, done: int, total: int, failed: int = 0, errors: list | None = None
) -> None:
    values: dict = {"done": done, "total": max(total, done), "failed": failed, "updated_at": clock.now()}
    if errors is not None:
        values["errors"] = errors[:MAX_ERRORS_KEPT]
    _write(task_id, run, values)


def finish(task_id: int, run: int, *, result: bytes | None = None, result_name: str | None = None) -> None:
    values: dict = {"state": DONE, "finished_at": clock.now(), "updated_at": clock.now()}
    if result is not None:
        values.update(result=result, result_bytes=len(result), result_name=result_name)
    _write(task_id, run, values)


def fail(task_id: int, run: int, message: str) -> None:
    _write(task_id, run, {"state": FAILED, "message": message[:500], "finished_at": clock.now()})


def interrupt(task_id: int, run: int, message: str) -> None:
    """The run was stopped (its timeout, an error that may pass): the task waits, queued, for
    rq's retry or the sweep, and the next run goes on from its last progress."""
    _write(task_id, run, {"state": QUEUED, "message": message[:500], "updated_at": clock.now()})


def active_owner(task_id: int) -> User:
    """The user who asked for the task, or TaskFailed if their account was closed or banned
    since: a task does nothing in the name of an account that may no longer act."""
    long_task = db.session.get(LongTask, task_id)
    owner = db.session.get(User, long_task.user_id)
    if owner is None or not owner.is_active_user or owner.status == "banned":
        raise TaskFailed(f"The account that asked for this {LABELS[long_task.kind].lower()} is closed.")
    return owner


def _write(task_id: int, run: int, values: dict) -> None:
    db.session.rollback()  # whatever the run read stays out of this write
    written = db.session.execute(
        update(LongTask)
        .where(LongTask.id == task_id, LongTask.runs == run, LongTask.state == RUNNING)
        .values(**values)
    ).rowcount
    db.session.commit()
    if not written:
        raise Superseded(task_id)


# -- tasks whose run was lost ---------------------------------------------------------------------


def stuck_task_ids(now=None) -> list[int]:
    """Unfinished tasks whose run shows no sign of life for longer than a job may run: their
    worker died (SIGKILL, a lost machine) or their job never reached the queue."""
    limit = job_timeout(QUEUE) + ABANDONED_GRACE_SECONDS
    quiet_since = (now or clock.now()) - timedelta(seconds=limit)
    query = select(LongTask.id).where(LongTask.state.in_(UNFINISHED), LongTask.updated_at <= quiet_since)
    return list(db.session.scalars(query.order_by(LongTask.id)))


def requeue(task_id: int) -> None:
    """Queue the task's job again (the caller commits). A run finds the work done, or starts
    over (exports) or goes on from its last progress (imports)."""
    db.session.execute(
        update(LongTask)
        .where(LongTask.id == task_id, LongTask.state.in_(UNFINISHED))
        .values(state=QUEUED, updated_at=clock.now())
    )
    enqueue_after_commit("exchange.longjobs.jobs.run_long_task", task_id, queue=QUEUE, job_id=job_id(task_id))


def expire_results(now=None) -> int:
    """Delete the kept files (an export's CSV, an import's upload) of the tasks that finished
    TASK_RESULT_DAYS ago or more, and mark them expired (the caller commits). How many."""
    days = current_app.config["TASK_RESULT_DAYS"]
    now = now or clock.now()
    expired_export = and_(LongTask.kind.in_(EXPORTS), LongTask.state == DONE)
    return db.session.execute(
        update(LongTask)
        .where(
            LongTask.expired_at.is_(None),
            LongTask.state.in_((DONE, FAILED)),
            LongTask.finished_at <= now - timedelta(days=days),
        )
        .values(
            result=None,
            source=None,
            expired_at=now,
            message=case((expired_export, EXPIRED.format(days=days)), else_=LongTask.message),
        )
    ).rowcount


# -- the three ways in (pages and API) ------------------------------------------------------------


def start_leads_export(user: User, args: dict) -> LongTask:
    """``args`` as LeadFilterSchema loads them (GET /api/v1/leads' filters)."""
    if user.role not in ("advertiser", "webmaster"):
        raise Forbidden("Leads are exported by advertisers and webmasters.", code="wrong_role")
    names = ("status", "offer_id", "since", "until", "after_id", "order")
    return start_task(user, LEADS_EXPORT, _plain({name: args.get(name) for name in names}))


def start_report_export(user: User, args: dict) -> LongTask:
    """``args`` as ReportQuerySchema loads them (GET /api/v1/reports' query)."""
    check_groups(user, args["group_by"])
    params = _plain({name: args.get(name) for name in ("since", "until", *REPORT_FILTERS)})
    params["group_by"] = ",".join(args["group_by"])
    return start_task(user, REPORT_EXPORT, params)


def start_decisions_import(user: User, data: bytes) -> LongTask:
    """A decisions CSV, checked whole (size, encoding, header, rows) before any task."""
    if user.role != "advertiser":
        raise Forbidden("Decisions are imported by advertisers.", code="wrong_role")
    try:
        rows = read_decisions(data)
    except ImportRefused as refusal:
        raise Invalid(str(refusal), code="bad_import", fields={"file": [str(refusal)]}) from None
    return start_task(user, DECISIONS_IMPORT, {"rows": len(rows)}, source=data)


REPORT_FILTERS = ("offer_id", "webmaster_id", "sub1", "country")


def _plain(values: dict) -> dict:
    """JSON-safe, as the schema will load them again: days and instants in ISO 8601."""
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in values.items()
        if value is not None
    }
