"""Lead delivery in the database: the advertisers' endpoint settings (with their signing
secrets), one delivery per accepted lead, its attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.delivery.models import STATES_SQL, AttemptColumns, DeliveryColumns
from exchange.extensions import db


class DeliverySetting(db.Model):
    """An advertiser's endpoint for its leads: the global one (``offer_id`` null) or one offer's.

    ``signing_secret`` signs every delivery, so it is kept as it is (a hash could not sign);
    the API shows it once, when it is made, and only a hint of it afterwards."""

    __tablename__ = "delivery_settings"
    __table_args__ = (
        UniqueConstraint("advertiser_id", "offer_id"),
        Index(
            "uq_delivery_settings_advertiser_id_global",
            "advertiser_id",
            unique=True,
            sqlite_where=text("offer_id IS NULL"),
            postgresql_where=text("offer_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    url: Mapped[str] = mapped_column(String(2000))
    signing_secret: Mapped[str] = mapped_column(String(100))
    secret_created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    def __repr__(self) -> str:  # never the secret
        return f"<DeliverySetting {self.id} advertiser={self.advertiser_id} offer={self.offer_id}>"


class LeadDelivery(DeliveryColumns, db.Model):
    """One accepted lead to deliver to its advertiser's endpoint (at most one per lead)."""

    __tablename__ = "lead_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATES_SQL})", name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_lead_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), unique=True)
    # The endpoint of the last attempt (settings are read again before each one).
    url: Mapped[str] = mapped_column(String(2000))

    attempt_log: Mapped[list[LeadDeliveryAttempt]] = relationship(
        order_by="LeadDeliveryAttempt.number", lazy="selectin", viewonly=True
    )


class LeadDeliveryAttempt(AttemptColumns, db.Model):
    """One POST of a lead, with the decision its answer carried and what became of it."""

    __tablename__ = "lead_delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("lead_deliveries.id"))
    url: Mapped[str] = mapped_column(String(2000), default="")
    decision: Mapped[str | None] = mapped_column(String(8))  # approve or reject, as asked
    decision_result: Mapped[str | None] = mapped_column(String(500))
