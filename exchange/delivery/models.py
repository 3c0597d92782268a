"""Outbound calls in the database.

Webmaster postbacks: the URL settings, one delivery per lead event, its attempts.
Advertiser lead delivery: the endpoint settings (with their signing secrets), one
delivery per accepted lead, its attempts. Both kinds of delivery share their retry
columns (``DeliveryColumns``) and their attempt columns (``AttemptColumns``).
The portals' test sends (a sample postback, a sample lead) have a table of their own,
``test_sends``: they belong to no lead and are never retried.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.delivery.domain import DELIVERY_STATES, is_success
from exchange.extensions import db
from exchange.sql_text import sql_in as _in

TEST_SEND_KINDS = ("postback", "lead")
TEST_SEND_STATES = ("queued", "sending", "sent")
TEST_SEND_DECISIONS = ("approve", "reject")


_states_sql = _in(DELIVERY_STATES)


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


class PostbackDelivery(DeliveryColumns, db.Model):
    """One postback to send: a lead's status change, with its URL filled when it happened."""

    __tablename__ = "postback_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN ({_states_sql})", name="state"),
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
        CheckConstraint(f"state IN ({_states_sql})", name="state"),
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
