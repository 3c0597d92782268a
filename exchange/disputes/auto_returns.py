"""An offer's automatic return rule, applied to a return as it is asked for: the month's
counts come from the audit log of lead transitions (docs/disputes.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from exchange.disputes.domain import ReturnRule, month_start
from exchange.extensions import db
from exchange.leads.models import Lead, LeadEvent
from exchange.offers.models import Offer, Participation


def rule_of(offer: Offer) -> ReturnRule:
    return ReturnRule(
        reasons=tuple(offer.auto_return_reasons or ()),
        cap_count=offer.auto_return_cap_count,
        cap_percent=offer.auto_return_cap_percent,
    )


def rule_accepts(offer: Offer, lead: Lead, reason: str, now: datetime) -> bool:
    """The caller holds the lead's row lock. The webmaster's participation row is locked
    before counting (lock order: lead, participation, dispute, accounts), so returns of two
    leads asked at once are counted one after the other and never both slip under the cap."""
    rule = rule_of(offer)
    if reason not in rule.reasons:
        return False
    db.session.execute(
        select(Participation.id)
        .where(Participation.offer_id == offer.id, Participation.webmaster_id == lead.webmaster_id)
        .with_for_update()
    )
    returned, approved = month_counts(offer.id, lead.webmaster_id, month_start(now))
    return rule.accepts(reason, returned, approved)


def month_counts(offer_id: int, webmaster_id: int, since: datetime) -> tuple[int, int]:
    """The webmaster's leads on the offer returned, and approved, since ``since``."""
    returned, approved = db.session.execute(
        select(
            func.count().filter(LeadEvent.to_status == "returned"),
            func.count().filter(LeadEvent.to_status == "approved"),
        )
        .select_from(LeadEvent)
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(Lead.offer_id == offer_id, Lead.webmaster_id == webmaster_id, LeadEvent.created_at >= since)
    ).one()
    return returned or 0, approved or 0
