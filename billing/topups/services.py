"""Card top-ups: a PaymentIntent per top-up, credited only from Stripe's verified webhook.

The webhook endpoint checks the signature on the raw body (both ways in time),
stores the event once under its id and answers at once; a job on the
``billing`` queue applies it. Applying is idempotent twice over: the event is
marked processed under its row lock, and the credit is the ledger transfer
``topup:<payment intent id>``, which is recorded once whatever happens.
"""

from __future__ import annotations

import json
from calendar import timegm

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing.events import funds_arrived
from billing.services import credit_advertiser
from billing.topups import gateway as stripe_gateway
from billing.topups.models import StripeEvent, Topup
from billing.topups.signature import SignatureError, verify
from billing.topups.takebacks import HANDLERS as takeback_handlers
from exchange import clock
from exchange.errors import AppError, Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.money import format_minor


class BadWebhook(AppError):
    status = 400
    code = "bad_webhook"


def start_topup(advertiser_id: int, currency: str, amount_minor: int) -> tuple[Topup, str]:
    """A top-up in ``requested`` state and the client secret its page confirms the card with."""
    if not stripe_gateway.configured():
        raise Conflict(
            "Card top-ups are not set up on this exchange; an admin can credit your balance.",
            code="topups_not_configured",
        )
    minimum = current_app.config["TOPUP_MINIMUM_MINOR"]
    if amount_minor < minimum:
        raise Invalid(
            f"The smallest top-up is {format_minor(minimum, currency)}.",
            fields={"amount": [f"The smallest top-up is {format_minor(minimum, currency)}."]},
        )
    topup = Topup(
        advertiser_id=advertiser_id, currency=currency, amount_minor=amount_minor, status="requested"
    )
    db.session.add(topup)
    db.session.flush()  # its id is the idempotency key of the Stripe call
    topup.payment_intent_id, client_secret = stripe_gateway.create_payment_intent(topup)
    db.session.flush()
    return topup, client_secret


def receive_event(payload: bytes, signature_header: str | None) -> StripeEvent:
    """Verify and store one webhook delivery; its job is enqueued after the commit.
    A delivery of an event already stored changes nothing (Stripe retries, replays)."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise NotFound("No Stripe webhook here.")
    try:
        verify(
            payload,
            signature_header,
            secret,
            _unix_now(),
            current_app.config["STRIPE_WEBHOOK_TOLERANCE_SECONDS"],
        )
        body = json.loads(payload)
        event_id, event_type = body["id"], body["type"]
    except SignatureError as error:
        raise BadWebhook(f"Signature refused: {error}.") from None
    except (ValueError, KeyError, TypeError):
        raise BadWebhook("The body is not a Stripe event.") from None
    existing = db.session.get(StripeEvent, event_id)
    if existing is None:
        try:
            with db.session.begin_nested():
                existing = StripeEvent(id=event_id, type=event_type, payload=body)
                db.session.add(existing)
        except IntegrityError:  # the same event, delivered twice at once
            existing = db.session.get(StripeEvent, event_id)
    if existing.processed_at is None:
        enqueue_event(event_id)
    return existing


def enqueue_event(event_id: str) -> None:
    enqueue_after_commit(
        "billing.topups.jobs.process_stripe_event_job",
        event_id,
        queue="billing",
        job_id=f"stripe-event-{event_id}",
    )


def unprocessed_event_ids(limit: int = 1000) -> list[str]:
    query = select(StripeEvent.id).where(StripeEvent.processed_at.is_(None)).order_by(StripeEvent.received_at)
    return list(db.session.scalars(query.limit(limit)))


def process_event(event_id: str) -> str:
    """Apply a stored event once; returns what it did."""
    event = db.session.scalar(
        select(StripeEvent)
        .where(StripeEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return event.outcome or "done"
    handler = HANDLERS.get(event.type)
    outcome = handler(event.payload["data"]["object"]) if handler else f"ignored {event.type}"
    event.processed_at, event.outcome = clock.now(), outcome[:500]
    db.session.flush()
    return outcome


def _payment_succeeded(intent: dict) -> str:
    topup = _topup_of(intent)
    if topup is None:
        return f"not a top-up of ours: {intent.get('id')}"
    amount, currency = int(intent.get("amount_received") or intent["amount"]), intent["currency"].upper()
    credit_advertiser(topup.advertiser_id, currency, amount, intent["id"])  # transfer topup:<pi id>, once
    topup.status, topup.settled_at, topup.failure = "succeeded", clock.now(), None
    funds_arrived(topup.advertiser_id, currency)  # leads waiting for this money, oldest first
    return f"credited {amount} {currency} to advertiser {topup.advertiser_id}"


def _payment_failed(intent: dict) -> str:
    topup = _topup_of(intent)
    if topup is None:
        return f"not a top-up of ours: {intent.get('id')}"
    if topup.status == "requested":
        error = intent.get("last_payment_error") or {}
        topup.status, topup.settled_at = "failed", clock.now()
        topup.failure = (error.get("message") or "the payment failed")[:500]
    return f"top-up {topup.id} failed"


HANDLERS = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    **takeback_handlers,
}


def _topup_of(intent: dict) -> Topup | None:
    return db.session.scalar(
        select(Topup).where(Topup.payment_intent_id == intent.get("id")).with_for_update()
    )


def _unix_now() -> int:
    return timegm(clock.now().utctimetuple())
