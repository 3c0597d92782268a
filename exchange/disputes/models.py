"""Disputes and their threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.disputes.domain import DECIDED_BY, KINDS, OUTCOMES, STATUSES
from exchange.extensions import db
from exchange.sql_text import sql_in as _in


class Dispute(db.Model):
    __tablename__ = "disputes"
    __table_args__ = (
        # One appeal and one return per lead, ever; one sale return per sale (a lead sold
        # shared may have one per sale).
        Index(
            "uq_disputes_lead_id_kind",
            "lead_id",
            "kind",
            unique=True,
            postgresql_where=text("sale_id IS NULL"),
            sqlite_where=text("sale_id IS NULL"),
        ),
        UniqueConstraint("sale_id"),
        CheckConstraint("(kind = 'sale_return') = (sale_id IS NOT NULL)", name="sale"),
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(OUTCOMES)})", name="outcome"),
        CheckConstraint(f"decided_by IS NULL OR decided_by IN ({_in(DECIDED_BY)})", name="decided_by"),
        Index("ix_disputes_status_escalated_at", "status", "escalated_at"),
        Index("ix_disputes_status_answer_due_at", "status", "answer_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))  # a sale return's sale
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(32))
    statement: Mapped[str] = mapped_column(String(4000))
    answer_due_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    # Why it went to the moderators: "contested" by the counterparty, or "no_answer" in time.
    escalated_because: Mapped[str | None] = mapped_column(String(16))
    decide_by: Mapped[datetime | None]  # the moderators' deadline, once escalated
    outcome: Mapped[str | None] = mapped_column(String(12))
    decided_by: Mapped[str | None] = mapped_column(String(12))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    messages: Mapped[list[DisputeMessage]] = relationship(
        order_by="DisputeMessage.id", viewonly=True, lazy="select"
    )


class DisputeMessage(db.Model):
    """One message in a dispute's thread (the opening statement and the answer included)."""

    __tablename__ = "dispute_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(12))  # advertiser, webmaster, moderator, system
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
