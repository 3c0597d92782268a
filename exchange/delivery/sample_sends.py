"""Test sends ("send a test postback", "send a test lead") as jobs, and their log.

A button press writes the test as a notification to its owner (kind ``test_postback`` or
``test_lead``, ``data.state`` ``queued``) and its job is enqueued after that commit; the
job claims the row, sends the sample through the real sender and records what the other
side answered on the same row (``sent``). Claim-then-send as for real deliveries
(exchange/delivery/attempts.py): no lock is held during the call, and a second run of
the job finds the test claimed or sent and sends nothing.

Why a notification and not the attempt tables: ``postback_attempts`` and
``lead_delivery_attempts`` hang off a delivery of a real lead (``lead_id`` and
``lead_event_id`` are NOT NULL), so a test cannot be stored there without a schema
change. Kept apart, a test is never counted as a delivery, never retried by the sweep,
and touches no lead and no money. Services flush; the caller (a view, the job) commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from exchange import clock
from exchange.delivery.attempts import CLAIM_SECONDS
from exchange.delivery.domain import is_success
from exchange.delivery.sender import SendResult
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.notifications import Notification, notify

QUEUED, SENDING, SENT = "queued", "sending", "sent"
SHOWN = 20


@dataclass(frozen=True)
class SampleSend:
    """One test as a page shows it."""

    id: int
    queued_at: datetime
    state: str
    offer_id: int | None
    url: str
    sent_at: datetime | None
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_excerpt: str
    decision: str | None

    @property
    def at(self) -> datetime:
        return self.sent_at or self.queued_at

    @property
    def delivered(self) -> bool:
        return self.state == SENT and is_success(self.status_code)


def queue(user_id: int, kind: str, label: str, **data: object) -> Notification:
    """Write the test (``queued``) unless one of the same kind is still on its way."""
    if _on_its_way(user_id, kind):
        raise Conflict(f"A {label} is already on its way; its answer appears in the log below.", code="busy")
    note = notify(user_id, kind, f"{label.capitalize()} queued.", state=QUEUED, **data)
    db.session.flush()
    return note


def claim(notification_id: int, kind: str) -> Notification | None:
    """The test, claimed for its one call, if it is queued (or a dead worker's claim ran out)."""
    note = _lock(notification_id, kind)
    if note is None:
        return None
    data = note.data or {}
    now = clock.now()
    stale = data.get("state") == SENDING and _when(data.get("claimed_at")) < now - timedelta(
        seconds=CLAIM_SECONDS
    )
    if data.get("state") != QUEUED and not stale:
        return None
    note.data = {**data, "state": SENDING, "claimed_at": now.isoformat()}
    db.session.flush()
    return note


def record(notification_id: int, kind: str, label: str, result: SendResult, **details: object) -> str:
    """Keep what the other side answered (``details``: what else the page shows)."""
    note = _lock(notification_id, kind)
    if note is None or (note.data or {}).get("state") != SENDING:
        return "done"
    now = clock.now()
    answer = f"HTTP {result.status_code}" if result.status_code is not None else "no answer"
    url = (note.data or {}).get("url", "")
    note.message = f"{label.capitalize()} to {url}: {answer} in {result.latency_ms} ms" + (
        f" ({result.error})." if result.error else "."
    )
    note.data = {
        **note.data,
        **details,
        "state": SENT,
        "sent_at": now.isoformat(),
        "status_code": result.status_code,
        "latency_ms": result.latency_ms,
        "error": result.error,
        "response_excerpt": result.response_excerpt,
    }
    db.session.flush()
    return SENT


def sends_of(user_id: int, kind: str, limit: int = SHOWN) -> list[SampleSend]:
    """The owner's latest tests of ``kind``, newest first."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.kind == kind)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [_view(row) for row in rows]


def _view(note: Notification) -> SampleSend:
    data = note.data or {}
    return SampleSend(
        id=note.id,
        queued_at=note.created_at,
        state=data.get("state", QUEUED),
        offer_id=data.get("offer_id"),
        url=data.get("url", ""),
        sent_at=_when(data.get("sent_at")) if data.get("sent_at") else None,
        status_code=data.get("status_code"),
        latency_ms=data.get("latency_ms"),
        error=data.get("error"),
        response_excerpt=data.get("response_excerpt", ""),
        decision=data.get("decision"),
    )


def _on_its_way(user_id: int, kind: str) -> bool:
    since = clock.now() - timedelta(seconds=CLAIM_SECONDS)
    return any(
        sample.state != SENT and sample.queued_at > since for sample in sends_of(user_id, kind, limit=5)
    )


def _lock(notification_id: int, kind: str) -> Notification | None:
    return db.session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.kind == kind)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _when(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else datetime.min
