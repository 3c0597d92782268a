"""Deciding who may send traffic: approve, decline, ban; custom payouts.

The offer's advertiser decides for its offers; moderators and admins for
any. A declined or banned webmaster's links and leads stop at once (clicks
go to the trafficback, intake refuses the leads)."""

from __future__ import annotations

from sqlalchemy import select

from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.moderation.audit import services as audit
from exchange.offers.domain import PARTICIPATION_DECISIONS
from exchange.offers.models import Offer, Participation
from exchange.offers.prices import base_terms, rules_of
from exchange.offers.pricing import custom_payout_problems

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
    _audit_staff(user, f"{decision}_participation", participation, reason, offer_id=participation.offer_id)
    return participation


def set_custom_payout(
    user: User, participation_id: int, payout_minor: int | None, payout_bps: int | None = None
) -> Participation:
    """This webmaster's payout on this offer instead of the offer's (both None: the offer's).
    It must fit under the rate of the base terms and of every rule it can combine with."""
    participation = participation_for(user, participation_id)
    offer = participation.offer
    if payout_minor is not None or payout_bps is not None:
        problems = custom_payout_problems(base_terms(offer), rules_of(offer), payout_minor, payout_bps)
        if problems:
            name = "custom_payout_bps" if offer.rate_bps is not None else "custom_payout_minor"
            raise Invalid("This custom payout does not fit the offer's prices.", fields={name: problems})
    participation.custom_payout_minor = payout_minor
    participation.custom_payout_bps = payout_bps
    db.session.flush()
    _audit_staff(
        user,
        "set_custom_payout",
        participation,
        None,
        custom_payout_minor=payout_minor,
        custom_payout_bps=payout_bps,
    )
    return participation


def _audit_staff(user: User, action: str, participation: Participation, reason: str | None, **data) -> None:
    """Moderators' and admins' decisions go to the moderators' audit log; an advertiser's
    on its own offer are its business."""
    if user.role in STAFF:
        actor = Actor(kind="user", user_id=user.id, label=user.email)
        audit.record(actor, action, "participation", participation.id, reason, **data)


def _may_decide(user: User, offer: Offer) -> bool:
    return user.role in STAFF or (user.role == "advertiser" and offer.advertiser_id == user.id)
