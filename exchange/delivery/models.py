"""Outbound calls in the database, what every kind shares: the retry columns of a delivery
(``DeliveryColumns``) and the columns of an attempt (``AttemptColumns``); and the portals'
test sends (a sample postback, a sample lead), in a table of their own, ``test_sends``: they
belong to no lead and are never retried. Webmaster postbacks' tables are in
exchange/delivery/postbacks/models.py, lead deliveries' in exchange/delivery/leads/models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.delivery.domain import DELIVERY_STATES, is_success
from exchange.extensions import db
from exchange.sql_text import sql_in as _in

TEST_SEND_KINDS = ("postback", "lead")
TEST_SEND_STATES = ("queued", "sending", "sent")
TEST_SEND_DECISIONS = ("approve", "reject")

STATES_SQL = _in(DELIVERY_STATES)  # a CHECK on every delivery's state


class DeliveryColumns:
    """What every outbound delivery keeps: where it stands and when to try again."""

    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class AttemptColumns:
    """What every attempt records: what the other side answered, or why nothing was sent."""

    number: Mapped[int]
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")


class TestSend(db.Model):
    """One press of a test button: a sample postback (``kind`` postback) or a sample lead
    (``kind`` lead) to its owner's URL, ``queued`` until its job claims it (``sending``,
    ``claimed_at``) and ``sent`` with the other side's answer. ``decision`` is what a test
    lead's answer asked for: shown, never applied."""

    __test__ = False  # not a pytest test class, whatever its name
    __tablename__ = "test_sends"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(TEST_SEND_KINDS)})", name="kind"),
        CheckConstraint(f"state IN ({_in(TEST_SEND_STATES)})", name="state"),
        CheckConstraint(f"decision IS NULL OR decision IN ({_in(TEST_SEND_DECISIONS)})", name="decision"),
        Index("ix_test_sends_owner_user_id_kind_id", "owner_user_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))  # a per-offer test
    url: Mapped[str] = mapped_column(Text)  # as called (a postback's is filled when queued)
    state: Mapped[str] = mapped_column(String(8), default="queued")
    queued_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    decision: Mapped[str | None] = mapped_column(String(8))

    @property
    def at(self) -> datetime:
        return self.sent_at or self.queued_at

    @property
    def delivered(self) -> bool:
        return self.state == "sent" and is_success(self.status_code)
