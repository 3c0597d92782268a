"""The decisions import as a task: each row decided in its own transaction by the same
services as the bulk API (exchange/leads/decisions.py), so one refused row undoes no other.

Progress (rows done, rows refused, their errors) is written after every batch. A new run
goes on from the last progress written: the rows decided after it are decided again,
which changes nothing (approving an approved lead, or rejecting a rejected one, is done
already), so no lead is decided twice.
"""

from __future__ import annotations

from billing.domain import LedgerError
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.leads.decisions import advertiser_lead, approve_lead, reject_lead
from exchange.longjobs.domain import MAX_ERRORS_KEPT, DecisionRow, ImportRefused, read_decisions
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import TaskFailed, active_owner, finish, record_progress

BATCH = 25


def import_decisions(task_id: int, run: int) -> None:
    owner_id = active_owner(task_id).id
    long_task = db.session.get(LongTask, task_id)
    done, failed = long_task.done, long_task.failed
    errors = list(long_task.errors or [])
    try:
        rows = read_decisions(long_task.source or b"")
    except ImportRefused as refusal:  # checked on upload; only a changed limit gets here
        raise TaskFailed(str(refusal)) from None
    actor = Actor(kind="user", user_id=owner_id, label=f"decisions import {task_id}")
    record_progress(task_id, run, done=done, total=len(rows), failed=failed, errors=errors)
    for row in rows[done:]:
        refusal = _decide(owner_id, row, actor)
        done += 1
        if refusal is not None:
            failed += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append({"row": row.number, "lead_id": row.lead_id, **refusal})
        if done % BATCH == 0 or done == len(rows):
            record_progress(task_id, run, done=done, total=len(rows), failed=failed, errors=errors)
            active_owner(task_id)  # closed or banned meanwhile: no more decisions in its name
    finish(task_id, run)


def _decide(owner_id: int, row: DecisionRow, actor: Actor) -> dict | None:
    """Decide one row and commit it; the refusal (code and message) if it was not done."""
    if row.problem is not None:
        return {"code": "invalid_row", "message": row.problem}
    try:
        lead_id = advertiser_lead(owner_id, row.lead_id).id
        if row.decision == "approve":
            approve_lead(lead_id, actor, note=row.reason)
        else:
            reject_lead(lead_id, actor, note=row.reason)
        commit()
    except AppError as error:
        rollback()
        return {"code": error.code, "message": error.message}
    except LedgerError as error:
        rollback()
        return {"code": "conflict", "message": str(error)}
    return None
