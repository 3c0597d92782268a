"""The Stripe Connect rail: a payout sent as a Stripe transfer to the webmaster's
connected account, through the official library.

The transfer's idempotency key is ``payout-<id>``, so however often the job runs
(rq's retries, the periodic job queueing a lost one again, a worker killed after
Stripe answered) Stripe makes one transfer; and before asking, the job looks for a
transfer of its group ``payout-<id>``, since Stripe forgets a key after 24 hours.
A refusal Stripe means for good (a 4xx: no such destination, not enough money in
the platform's Stripe balance) fails the payout, which voids its pending transfer
and makes the money available again; a network error or a 5xx raises, and the job
is tried again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from sqlalchemy import select, update

from billing.payouts.domain import STRIPE_CONNECT
from billing.payouts.models import Payout
from billing.payouts.services import REQUESTED, settle_payout
from billing.topups import gateway as stripe_gateway
from exchange.errors import Conflict
from exchange.extensions import db

log = logging.getLogger(__name__)


class TransferRefused(Exception):
    """Stripe answered that this transfer will never be made (its message says why)."""


@dataclass(frozen=True)
class TransferOrder:
    payout_id: int
    webmaster_id: int
    amount_minor: int
    currency: str
    destination: str

    @property
    def idempotency_key(self) -> str:
        return f"payout-{self.payout_id}"


def transfer_order(payout_id: int) -> TransferOrder | None:
    """What to send for the payout, or None when there is nothing to send (settled
    already, another rail, gone)."""
    payout = db.session.scalar(
        select(Payout).where(Payout.id == payout_id).execution_options(populate_existing=True)
    )
    if payout is None or payout.status != REQUESTED or payout.rail != STRIPE_CONNECT:
        return None
    return TransferOrder(
        payout.id, payout.webmaster_id, payout.amount_minor, payout.currency, payout.stripe_account_id
    )


def send_transfer(order: TransferOrder) -> str:
    """Ask Stripe for the transfer and settle the payout by its answer; returns the
    transfer's id. Raises ``TransferRefused`` for a final refusal, a ``StripeError`` else."""
    if not stripe_gateway.configured():
        raise stripe_gateway.ProviderUnavailable("Stripe is not configured; the payout waits.")
    made = _made_before(order)
    if made is not None:
        return made
    try:
        transfer = stripe_gateway.client().v1.transfers.create(
            params={
                "amount": order.amount_minor,
                "currency": order.currency.lower(),
                "destination": order.destination,
                "transfer_group": order.idempotency_key,
                "metadata": {"payout_id": str(order.payout_id), "webmaster_id": str(order.webmaster_id)},
            },
            options={"idempotency_key": order.idempotency_key},
        )
    except (stripe.InvalidRequestError, stripe.CardError) as error:  # 400, 402, 404: final
        code = f"{error.code}: " if error.code else ""
        raise TransferRefused(f"{code}{error.user_message or error}") from None
    return transfer.id


def _made_before(order: TransferOrder) -> str | None:
    """The transfer an earlier try made, found by its group (``payout-<id>``). Stripe keeps
    an idempotency key for 24 hours only: a try after that (a job stuck for a day, Stripe
    not configured meanwhile) would otherwise make a second transfer."""
    listing = stripe_gateway.client().v1.transfers.list(
        params={"transfer_group": order.idempotency_key, "limit": 1}
    )
    return listing.data[0].id if listing.data else None


def pay_out(order: TransferOrder) -> str:
    """Send the payout and record the outcome (flushes); what happened, for the log."""
    try:
        transfer_id = send_transfer(order)
    except TransferRefused as refused:
        note = f"Stripe refused the transfer: {refused}"
        payout = _settle(order.payout_id, paid=False, note=note)
        return f"payout {order.payout_id}: {payout.status} ({refused})"
    payout = _settle(order.payout_id, paid=True, stripe_transfer_id=transfer_id)
    return f"payout {order.payout_id}: {payout.status} by transfer {transfer_id}"


def _settle(payout_id: int, *, paid: bool, note: str = "", stripe_transfer_id: str | None = None) -> Payout:
    try:
        return settle_payout(
            payout_id, paid=paid, settled_by_id=None, note=note, stripe_transfer_id=stripe_transfer_id
        )
    except Conflict:
        # Settled by someone else while Stripe answered (an admin by hand): keep what
        # Stripe did beside it, and say so loudly; the ledger follows the first settlement.
        if stripe_transfer_id:
            db.session.execute(
                update(Payout)
                .where(Payout.id == payout_id, Payout.stripe_transfer_id.is_(None))
                .values(stripe_transfer_id=stripe_transfer_id)
                .execution_options(synchronize_session=False)
            )
        payout = db.session.get(Payout, payout_id, populate_existing=True)
        log.error(
            "payout-%s was %s by hand while Stripe answered %s; look at it",
            payout_id,
            payout.status,
            stripe_transfer_id or note,
        )
        return payout
