"""Test sends ("send a test postback", "send a test lead") as jobs, and their log.

A button press (or the API's test call) writes the test to ``test_sends`` (kind
``postback`` or ``lead``, state ``queued``) and its job is enqueued after that commit; the
job claims the row (``sending``), sends the sample through the real sender and records
what the other side answered on the same row (``sent``). Claim-then-send as for real
deliveries (exchange/delivery/attempts.py): each step is a conditional update, no lock is
held during the call, a second run of the job finds the test claimed or sent and sends
nothing, and a claim older than ``CLAIM_SECONDS`` (its worker died) can be taken again by
a rerun of its job.

A test that cannot end with an answer still ends, so the log explains it and a new test
can be pressed: one its job cannot send (the offer is no longer the owner's, the URL was
removed) is ``sent`` with that as its error and no status code; and the next press of the
button finds any test of the kind still ``queued`` or ``sending`` after ``CLAIM_SECONDS``
(no worker took it, or its worker died mid-call: nothing re-runs a test by itself) and
marks it ``sent`` as abandoned before queueing the new one. No sweep is needed.

Why not the attempt tables: ``postback_attempts`` and ``lead_delivery_attempts`` hang off
a delivery of a real lead. Kept apart, a test is never counted as a delivery, never
retried by the sweep, never listed among the owner's notifications, and touches no lead
and no money. Services flush; the caller (a view, the job) commits.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Select, and_, or_, select, update

from exchange import clock
from exchange.delivery.attempts import CLAIM_SECONDS
from exchange.delivery.models import TestSend
from exchange.delivery.sender import SendResult
from exchange.errors import Conflict, NotFound
from exchange.extensions import db

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT = "queued", "sending", "sent"
NOT_TAKEN = "abandoned: no worker took it in time"
CUT_OFF = "abandoned: its worker stopped before the answer came"
SHOWN = 20
BOUNDED = 500  # error and response_excerpt, as the attempt tables keep them


def queue(owner_id: int, kind: str, label: str, url: str, offer_id: int | None = None) -> TestSend:
    """Write the test (``queued``) unless one of the same kind is still on its way; the
    owner's tests of ``kind`` stuck past ``CLAIM_SECONDS`` are marked abandoned first."""
    _abandon_stale(owner_id, kind)
    if _on_its_way(owner_id, kind):
        raise Conflict(f"A {label} is already on its way; its answer appears in the log below.", code="busy")
    sample = TestSend(owner_user_id=owner_id, kind=kind, offer_id=offer_id, url=url, state=QUEUED)
    db.session.add(sample)
    db.session.flush()
    return sample


def claim(test_send_id: int, kind: str) -> TestSend | None:
    """The test, claimed for its one call, if it is queued (or a dead worker's claim ran out)."""
    now = clock.now()
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    claimed = db.session.execute(
        update(TestSend)
        .where(
            TestSend.id == test_send_id,
            TestSend.kind == kind,
            or_(TestSend.state == QUEUED, and_(TestSend.state == SENDING, TestSend.claimed_at < stale)),
        )
        .values(state=SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    return _fresh(test_send_id)


def record(test_send_id: int, kind: str, result: SendResult, decision: str | None = None) -> str:
    """Keep what the other side answered; a test no longer ``sending`` is left as it is."""
    recorded = db.session.execute(
        update(TestSend)
        .where(TestSend.id == test_send_id, TestSend.kind == kind, TestSend.state == SENDING)
        .values(
            state=SENT,
            sent_at=clock.now(),
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error[:BOUNDED] if result.error else None,
            response_excerpt=(result.response_excerpt or "")[:BOUNDED],
            decision=decision,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    _fresh(test_send_id)
    return SENT if recorded else "done"


def give_up(test_send_id: int, kind: str, error: str) -> str:
    """End a test its job cannot send: ``sent``, with ``error`` saying why and no answer."""
    ended = _end(and_(TestSend.id == test_send_id, TestSend.kind == kind), error)
    _fresh(test_send_id)
    return SENT if ended else "done"


def log_answer(job_id: str, result: SendResult) -> None:
    """The job's log line for the answer (no body: it may carry personal data)."""
    log.info("%s: %s in %s ms (%s)", job_id, result.status_code, result.latency_ms, result.error or "ok")


def log_row(sample: TestSend) -> dict:
    """What the pages' attempt logs show of a test, beside their rows for real attempts."""
    answered = sample.sent_at is not None
    waiting = {QUEUED: "queued, not sent yet", SENDING: "being sent"}.get(sample.state, "")
    return {
        "test": True,
        "at": sample.at,
        "url": sample.url,
        "number": 1 if answered else None,
        "status_code": sample.status_code,
        "latency_ms": sample.latency_ms,
        "error": sample.error or waiting,
    }


def owned(owner_id: int, kind: str) -> Select:
    """The owner's tests of ``kind``, newest first (for the API's pages)."""
    return (
        select(TestSend)
        .where(TestSend.owner_user_id == owner_id, TestSend.kind == kind)
        .order_by(TestSend.id.desc())
    )


def sends_of(owner_id: int, kind: str, limit: int = SHOWN) -> list[TestSend]:
    """The owner's latest tests of ``kind``, newest first."""
    return list(db.session.scalars(owned(owner_id, kind).limit(limit)))


def send_of(owner_id: int, kind: str, test_send_id: int) -> TestSend:
    """One of the owner's tests; anyone else's is not found."""
    sample = db.session.scalar(owned(owner_id, kind).where(TestSend.id == test_send_id))
    if sample is None:
        raise NotFound("No such test.")
    return sample


def _on_its_way(owner_id: int, kind: str) -> bool:
    busy = owned(owner_id, kind).where(TestSend.state.in_((QUEUED, SENDING)))
    return db.session.scalar(busy.limit(1)) is not None


def _abandon_stale(owner_id: int, kind: str) -> None:
    stale = clock.now() - timedelta(seconds=CLAIM_SECONDS)
    mine = and_(TestSend.owner_user_id == owner_id, TestSend.kind == kind)
    _end(and_(mine, TestSend.state == QUEUED, TestSend.queued_at <= stale), NOT_TAKEN)
    _end(and_(mine, TestSend.state == SENDING, TestSend.claimed_at <= stale), CUT_OFF)


def _end(which, error: str) -> int:
    """Mark the tests ``which`` that are not sent as sent without an answer."""
    return db.session.execute(
        update(TestSend)
        .where(which, TestSend.state.in_((QUEUED, SENDING)))
        .values(state=SENT, error=error[:BOUNDED])
        .execution_options(synchronize_session=False)
    ).rowcount


def _fresh(test_send_id: int) -> TestSend | None:
    """The row as the database has it now (not as this session last saw it)."""
    return db.session.scalar(
        select(TestSend).where(TestSend.id == test_send_id).execution_options(populate_existing=True)
    )
