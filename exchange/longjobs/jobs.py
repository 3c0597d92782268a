"""The job on the ``tasks`` queue: ``run_long_task(task_id)``; and the periodic step that
queues again the tasks whose worker died and expires finished tasks' files (``sweep-tasks``).

It claims the task (nothing to do if it is done or failed), runs the work of its kind,
and ends it: done with its result, or failed with a message the owner can read. Safe to
run twice: a second run of a finished task does nothing, and of an unfinished one takes
over from the first (whose later writes are refused, see services.claim).

Only a task that can never succeed fails (TaskFailed, or a refusal of the services: bad
params, its owner gone, too large). Anything else, rq's timeout (JobTimeoutException) or
an error that may pass (the database went away), stops only the run: the task goes back
to queued, the exception goes up to rq, whose retry (or, failing that, the sweep) runs it
again from its last progress. After MAX_RUNS runs it fails (services.TOO_MANY_RUNS).
"""

from __future__ import annotations

import contextlib
import logging

from exchange import clock
from exchange.db import in_own_transaction, requeue_each
from exchange.errors import AppError
from exchange.extensions import db
from exchange.jobs import job, summary
from exchange.longjobs import exports, imports
from exchange.longjobs.domain import DECISIONS_IMPORT, LEADS_EXPORT, MAX_RUNS, REPORT_EXPORT
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import (
    TOO_MANY_RUNS,
    Superseded,
    TaskFailed,
    claim,
    expire_results,
    fail,
    interrupt,
    requeue,
    stuck_task_ids,
)

log = logging.getLogger(__name__)


WORK = {
    LEADS_EXPORT: exports.export_leads,
    REPORT_EXPORT: exports.export_report,
    DECISIONS_IMPORT: imports.import_decisions,
}


@job
def run_long_task(task_id: int) -> None:
    run = claim(task_id)
    if run is None:
        log.info("long-task-%s: nothing to do (done, failed, gone, or out of runs)", task_id)
        return
    kind = db.session.get(LongTask, task_id).kind
    log.info("long-task-%s: run %s of %s", task_id, run, kind)
    try:
        WORK[kind](task_id, run)
    except Superseded:
        log.info("long-task-%s: run %s replaced by a newer run; stopping", task_id, run)
    except TaskFailed as refusal:
        _end(task_id, run, fail, str(refusal))
    except AppError as refusal:
        _end(task_id, run, fail, refusal.message)
    except Exception as error:
        log.warning("long-task-%s: run %s of %s stopped by %r", task_id, run, MAX_RUNS, error)
        if run >= MAX_RUNS:
            _end(task_id, run, fail, TOO_MANY_RUNS)
        else:
            _end(task_id, run, interrupt, _interrupted(error, run))
        raise  # into rq: its retry runs the task again (and the operators see the error)


def _interrupted(error: Exception, run: int) -> str:
    why = "it ran out of time" if type(error).__name__ == "JobTimeoutException" else "an error"
    return f"Run {run} of at most {MAX_RUNS} was stopped ({why}); the task goes on by itself shortly."


def _end(task_id: int, run: int, write, message: str) -> None:
    """Write the run's end. A timeout may have stopped the run inside a query, leaving its
    connection unusable: then the write is tried once more on a new one. If that fails too
    (the database is away), the task stays running: a newer run ends it, or the sweep finds it."""
    for attempt in (1, 2):
        try:
            write(task_id, run, message)
            return
        except Superseded:
            return
        except Exception:
            with contextlib.suppress(Exception):
                db.session.invalidate()  # drop the connection, whatever state it is in
            if attempt == 2:
                log.exception("long-task-%s: could not write the end of run %s", task_id, run)


def sweep_tasks() -> dict[str, int]:
    """Exports and imports whose worker died go back on the queue; finished tasks' files past
    TASK_RESULT_DAYS are deleted."""
    return {
        "tasks_requeued": requeue_each(stuck_task_ids(), requeue),
        "tasks_expired": in_own_transaction(expire_results, clock.now()),
    }


@job
def sweep_tasks_job() -> str:
    return summary(sweep_tasks())
