from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db

SUB_KEYS = ("sub1", "sub2", "sub3", "sub4", "sub5")


# A click is on an offer's link (its participation) or on a seller's vertical link.
OFFER_OR_VERTICAL = (
    "(participation_id IS NOT NULL AND offer_id IS NOT NULL"
    " AND vertical_seller_id IS NULL AND vertical_id IS NULL)"
    " OR (participation_id IS NULL AND offer_id IS NULL"
    " AND vertical_seller_id IS NOT NULL AND vertical_id IS NOT NULL)"
)


class Click(db.Model):
    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_offer_visitor", "offer_id", "ip", "created_at"),
        Index("ix_clicks_vertical_visitor", "vertical_id", "ip", "created_at"),
        CheckConstraint(OFFER_OR_VERTICAL, name="offer_or_vertical"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    click_id: Mapped[str] = mapped_column(String(64), unique=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), index=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    participation_id: Mapped[int | None] = mapped_column(ForeignKey("participations.id"))
    # A click on a seller's vertical link (/v/<token>): its vertical and the seller's standing.
    vertical_id: Mapped[int | None] = mapped_column(ForeignKey("verticals.id"))
    vertical_seller_id: Mapped[int | None] = mapped_column(ForeignKey("vertical_sellers.id"), index=True)
    sub1: Mapped[str | None] = mapped_column(String(255))
    sub2: Mapped[str | None] = mapped_column(String(255))
    sub3: Mapped[str | None] = mapped_column(String(255))
    sub4: Mapped[str | None] = mapped_column(String(255))
    sub5: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    country: Mapped[str | None] = mapped_column(String(2))  # from the IP, offline data
    # Why the click was sent to the trafficback instead of the landing page (None: it was not).
    trafficback_reason: Mapped[str | None] = mapped_column(String(32))
    # First click from this IP and user agent on this offer (or vertical) within 24 hours.
    is_unique: Mapped[bool] = mapped_column(default=True)
    # Query parameters beyond sub1..sub5, passed through to the landing page.
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


class PostbackToken(db.Model):
    """An advertiser's secret for the inbound conversion postback, stored as SHA-256,
    and the addresses its postbacks may come from (empty: any)."""

    __tablename__ = "postback_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip_allowlist: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
