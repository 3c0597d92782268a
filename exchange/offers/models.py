from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db

# Fixed prices (any model), or percentage prices (cps); payout positive and never above the rate.
OFFER_PRICES_SQL = (
    "(rate_bps IS NULL AND payout_bps IS NULL AND payout_minor > 0 AND rate_minor >= payout_minor)"
    " OR (model = 'cps' AND rate_minor IS NULL AND payout_minor IS NULL"
    " AND payout_bps > 0 AND rate_bps >= payout_bps AND rate_bps <= 10000)"
)


class Offer(db.Model):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(OFFER_PRICES_SQL, name="prices"),
        CheckConstraint("status IN ('draft', 'active', 'paused', 'archived')", name="status"),
        CheckConstraint("visibility IN ('public', 'approval', 'private')", name="visibility"),
        CheckConstraint("model IN ('cpl', 'cpa', 'cps')", name="model"),
        CheckConstraint("duplicate_scope IN ('offer', 'advertiser')", name="duplicate_scope"),
        CheckConstraint("auto_approve IN ('none', 'all', 'hot')", name="auto_approve"),
        CheckConstraint("min_temperature IN ('cold', 'warm', 'hot')", name="min_temperature"),
        CheckConstraint(
            "duplicate_window_seconds >= 0 AND review_window_seconds >= 0 AND hold_seconds >= 0",
            name="windows",
        ),
        CheckConstraint("retention_days IS NULL OR retention_days > 0", name="retention_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    traffic_sources: Mapped[list] = mapped_column(JSON, default=list)  # allowed; empty: any
    landing_urls: Mapped[list] = mapped_column(JSON, default=list)  # [{"url", "weight"}] rotation
    model: Mapped[str] = mapped_column(String(8), default="cpl")
    currency: Mapped[str] = mapped_column(String(3))
    # Fixed prices in minor units, or (cps only) shares of the sale in basis points.
    rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    rate_bps: Mapped[int | None]
    payout_bps: Mapped[int | None]
    # Overrides by webmaster, country, temperature (exchange/offers/pricing.py), stored form.
    payout_rules: Mapped[list] = mapped_column(JSON, default=list)
    allowed_countries: Mapped[list] = mapped_column(JSON, default=list)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    landing_url: Mapped[str] = mapped_column(String(2000))
    # Where clicks go that this offer cannot take (wrong country, paused); None: a plain page.
    trafficback_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(12), default="active")
    visibility: Mapped[str] = mapped_column(String(12), default="public")
    duplicate_window_seconds: Mapped[int] = mapped_column(default=30 * 86400)
    # Days after which a decided lead's personal data is erased by the sweep; None: kept
    # (docs/privacy.md).
    retention_days: Mapped[int | None]
    review_window_seconds: Mapped[int] = mapped_column(default=3 * 86400)
    hold_seconds: Mapped[int] = mapped_column(default=14 * 86400)
    # How long after approval the advertiser may return a lead; never longer than the hold.
    return_window_seconds: Mapped[int] = mapped_column(default=7 * 86400)
    # Pause the offer when the advertiser's free balance falls below this (None: one lead's
    # rate; a cps offer without it is never paused for funds); ``paused_for`` says the
    # exchange paused it ("low_balance"), so that money arriving resumes it.
    low_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Disputes (docs/disputes.md): how long after a rejection the webmaster may appeal, how
    # long the other party has to answer a dispute before it goes to the moderators, and
    # returns accepted without a dispute: for these reasons, while the webmaster's returns
    # on the offer this month stay within a count or a percentage of its approved leads.
    appeal_window_seconds: Mapped[int] = mapped_column(default=7 * 86400)
    dispute_answer_seconds: Mapped[int] = mapped_column(default=3 * 86400)
    auto_return_reasons: Mapped[list] = mapped_column(JSON, default=list)
    auto_return_cap_count: Mapped[int | None]
    auto_return_cap_percent: Mapped[int | None]
    # Hold leads that validation flagged for a moderator's verdict (docs/moderation.md).
    fraud_review: Mapped[bool] = mapped_column(default=False)
    paused_for: Mapped[str | None] = mapped_column(String(20))
    # Validation (docs/leads.md): where duplicates are looked for, the lowest temperature
    # accepted (None: any), which accepted leads are approved without review, fraud thresholds.
    duplicate_scope: Mapped[str] = mapped_column(String(12), default="offer")
    min_temperature: Mapped[str | None] = mapped_column(String(8))
    auto_approve: Mapped[str] = mapped_column(String(8), default="none")
    min_click_to_lead_seconds: Mapped[int] = mapped_column(default=3)
    max_leads_per_ip_per_hour: Mapped[int] = mapped_column(default=5)
    attribution_window_seconds: Mapped[int] = mapped_column(default=30 * 86400)
    # Caps on accepted leads per UTC day and month: for the offer, and for each webmaster.
    daily_cap: Mapped[int | None]
    monthly_cap: Mapped[int | None]
    webmaster_daily_cap: Mapped[int | None]
    webmaster_monthly_cap: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Participation(db.Model):
    """A webmaster's permission to send traffic to an offer, with its link token."""

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("offer_id", "webmaster_id"),
        CheckConstraint(
            "status IN ('active', 'pending', 'invited', 'declined', 'banned')", name="participation_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="active")
    # The payout this webmaster earns on this offer instead of the offer's (never above the rate).
    custom_payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    custom_payout_bps: Mapped[int | None]  # the same, on an offer priced in basis points
    # The traffic sources the webmaster declared when joining (a subset of the offer's allowed ones).
    traffic_sources: Mapped[list] = mapped_column(JSON, default=list)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    offer: Mapped[Offer] = db.relationship()
