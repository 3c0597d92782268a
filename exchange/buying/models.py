"""Buy orders, the sales they make, and the locks that make the register of sales exact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class BuyOrder(db.Model):
    __tablename__ = "buy_orders"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"),
        CheckConstraint(
            "(pricing = 'fixed' AND bid_minor > 0 AND ping_url IS NULL)"
            " OR (pricing = 'ping' AND ping_url IS NOT NULL AND max_bid_minor > 0)",
            name="pricing",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="active")
    exclusive: Mapped[bool] = mapped_column(default=False)
    pricing: Mapped[str] = mapped_column(String(8), default="fixed")
    bid_minor: Mapped[int | None] = mapped_column(BigInteger)  # a fixed bid per slot
    ping_url: Mapped[str | None] = mapped_column(String(2000))  # asked for a bid per lead
    # The most a pinged buyer may bid (higher answers are cut to it): what its balance must cover.
    max_bid_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Where the full lead is posted once sold (signed with the buyer's delivery secret);
    # None: the buyer's delivery endpoint, if it has one, else it pulls its leads by API.
    post_url: Mapped[str | None] = mapped_column(String(2000))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)  # buying.domain.Filters, stored
    schedule: Mapped[dict] = mapped_column(JSON, default=dict)  # buying.domain.Schedule, stored
    caps: Mapped[dict] = mapped_column(JSON, default=dict)  # {hour,day,month}_{leads,money_minor}
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Sale(db.Model):
    """One slot of one lead sold to one buyer at one price, with its own money and status."""

    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint("payout_minor > 0 AND price_minor >= payout_minor", name="prices"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'returned', 'voided')", name="status"),
        CheckConstraint(
            "post_status IN ('none', 'queued', 'delivered', 'refused', 'failed')", name="post_status"
        ),
        Index("ix_sales_buy_order_id_created_at", "buy_order_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    buy_order_id: Mapped[int | None] = mapped_column(ForeignKey("buy_orders.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"), index=True)
    exclusive: Mapped[bool]
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)  # the buyer pays
    payout_minor: Mapped[int] = mapped_column(BigInteger)  # the seller earns
    status: Mapped[str] = mapped_column(String(12), default="pending")
    post_status: Mapped[str] = mapped_column(String(12), default="none")
    post_error: Mapped[str | None] = mapped_column(String(500))
    # The register of sales: the consumer's normalised phone and email, hashed.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    review_deadline: Mapped[datetime | None] = mapped_column(index=True)
    approved_at: Mapped[datetime | None]
    hold_until: Mapped[datetime | None] = mapped_column(index=True)
    hold_released_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(500))  # the buyer's, on a rejection
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


class ConsumerLock(db.Model):
    """One row per consumer key and vertical, locked while a sale of that consumer is decided,
    so that two auctions of one consumer (two sellers' submissions) take turns."""

    __tablename__ = "consumer_locks"

    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
