"""Everything a moderator needs to decide a dispute, gathered in one place: the lead as
submitted and as validation judged it, its click, its consent, its delivery to the
advertiser and the advertiser's answers, its history, the dispute's thread, and both
parties' records (docs/disputes.md, "Evidence")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from exchange import clock
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.disputes.schemas import DisputeViewSchema, MessageViewSchema
from exchange.disputes.subjects import subject_of
from exchange.extensions import db
from exchange.leads.models import Consent, Lead, LeadEvent
from exchange.offers.models import Offer
from exchange.tracking.services import click_by_id

LEAD_FACTS = (
    "id",
    "offer_id",
    "status",
    "fields",
    "country",
    "ip",
    "ip_country",
    "user_agent",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "score",
    "temperature",
    "phone_type",
    "findings",
    "reason_codes",
    "decision_note",
    "currency",
    "rate_minor",
    "payout_minor",
    "created_at",
    "accepted_at",
    "approved_at",
    "rejected_at",
    "reinstated_at",
    "hold_until",
)


def evidence_for(dispute: Dispute) -> dict[str, Any]:
    from exchange.moderation.reputation.services import party_history

    lead = db.session.get(Lead, dispute.lead_id)
    offer = db.session.get(Offer, lead.offer_id) if lead.offer_id is not None else None
    return {
        "dispute": DisputeViewSchema().dump(dispute),
        "thread": MessageViewSchema(many=True).dump(thread_of(dispute.id)),
        "lead": {name: _plain(getattr(lead, name)) for name in LEAD_FACTS}
        | {"offer_name": offer.name if offer else None},
        "lead_events": _lead_events(lead.id),
        "click": _click(lead),
        "consent": _consent(lead.id),
        "delivery": _delivery(lead.id),
        "history": party_history(dispute.webmaster_id, dispute.advertiser_id).as_dict(),
        # A sale return: the sale as its feature tells it (exchange/disputes/subjects.py).
        "sale": subject_of(dispute.kind).evidence(dispute) if dispute.sale_id is not None else None,
    }


def thread_of(dispute_id: int) -> list[DisputeMessage]:
    return list(
        db.session.scalars(
            select(DisputeMessage).where(DisputeMessage.dispute_id == dispute_id).order_by(DisputeMessage.id)
        )
    )


def _lead_events(lead_id: int) -> list[dict]:
    events = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id))
    return [
        {
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "actor_kind": event.actor_kind,
            "actor_label": event.actor_label,
            "reason": event.reason,
            "created_at": _plain(event.created_at),
        }
        for event in events
    ]


def _click(lead: Lead) -> dict | None:
    click = click_by_id(lead.click_token) if lead.click_token else None
    if click is None:
        return None
    names = ("click_id", "ip", "country", "user_agent", "sub1", "sub2", "sub3", "sub4", "sub5", "is_unique")
    return {name: getattr(click, name) for name in names} | {"created_at": _plain(click.created_at)}


def _consent(lead_id: int) -> dict | None:
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == lead_id))
    if consent is None:
        return None
    return {
        "text": consent.text,
        "given_at": _plain(consent.given_at),
        "ip": consent.ip,
        "page_url": consent.page_url,
    }


def _delivery(lead_id: int) -> dict | None:
    delivery = db.session.scalar(select(LeadDelivery).where(LeadDelivery.lead_id == lead_id))
    if delivery is None:
        return None
    attempts = db.session.scalars(
        select(LeadDeliveryAttempt)
        .where(LeadDeliveryAttempt.delivery_id == delivery.id)
        .order_by(LeadDeliveryAttempt.number)
    )
    return {
        "url": delivery.url,
        "state": delivery.state,
        "delivered_at": _plain(delivery.delivered_at),
        "attempts": [
            {
                "number": attempt.number,
                "at": _plain(attempt.at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "response_excerpt": attempt.response_excerpt,
                "decision": attempt.decision,
                "decision_result": attempt.decision_result,
            }
            for attempt in attempts
        ],
    }


def _plain(value: Any) -> Any:
    return clock.isoformat(value) if isinstance(value, datetime) else value
