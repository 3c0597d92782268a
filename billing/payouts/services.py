"""Payouts: a webmaster's available money requested, then paid by a rail (DESIGN §5).

Requesting reserves the amount as the pending transfer ``payout:<id>``
(``webmaster.available -> cash_out``); settling posts it (paid) or voids it (failed:
the money is available again), exactly once, whichever rail it went by. The rail and
the connected account are taken from the webmaster's payout settings when the payout
is requested: a Stripe Connect payout is sent by a job on the ``billing`` queue
(``billing.payouts.connect``), a manual one waits for a batch (``billing.payouts.batches``).
Services flush; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from billing import ledger, plans
from billing.domain import InsufficientFunds
from billing.payouts.domain import MANUAL, STRIPE_CONNECT
from billing.payouts.models import Payout, PayoutSettings
from billing.topups import gateway as stripe_gateway
from exchange import clock
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit

REQUESTED, PAID, FAILED = "requested", "paid", "failed"


def payout_minimum(currency: str) -> int:
    minimums = current_app.config["PAYOUT_MINIMUM_MINOR"]
    return int(minimums.get(currency, minimums["default"]))


@dataclass(frozen=True)
class PayoutRequest:
    payout: Payout
    replayed: bool  # an earlier request with the same Idempotency-Key


def request_payout(
    webmaster_id: int,
    currency: str,
    amount_minor: int,
    *,
    schedule_key: str | None = None,
    idempotency_key: str | None = None,
) -> Payout:
    """Reserve ``amount_minor`` of the webmaster's available balance as a payout.
    ``schedule_key`` (unique) marks the one scheduled payout of a period."""
    return ask_for_payout(
        webmaster_id, currency, amount_minor, schedule_key=schedule_key, idempotency_key=idempotency_key
    ).payout


def ask_for_payout(
    webmaster_id: int,
    currency: str,
    amount_minor: int,
    *,
    schedule_key: str | None = None,
    idempotency_key: str | None = None,
) -> PayoutRequest:
    """``request_payout``, telling whether ``idempotency_key`` named an earlier request
    (the same payout, nothing reserved again) or a new one. The same key with another
    currency or amount is refused."""
    if idempotency_key:
        earlier = _by_idempotency_key(webmaster_id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, currency, amount_minor)
    minimum = payout_minimum(currency)
    if amount_minor < minimum:
        raise Invalid(
            f"The smallest payout in {currency} is {minimum} minor units.",
            code="below_minimum",
            fields={"amount_minor": [f"At least {minimum}."]},
        )
    rail, account_id = _rail_of(webmaster_id)
    try:
        with db.session.begin_nested():  # the payout and its transfer, or neither
            payout = Payout(
                webmaster_id=webmaster_id,
                currency=currency,
                amount_minor=amount_minor,
                status=REQUESTED,
                rail=rail,
                stripe_account_id=account_id,
                schedule_key=schedule_key,
                idempotency_key=idempotency_key,
            )
            db.session.add(payout)
            db.session.flush()
            ledger.record(
                [plans.payout_request(payout.id, webmaster_id, currency, amount_minor)],
                payout_id=payout.id,
            )
    except InsufficientFunds:
        raise Invalid(
            "Your available balance does not cover this payout.",
            code="insufficient_funds",
            fields={"amount_minor": ["More than your available balance."]},
        ) from None
    except IntegrityError:  # the same key (or schedule) arrived concurrently
        earlier = idempotency_key and _by_idempotency_key(webmaster_id, idempotency_key)
        if not earlier:
            raise
        return _replay(earlier, currency, amount_minor)
    if rail == STRIPE_CONNECT:
        enqueue_connect_transfer(payout.id)
    return PayoutRequest(payout, replayed=False)


def _by_idempotency_key(webmaster_id: int, key: str) -> Payout | None:
    return db.session.scalar(
        select(Payout).where(Payout.webmaster_id == webmaster_id, Payout.idempotency_key == key)
    )


def _replay(earlier: Payout, currency: str, amount_minor: int) -> PayoutRequest:
    if (earlier.currency, earlier.amount_minor) != (currency, amount_minor):
        raise Conflict("This Idempotency-Key was used for another payout.", code="idempotency_key_reused")
    return PayoutRequest(earlier, replayed=True)


def _rail_of(webmaster_id: int) -> tuple[str, str | None]:
    """The rail a payout requested now goes by. A Stripe Connect rail needs Stripe: when
    it is no longer configured, the payout waits for a manual batch instead of nowhere."""
    settings = db.session.get(PayoutSettings, webmaster_id)
    if settings is None or settings.rail != STRIPE_CONNECT or not stripe_gateway.configured():
        return MANUAL, None
    return STRIPE_CONNECT, settings.stripe_account_id


def settle_payout(
    payout_id: int,
    *,
    paid: bool,
    settled_by_id: int | None,
    note: str = "",
    stripe_transfer_id: str | None = None,
) -> Payout:
    """Mark a payout paid (post its transfer) or failed (void it: the money is available
    again), once; the same outcome again changes nothing, the other one is a conflict."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("No such payout.")
    status = PAID if paid else FAILED
    values: dict = {"status": status, "settled_at": clock.now(), "settled_by_id": settled_by_id}
    values["note"] = note[:500] or None
    if stripe_transfer_id:
        values["stripe_transfer_id"] = stripe_transfer_id
    moved = db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == REQUESTED)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(payout)
    if not moved:
        if payout.status == status:
            return payout
        raise Conflict(f"The payout is already {payout.status}.", code="payout_settled")
    pending = ledger.find(f"payout:{payout.id}")
    ledger.record([plans.payout_settlement(pending, paid=paid)], payout_id=payout.id)
    return payout


def settle_by_hand(payout_id: int, *, paid: bool, settled_by_id: int | None, note: str = "") -> Payout:
    """An admin's settlement of a manual payout. A Stripe Connect payout is settled only
    by Stripe's answer to its job: settled by hand while its transfer is in flight, it
    could be paid twice (failed here, made by Stripe) or not at all (paid here, refused)."""
    payout = db.session.get(Payout, payout_id)
    if payout is not None and payout.rail == STRIPE_CONNECT:
        raise Conflict(
            "A Stripe Connect payout is settled by Stripe's answer, not by hand.", code="settled_by_stripe"
        )
    return settle_payout(payout_id, paid=paid, settled_by_id=settled_by_id, note=note)


def enqueue_connect_transfer(payout_id: int) -> None:
    enqueue_after_commit(
        "billing.payouts.jobs.connect_payout_job", payout_id, queue="billing", job_id=f"payout-{payout_id}"
    )


def stuck_connect_payout_ids(requested_before: datetime, limit: int = 1000) -> list[int]:
    """Stripe Connect payouts still ``requested`` since before ``requested_before``: their
    job was lost (or keeps failing); the periodic job queues them again."""
    query = (
        select(Payout.id)
        .where(
            Payout.status == REQUESTED,
            Payout.rail == STRIPE_CONNECT,
            Payout.created_at <= requested_before,
        )
        .order_by(Payout.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))
