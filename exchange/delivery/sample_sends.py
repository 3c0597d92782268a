"""Test sends ("send a test postback", "send a test lead") as jobs, and their log.

A button press (or the API's test call) writes the test to ``test_sends`` (kind
``postback`` or ``lead``, state ``queued``) and its job is enqueued after that commit; the
job claims the row (``sending``), sends the sample through the real sender and records
what the other side answered on the same row (``sent``). Claim-then-send as for real
deliveries (exchange/delivery/attempts.py): each step is a conditional update, no lock is
held during the call, a second run of the job finds the test claimed or sent and sends
nothing, and a claim older than ``CLAIM_SECONDS`` (its worker died) can be taken again.

Why not the attempt tables: ``postback_attempts`` and ``lead_delivery_attempts`` hang off
a delivery of a real lead. Kept apart, a test is never counted as a delivery, never
retried by the sweep, never listed among the owner's notifications, and touches no lead
and no money. Services flush; the caller (a view, the job) commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, and_, or_, select, update

from exchange import clock
from exchange.delivery.attempts import CLAIM_SECONDS
from exchange.delivery.models import TestSend
from exchange.delivery.sender import SendResult
from exchange.errors import Conflict, NotFound
from exchange.extensions import db

QUEUED, SENDING, SENT = "queued", "sending", "sent"
SHOWN = 20
BOUNDED = 500  # error and response_excerpt, as the attempt tables keep them


def queue(owner_id: int, kind: str, label: str, url: str, offer_id: int | None = None) -> TestSend:
    """Write the test (``queued``) unless one of the same kind is still on its way."""
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
    since = clock.now() - timedelta(seconds=CLAIM_SECONDS)
    busy = owned(owner_id, kind).where(
        TestSend.state != SENT, or_(TestSend.queued_at > since, TestSend.claimed_at > since)
    )
    return db.session.scalar(busy.limit(1)) is not None


def _fresh(test_send_id: int) -> TestSend | None:
    """The row as the database has it now (not as this session last saw it)."""
    return db.session.scalar(
        select(TestSend).where(TestSend.id == test_send_id).execution_options(populate_existing=True)
    )
