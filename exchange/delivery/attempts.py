"""Claim-then-send, for every kind of outbound delivery (postbacks, lead deliveries).

A delivery row is locked only to claim it and to record the outcome, never while the
other side is called: claiming pushes ``next_attempt_at`` past the call's timeout and
the caller commits, so a duplicate job (or the sweep) finds the delivery not due and
does nothing. Services flush; the job commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, select

from exchange import clock
from exchange.delivery import domain
from exchange.delivery.sender import SendResult
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.metrics import OUTBOUND_CALLS, OUTBOUND_SECONDS, count_on_commit

# How long a claimed delivery is left alone by other jobs and the sweep while it is being sent
# (longer than any request's timeout); a worker that dies mid-send is retried after it.
CLAIM_SECONDS = 60

Delivery = TypeVar("Delivery")


def lock(model: type[Delivery], delivery_id: int) -> Delivery | None:
    return db.session.scalar(
        select(model)
        .where(model.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def claim(model: type[Delivery], delivery_id: int) -> Delivery | None:
    """The delivery, claimed for one attempt, if it is pending and due; else None."""
    delivery = lock(model, delivery_id)
    now = clock.now()
    if delivery is None or delivery.state != domain.PENDING or delivery.next_attempt_at > now:
        return None
    delivery.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
    db.session.flush()
    return delivery


def record(
    model: type[Delivery], attempt_model: type, delivery_id: int, result: SendResult, **details: Any
) -> str:
    """Log the attempt (with ``details``, the attempt model's own columns) and move the
    delivery on: delivered, due again after its backoff, or failed for good."""
    delivery = lock(model, delivery_id)
    now = clock.now()
    delivery.attempts += 1
    db.session.add(
        attempt_model(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_excerpt=result.response_excerpt,
            **details,
        )
    )
    if delivery.state == domain.PENDING:  # never undo a delivery another attempt already made
        outcome = domain.after_attempt(delivery.attempts, domain.is_success(result.status_code), now)
        delivery.state = outcome.state
        delivery.next_attempt_at = outcome.next_attempt_at
        if outcome.state == domain.DELIVERED:
            delivery.delivered_at = now
    db.session.flush()
    kind = model.__tablename__
    count_on_commit(
        OUTBOUND_CALLS, (kind, "ok" if domain.is_success(result.status_code) else _failure(result))
    )
    OUTBOUND_SECONDS.labels(kind).observe(result.latency_ms / 1000)
    return delivery.state


def _failure(result: SendResult) -> str:
    return "no_answer" if result.status_code is None else "refused"


def due(column: Any, limit: int = 1000) -> list[int]:
    """``column`` (a delivery model's ``id`` or ``lead_id``) of its pending deliveries that are
    due: retries whose time came, and jobs lost on the way. The sweep queues them again."""
    model = column.class_
    query = (
        select(column)
        .where(model.state == domain.PENDING, model.next_attempt_at <= clock.now())
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# -- reading, for the owner of the deliveries --------------------------------------------------


def owned(model: type[Delivery], owner: str, owner_id: int, lead_id: int | None = None) -> Select:
    """The deliveries whose ``owner`` column (``webmaster_id``, ``advertiser_id``) is
    ``owner_id``, newest first; of one of the owner's leads when ``lead_id`` is given
    (another's lead answers 404)."""
    query = select(model).where(getattr(model, owner) == owner_id)
    if lead_id is not None:
        own = db.session.scalar(select(Lead.id).where(Lead.id == lead_id, getattr(Lead, owner) == owner_id))
        if own is None:
            raise NotFound("No such lead.")
        query = query.where(model.lead_id == lead_id)
    return query.order_by(model.id.desc())


def one_owned(model: type[Delivery], owner: str, owner_id: int, delivery_id: int) -> Delivery:
    delivery = db.session.scalar(
        select(model).where(model.id == delivery_id, getattr(model, owner) == owner_id)
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery
