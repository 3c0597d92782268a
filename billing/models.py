from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
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
