"""Caps: how many leads an offer accepts per UTC day and month, in all and
from each webmaster. Counted on accepted leads (pending, waiting for funds,
approved, returned, held for fraud review), by the time validation accepted them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from exchange.extensions import db
from exchange.leads.domain import ACCEPTED
from exchange.leads.models import Lead
from exchange.offers.models import Offer

CAP_NAMES = ("daily_cap", "monthly_cap", "webmaster_daily_cap", "webmaster_monthly_cap")


def has_caps(offer: Offer) -> bool:
    return any(getattr(offer, name) for name in CAP_NAMES)


def cap_reached(
    offer: Offer, webmaster_id: int, now: datetime, accepted_in_batch: tuple[int, int] = (0, 0)
) -> str | None:
    """The name of the first cap already full for this webmaster, or None.
    ``accepted_in_batch``: leads of the offer (all, this webmaster's) accepted by the
    caller's transaction and not yet written."""
    if not has_caps(offer):
        return None
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    mine = Lead.webmaster_id == webmaster_id
    used = db.session.execute(
        select(
            func.count().filter(Lead.accepted_at >= day),
            func.count(),
            func.sum(case((mine & (Lead.accepted_at >= day), 1), else_=0)),
            func.sum(case((mine, 1), else_=0)),
        ).where(Lead.offer_id == offer.id, Lead.status.in_(ACCEPTED), Lead.accepted_at >= month)
    ).one()
    in_batch = (accepted_in_batch[0], accepted_in_batch[0], accepted_in_batch[1], accepted_in_batch[1])
    for name, count, extra in zip(CAP_NAMES, used, in_batch, strict=True):
        limit = getattr(offer, name)
        if limit and (count or 0) + extra >= limit:
            return name
    return None


def lock_offer(offer_id: int) -> Offer:
    """Serialise acceptance on one offer, so that two leads cannot both take its last place."""
    return db.session.scalar(
        select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True)
    )
