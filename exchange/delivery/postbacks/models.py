"""Webmaster postbacks in the database: the URL settings, one delivery per lead event, its
attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.delivery.models import STATES_SQL, AttemptColumns, DeliveryColumns
from exchange.extensions import db


class PostbackUrl(db.Model):
    """A webmaster's postback URL: its global one (``offer_id`` null) or one offer's override."""

    __tablename__ = "postback_urls"
    __table_args__ = (
        UniqueConstraint("webmaster_id", "offer_id"),
        # NULLs are distinct in a unique key: one global URL per webmaster needs its own index.
        Index(
            "uq_postback_urls_webmaster_id_global",
            "webmaster_id",
            unique=True,
            sqlite_where=text("offer_id IS NULL"),
            postgresql_where=text("offer_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    url_template: Mapped[str] = mapped_column(String(2000))
    # Our status name -> the name the webmaster's tracker uses for it.
    status_map: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class PostbackDelivery(DeliveryColumns, db.Model):
    """One postback to send: a lead's status change, with its URL filled when it happened."""

    __tablename__ = "postback_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATES_SQL})", name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_postback_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    lead_event_id: Mapped[int] = mapped_column(ForeignKey("lead_events.id"), unique=True)
    lead_status: Mapped[str] = mapped_column(String(16))  # ours, as the event left the lead
    url: Mapped[str] = mapped_column(Text)

    attempt_log: Mapped[list[PostbackAttempt]] = relationship(
        order_by="PostbackAttempt.number", lazy="selectin", viewonly=True
    )


class PostbackAttempt(AttemptColumns, db.Model):
    """One try at sending a delivery: what the tracker answered, or why nothing was sent."""

    __tablename__ = "postback_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("postback_deliveries.id"))
