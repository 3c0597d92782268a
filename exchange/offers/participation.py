"""Deciding who may send traffic: approve, decline, ban; custom payouts.

The offer's advertiser decides for its offers; moderators and admins for
any. A declined or banned webmaster's links and leads stop at once (clicks
go to the trafficback, intake refuses the leads)."""

from __future__ import annotations

from sqlalchemy import select

from exchange import clock
from exchange.accounts.models import User
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.offers.domain import PARTICIPATION_DECISIONS
from exchange.offers.models import Offer, Participation

STAFF = ("moderator", "admin")


def participation_for(user: User, participation_id: int) -> Participation:
    """A participation the user may decide on; 404 for anyone else's."""
    participation = db.session.get(Participation, participation_id)
    if participation is None or not _may_decide(user, participation.offer):
        raise NotFound("No such participation.")
    return participation


def participations_on(user: User, offer_id: int) -> list[Participation]:
    offer = db.session.get(Offer, offer_id)
    if offer is None or not _may_decide(user, offer):
        raise NotFound("No such offer.")
    return list(
        db.session.scalars(
            select(Participation).where(Participation.offer_id == offer_id).order_by(Participation.id)
        )
    )


def decide(user: User, participation_id: int, decision: str, reason: str | None) -> Participation:
    participation = participation_for(user, participation_id)
    target = PARTICIPATION_DECISIONS.get((participation.status, decision))
    if target is None:
        raise Conflict(
            f"A participation that is {participation.status} cannot be {decision}d.", code="illegal_decision"
        )
    if decision in ("decline", "ban") and not (reason or "").strip():
        raise Invalid("Say why.", fields={"reason": ["Required to decline or ban."]})
    participation.status = target
    participation.decision_reason = (reason or "").strip() or None
    participation.decided_at = clock.now()
    participation.decided_by_id = user.id
    db.session.flush()
    return participation


def set_custom_payout(user: User, participation_id: int, payout_minor: int | None) -> Participation:
    """This webmaster's payout on this offer instead of the offer's (None: the offer's)."""
    participation = participation_for(user, participation_id)
    if payout_minor is not None and payout_minor > participation.offer.rate_minor:
        raise Invalid(
            "A custom payout may not exceed the offer's rate.",
            fields={"custom_payout_minor": [f"At most {participation.offer.rate_minor}."]},
        )
    participation.custom_payout_minor = payout_minor
    db.session.flush()
    return participation


def payout_for(offer: Offer, webmaster_id: int) -> int:
    """The payout a lead earns at acceptance: the webmaster's custom payout if it
    still fits under the rate, the offer's otherwise (the margin never goes negative)."""
    custom = db.session.scalar(
        select(Participation.custom_payout_minor).where(
            Participation.offer_id == offer.id, Participation.webmaster_id == webmaster_id
        )
    )
    return custom if custom is not None and custom <= offer.rate_minor else offer.payout_minor


def _may_decide(user: User, offer: Offer) -> bool:
    return user.role in STAFF or (user.role == "advertiser" and offer.advertiser_id == user.id)
