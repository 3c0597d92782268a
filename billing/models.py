from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.domain import AccountRef, Balance, PlannedTransfer
from exchange import clock
from exchange.extensions import db


class Account(db.Model):
    """One owner's money for one purpose in one currency, with cached counters."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("debits_pending >= 0", name="debits_pending"),
        CheckConstraint("credits_pending >= 0", name="credits_pending"),
        CheckConstraint("NOT bounded OR debits_posted + debits_pending <= credits_posted", name="bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    owner: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    bounded: Mapped[bool]
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def ref(self) -> AccountRef:
        return AccountRef(self.owner, self.owner_id, self.purpose, self.currency)

    @property
    def balance(self) -> Balance:
        return Balance(
            debits_pending=self.debits_pending,
            debits_posted=self.debits_posted,
            credits_pending=self.credits_pending,
            credits_posted=self.credits_posted,
        )

    @balance.setter
    def balance(self, value: Balance) -> None:
        self.debits_pending = value.debits_pending
        self.debits_posted = value.debits_posted
        self.credits_pending = value.credits_pending
        self.credits_posted = value.credits_posted


class Transfer(db.Model):
    """Append-only: a transfer is never updated or deleted."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("kind IN ('posted', 'pending', 'post_pending', 'void_pending')", name="kind"),
        CheckConstraint(
            "(kind IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
            name="resolution_names_pending",
        ),
        UniqueConstraint("pending_id"),
    )

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(12))
    pending_id: Mapped[str | None] = mapped_column(ForeignKey("transfers.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)

    debit_account: Mapped[Account] = db.relationship(foreign_keys=[debit_account_id])
    credit_account: Mapped[Account] = db.relationship(foreign_keys=[credit_account_id])

    def planned(self, refs: dict[int, AccountRef] | None = None) -> PlannedTransfer:
        """The transfer as planned; ``refs`` (account id -> ref) saves loading the accounts."""
        refs = refs or {}
        return PlannedTransfer(
            id=self.id,
            debit=refs.get(self.debit_account_id) or self.debit_account.ref,
            credit=refs.get(self.credit_account_id) or self.credit_account.ref,
            amount_minor=self.amount_minor,
            kind=self.kind,
            pending_id=self.pending_id,
        )


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
