"""Card top-ups through Stripe, and the Stripe events that settle them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db

TOPUP_STATES = ("requested", "succeeded", "failed")


class Topup(db.Model):
    """An advertiser's card payment: asked for here, confirmed in the browser with
    Stripe, credited only when Stripe's signed ``payment_intent.succeeded`` arrives."""

    __tablename__ = "topups"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'succeeded', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    payment_intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    settled_at: Mapped[datetime | None]


class StripeEvent(db.Model):
    """Every verified event Stripe sent, once (its id is the key); ``processed_at`` is
    set by the job that applied it."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(500))
