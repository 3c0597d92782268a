"""The job on the ``tasks`` queue: ``run_long_task(task_id)``.

It claims the task (nothing to do if it is done or failed), runs the work of its kind,
and ends it: done with its result, or failed with a message the owner can read. Safe to
run twice: a second run of a finished task does nothing, and of an unfinished one takes
over from the first (whose later writes are refused, see services.claim).
"""

from __future__ import annotations

import contextlib
import logging

from exchange.extensions import db
from exchange.jobs import task
from exchange.longjobs import exports, imports
from exchange.longjobs.domain import DECISIONS_IMPORT, LEADS_EXPORT, REPORT_EXPORT
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import Superseded, TaskFailed, claim, fail

log = logging.getLogger(__name__)


WORK = {
    LEADS_EXPORT: exports.export_leads,
    REPORT_EXPORT: exports.export_report,
    DECISIONS_IMPORT: imports.import_decisions,
}


@task
def run_long_task(task_id: int) -> None:
    run = claim(task_id)
    if run is None:
        log.info("long-task-%s: nothing to do (done, failed or gone)", task_id)
        return
    kind = db.session.get(LongTask, task_id).kind
    log.info("long-task-%s: run %s of %s", task_id, run, kind)
    try:
        WORK[kind](task_id, run)
    except Superseded:
        log.info("long-task-%s: run %s replaced by a newer run; stopping", task_id, run)
    except TaskFailed as refusal:
        _failed(task_id, run, str(refusal))
    except Exception:
        _failed(task_id, run, "An error stopped the task; start it again (the operators were told).")
        raise  # into rq's failed jobs, for the operators


def _failed(task_id: int, run: int, message: str) -> None:
    with contextlib.suppress(Superseded):
        fail(task_id, run, message)
