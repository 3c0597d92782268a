"""What other features ask about disputes."""

from __future__ import annotations

from sqlalchemy import or_, select

from exchange.disputes.domain import OPEN, RETURN
from exchange.disputes.models import Dispute
from exchange.extensions import db


def return_disputed(lead_id: int) -> bool:
    """Whether an advertiser's request to return this lead awaits a decision."""
    return (
        db.session.scalar(
            select(Dispute.id).where(
                Dispute.lead_id == lead_id, Dispute.kind == RETURN, Dispute.status.in_(OPEN)
            )
        )
        is not None
    )


def sale_return_disputed(sale_id: int) -> bool:
    """Whether a buyer's return of this sale awaits a decision."""
    found = select(Dispute.id).where(Dispute.sale_id == sale_id, Dispute.status.in_(OPEN))
    return db.session.scalar(found) is not None


def disputes_of(user_id: int, limit: int = 50) -> list[Dispute]:
    """A party's disputes, newest first."""
    query = select(Dispute).where(or_(Dispute.advertiser_id == user_id, Dispute.webmaster_id == user_id))
    return list(db.session.scalars(query.order_by(Dispute.id.desc()).limit(limit)))
