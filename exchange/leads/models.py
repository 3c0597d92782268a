from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db
from exchange.leads.domain import STATES

_states_sql = ", ".join(f"'{state}'" for state in STATES)


class Lead(db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint(f"status IN ({_states_sql})", name="status"),
        # A lead comes through an offer (the CPA network) or is submitted to a vertical (the exchange).
        CheckConstraint("(offer_id IS NULL) <> (vertical_id IS NULL)", name="offer_or_vertical"),
        UniqueConstraint("webmaster_id", "idempotency_key"),
        UniqueConstraint("advertiser_id", "txid"),
        Index("ix_leads_erased_at_created_at", "erased_at", "created_at"),  # what retention looks at
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), index=True)
    advertiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    vertical_id: Mapped[int | None] = mapped_column(ForeignKey("verticals.id"), index=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The signed click id the lead came with (the click's row may be written later).
    click_token: Mapped[str | None] = mapped_column(String(64), index=True)
    sub1: Mapped[str | None] = mapped_column(String(255))
    sub2: Mapped[str | None] = mapped_column(String(255))
    sub3: Mapped[str | None] = mapped_column(String(255))
    sub4: Mapped[str | None] = mapped_column(String(255))
    sub5: Mapped[str | None] = mapped_column(String(255))
    fields: Mapped[dict] = mapped_column(JSON)
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(32), index=True)
    # Keyed hashes of email_key and phone_key (exchange/privacy/hashing.py): what duplicate
    # checks compare, kept after the lead's personal data is erased (docs/privacy.md).
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime | None]  # when its personal data was erased (retention or a request)
    country: Mapped[str | None] = mapped_column(String(2))  # from the lead's country field
    ip: Mapped[str | None] = mapped_column(String(45))  # the visitor's, sent with the lead or its click's
    ip_country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    reason_codes: Mapped[list] = mapped_column(JSON, default=list)
    findings: Mapped[list] = mapped_column(JSON, default=list)
    # Scoring (exchange/leads/scoring.py): 0-100, its band, and the phone's line type.
    score: Mapped[int | None]
    temperature: Mapped[str | None] = mapped_column(String(8))
    phone_type: Mapped[str | None] = mapped_column(String(16))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str | None] = mapped_column(String(3))
    rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Which of the offer's terms priced the lead at acceptance (pricing.ChosenTerms.as_dict()).
    pricing: Mapped[dict | None] = mapped_column(JSON)
    # Conversions an advertiser reports by postback (cpa, cps): its transaction id, the
    # sale amount (cps) and the status it reported (pending or approved).
    txid: Mapped[str | None] = mapped_column(String(255))
    sale_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    reported_status: Mapped[str | None] = mapped_column(String(16))
    accepted_at: Mapped[datetime | None]  # when validation accepted it (what caps count)
    review_deadline: Mapped[datetime | None] = mapped_column(index=True)
    approved_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]  # when it was last rejected (an appeal's window starts)
    # When an appeal won by the webmaster reinstated it: its price is reserved a second time,
    # under transfer ids of their own (billing.plans.LeadPrice.reservation_reference).
    reinstated_at: Mapped[datetime | None]
    # Until when the webmaster may appeal its rejection, and the advertiser ask to return it
    # once approved: fixed from the offer's windows when it was rejected or approved, so a
    # later edit of the offer changes neither (exchange/leads/windows.py).
    appeal_until: Mapped[datetime | None]
    return_until: Mapped[datetime | None]
    hold_until: Mapped[datetime | None] = mapped_column(index=True)
    hold_released_at: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class Consent(db.Model):
    """What a visitor agreed to on a hosted form: the text shown, when, from where."""

    __tablename__ = "lead_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), unique=True)
    text: Mapped[str] = mapped_column(String(2000))
    given_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    page_url: Mapped[str] = mapped_column(String(2000))
    # A consent certificate's id from a third party (a TrustedForm or Jornaya token), if any.
    certificate: Mapped[str | None] = mapped_column(String(200))


class LeadEvent(db.Model):
    """The audit log of lead transitions. Append-only."""

    __tablename__ = "lead_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    actor_label: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
