"""Payouts in the database: a webmaster's request to be paid, the manual batches, and each
webmaster's payout settings (the money itself moves on the ledger: billing/models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class Payout(db.Model):
    """A webmaster's request to be paid, and how it ended. Its rail (and the connected
    account, for Stripe Connect) is fixed when it is requested."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'paid', 'failed')", name="status"),
        CheckConstraint("rail IN ('manual', 'stripe_connect')", name="rail"),
        CheckConstraint(
            "rail <> 'stripe_connect' OR stripe_account_id IS NOT NULL", name="connect_has_account"
        ),
        UniqueConstraint("webmaster_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    settled_at: Mapped[datetime | None]
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    rail: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    stripe_account_id: Mapped[str | None] = mapped_column(String(80))
    stripe_transfer_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    # sched:<webmaster>:<currency>:<kind>:<first day of the period>: one payout per period
    schedule_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    # the Idempotency-Key it was requested with: the same key asks for this payout again
    idempotency_key: Mapped[str | None] = mapped_column(String(255))


class PayoutBatch(db.Model):
    """Manual-rail payouts of one currency gathered for the finance team (as a CSV)."""

    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PayoutSettings(db.Model):
    """How and when a webmaster is paid; a webmaster without a row is paid by the
    manual rail, on demand."""

    __tablename__ = "payout_settings"
    __table_args__ = (
        CheckConstraint("rail IN ('manual', 'stripe_connect')", name="rail"),
        CheckConstraint(
            "rail <> 'stripe_connect' OR stripe_account_id IS NOT NULL", name="connect_has_account"
        ),
        CheckConstraint("schedule IN ('on_demand', 'weekly', 'monthly')", name="schedule"),
        CheckConstraint("schedule <> 'weekly' OR weekday IS NOT NULL", name="weekly_has_weekday"),
        CheckConstraint("schedule <> 'monthly' OR day_of_month IS NOT NULL", name="monthly_has_day"),
        CheckConstraint("weekday IS NULL OR weekday BETWEEN 1 AND 7", name="weekday_range"),
        CheckConstraint("day_of_month IS NULL OR day_of_month BETWEEN 1 AND 31", name="day_of_month_range"),
    )

    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    rail: Mapped[str] = mapped_column(String(20), default="manual")
    stripe_account_id: Mapped[str | None] = mapped_column(String(80))
    schedule: Mapped[str] = mapped_column(String(12), default="on_demand")
    weekday: Mapped[int | None] = mapped_column(SmallInteger)  # ISO: 1 = Monday
    day_of_month: Mapped[int | None] = mapped_column(SmallInteger)
    # currency -> the smallest balance a scheduled payout waits for (never below the minimum)
    thresholds_minor: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
