"""Offers that follow their advertiser's money: paused when the free balance falls
below the offer's threshold, resumed when money arrives (DESIGN §5, issue 5).

Only the exchange's own pauses are undone here (``paused_for = "low_balance"``): an
offer its advertiser paused stays paused. Leads that still arrive at a paused offer
are not lost: they wait for funds (``awaiting_funds``) and are funded oldest first.
"""

from __future__ import annotations

from sqlalchemy import select

from billing.events import FundsChanged
from billing.services import free_balance
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.notifications.services import notify
from exchange.offers.models import Offer

LOW_BALANCE = "low_balance"


def threshold_of(offer: Offer) -> int:
    """The free balance below which the offer pauses: its own setting, else one lead's rate."""
    if offer.low_balance_minor is not None:
        return offer.low_balance_minor
    return offer.rate_minor or 0


def align_offers_with_funds(advertiser_id: int, currency: str) -> tuple[list[int], list[int]]:
    """Pause the advertiser's active offers in ``currency`` its free balance no longer
    covers, resume those the exchange paused that it covers again; notify the advertiser
    of each change. Returns (paused ids, resumed ids)."""
    free = free_balance(advertiser_id, currency)
    offers = db.session.scalars(
        select(Offer).where(
            Offer.advertiser_id == advertiser_id,
            Offer.currency == currency,
            (Offer.status == "active") | (Offer.paused_for == LOW_BALANCE),
        )
    ).all()
    paused, resumed = [], []
    for offer in offers:
        short = free < threshold_of(offer)
        if offer.status == "active" and short and threshold_of(offer) > 0:
            offer.status, offer.paused_for = "paused", LOW_BALANCE
            paused.append(offer.id)
        elif offer.paused_for == LOW_BALANCE and not short:
            offer.status, offer.paused_for = "active", None
            resumed.append(offer.id)
    amount = f"{free} minor units of {currency}"
    if paused:
        notify(
            advertiser_id,
            "offers_paused_low_balance",
            f"Paused for low balance ({amount} free): offers {_ids(paused)}. Top up to resume them.",
            offer_ids=paused,
            currency=currency,
            free_minor=free,
        )
    if resumed:
        notify(
            advertiser_id,
            "offers_resumed",
            f"Resumed now that {amount} are free: offers {_ids(resumed)}.",
            offer_ids=resumed,
            currency=currency,
            free_minor=free,
        )
    db.session.flush()
    return paused, resumed


def _ids(ids: list[int]) -> str:
    return ", ".join(str(offer_id) for offer_id in ids)


def enqueue_alignment(advertiser_id: int, currency: str) -> None:
    """Align the advertiser's offers after this commit, in its own transaction (offers are
    locked before accounts everywhere, so the transaction that moved money does not)."""
    job_id = f"align-offers-{advertiser_id}-{currency}"
    enqueue_after_commit(
        "exchange.offers.jobs.align_offers_job", advertiser_id, currency, queue="billing", job_id=job_id
    )


def align_when_money_is_taken_back(event: FundsChanged) -> None:
    """Listens to billing's ``FundsChanged``: money taken back may pause the advertiser's offers."""
    if not event.arrived:
        enqueue_alignment(event.advertiser_id, event.currency)
