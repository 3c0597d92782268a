"""The auction log: one auction per exchange lead, one row per buy order considered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class Auction(db.Model):
    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("status IN ('due', 'posting', 'done')", name="status"),
        CheckConstraint("outcome IS NULL OR outcome IN ('sold', 'unsold')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), unique=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="due", index=True)
    # An auctioneer working on it until then; past it, another may take it over.
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # The decision's input (auctions.domain.Rules) and every step of its waterfall, as run.
    rules: Mapped[dict | None] = mapped_column(JSON)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(String(8))
    unsold_reason: Mapped[str | None] = mapped_column(String(200))
    # What the seller was promised by a ping (``POST /api/v1/pings``): the least the sales
    # must pay it, or nothing is sold.
    min_payout_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    deadline_ms: Mapped[int | None]
    duration_ms: Mapped[int | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class AuctionBid(db.Model):
    """What one buy order did in one auction: skipped (and why), or its bid and its fate."""

    __tablename__ = "auction_bids"
    __table_args__ = (
        CheckConstraint(
            "ping_status IS NULL OR ping_status IN ('answered', 'no_bid', 'timed_out', 'error', 'invalid')",
            name="ping_status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    buy_order_id: Mapped[int] = mapped_column(ForeignKey("buy_orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pricing: Mapped[str] = mapped_column(String(8))
    exclusive: Mapped[bool]
    skipped: Mapped[str | None] = mapped_column(String(200))  # filter, schedule, cap, balance, register
    ping_status: Mapped[str | None] = mapped_column(String(12))
    ping_error: Mapped[str | None] = mapped_column(String(200))
    latency_ms: Mapped[int | None]
    bid_minor: Mapped[int | None] = mapped_column(BigInteger)
    # The buyer's share of posts refused and sales returned when it bid (exchange/quality):
    # among equal bids the lower wins; None in auctions run before it counted.
    buyer_rank_tenths: Mapped[int | None]
    result: Mapped[str | None] = mapped_column(String(40))  # won, outbid, floor, cost, failed: ...
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
