"""What we hold about one consumer (by email or phone): their leads as submitted and as we
judged them, their consents and clicks, who received them, the disputes about them, and
whether they were erased (then only what is left). The same places an erasure erases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from exchange.buying.models import Sale
from exchange.delivery.leads.models import LeadDelivery
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.extensions import db
from exchange.leads.models import Consent, Lead
from exchange.privacy.models import Erasure
from exchange.privacy.services import Subject, leads_of
from exchange.tracking.models import Click


def consumer_data(subject: Subject) -> dict[str, Any]:
    leads = list(db.session.scalars(select(Lead).where(Lead.id.in_(leads_of(subject))).order_by(Lead.id)))
    ids = [lead.id for lead in leads]
    consents = {c.lead_id: c for c in db.session.scalars(select(Consent).where(Consent.lead_id.in_(ids)))}
    tokens = [lead.click_token for lead in leads if lead.click_token]
    clicks = {c.click_id: c for c in db.session.scalars(select(Click).where(Click.click_id.in_(tokens)))}
    delivered = set(db.session.scalars(select(LeadDelivery.lead_id).where(LeadDelivery.lead_id.in_(ids))))
    buyers: dict[int, list[int]] = {}
    for lead_id, buyer_id in db.session.execute(
        select(Sale.lead_id, Sale.buyer_id).where(Sale.lead_id.in_(ids))
    ):
        buyers.setdefault(lead_id, []).append(buyer_id)
    disputes: dict[int, list[Dispute]] = {}
    for dispute in db.session.scalars(select(Dispute).where(Dispute.lead_id.in_(ids)).order_by(Dispute.id)):
        disputes.setdefault(dispute.lead_id, []).append(dispute)
    erasures = db.session.scalars(select(Erasure.created_at).where(Erasure.subject_hash == subject.hash))
    return {
        "kind": subject.kind,
        "contact": subject.normalised,
        "erased_at": list(erasures),
        "leads": [
            _lead(lead, consents.get(lead.id), clicks.get(lead.click_token), lead.id in delivered,
                  buyers.get(lead.id, []), disputes.get(lead.id, []))
            for lead in leads
        ],
    }  # fmt: skip


def _lead(
    lead: Lead,
    consent: Consent | None,
    click: Click | None,
    delivered: bool,
    buyers: list[int],
    disputes: list[Dispute],
) -> dict[str, Any]:
    # Who received it: the offer's advertiser (when it was sent to them) or the buyers of its sales.
    recipients = sorted({*buyers, *([lead.advertiser_id] if delivered and lead.advertiser_id else [])})
    return {
        "lead_id": lead.id,
        "offer_id": lead.offer_id,
        "vertical_id": lead.vertical_id,
        "status": lead.status,
        "fields": lead.fields,
        "email": lead.email_key,
        "phone": lead.phone_key,
        "country": lead.country,
        "ip": lead.ip,
        "user_agent": lead.user_agent,
        "created_at": lead.created_at,
        "erased_at": lead.erased_at,
        "consent": consent
        and {
            "text": consent.text,
            "given_at": consent.given_at,
            "ip": consent.ip,
            "page_url": consent.page_url,
        },
        "click": click and {"ip": click.ip, "user_agent": click.user_agent, "created_at": click.created_at},
        "recipient_ids": recipients,
        "disputes": [
            {
                "id": dispute.id,
                "kind": dispute.kind,
                "status": dispute.status,
                "statement": dispute.statement,
                "messages": [message.body for message in _thread(dispute.id)],
            }
            for dispute in disputes
        ],
    }


def _thread(dispute_id: int) -> list[DisputeMessage]:
    return list(
        db.session.scalars(
            select(DisputeMessage).where(DisputeMessage.dispute_id == dispute_id).order_by(DisputeMessage.id)
        )
    )
