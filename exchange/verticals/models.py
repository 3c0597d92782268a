"""Verticals and the sellers approved to submit to them."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db
from exchange.verticals.domain import DEFAULT_AGEING, MAX_SLOTS


class Vertical(db.Model):
    __tablename__ = "verticals"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        CheckConstraint(f"slots BETWEEN 1 AND {MAX_SLOTS}", name="slots"),
        CheckConstraint("margin_bps BETWEEN 0 AND 9999 AND margin_minor >= 0", name="margin"),
        CheckConstraint("margin_bps = 0 OR margin_minor = 0", name="one_margin"),
        CheckConstraint(
            "duplicate_window_seconds >= 0 AND review_window_seconds >= 0 AND hold_seconds >= 0"
            " AND return_window_seconds >= 0 AND return_window_seconds <= hold_seconds",
            name="windows",
        ),
        CheckConstraint("retention_days IS NULL OR retention_days > 0", name="retention_days"),
        CheckConstraint(
            "return_cap_percent IS NULL OR return_cap_percent BETWEEN 0 AND 100", name="return_cap_percent"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(8), default="active")
    currency: Mapped[str] = mapped_column(String(3))
    fields: Mapped[list] = mapped_column(JSON, default=list)  # the offers' field spec
    personal_fields: Mapped[list] = mapped_column(JSON, default=list)  # never pinged (phone, email always)
    allowed_countries: Mapped[list] = mapped_column(JSON, default=list)  # empty: any
    floors: Mapped[dict] = mapped_column(JSON, default=dict)  # {country or "*": {temperature: minor}}
    margin_bps: Mapped[int] = mapped_column(default=0)  # the platform's share of each sale, or
    margin_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # a fixed amount per sale
    slots: Mapped[int] = mapped_column(default=1)  # most sales per lead (1: exclusive)
    # Whether a webmaster must be approved by staff before it may submit.
    sellers_need_approval: Mapped[bool] = mapped_column(default=True)
    duplicate_window_seconds: Mapped[int] = mapped_column(default=30 * 86400)
    # Days after which a decided lead's personal data is erased by the sweep; None: kept
    # (docs/privacy.md).
    retention_days: Mapped[int | None]
    review_window_seconds: Mapped[int] = mapped_column(default=3 * 86400)
    hold_seconds: Mapped[int] = mapped_column(default=14 * 86400)
    return_window_seconds: Mapped[int] = mapped_column(default=7 * 86400)
    # A buyer's returns of one month's purchases, at most this percent of them; None: no cap.
    return_cap_percent: Mapped[int | None]  # 20 unless said (VerticalCreateSchema)
    # The catalog's prices by a lead's age: verticals.domain.Ageing, stored.
    ageing: Mapped[dict] = mapped_column(JSON, default=lambda: deepcopy(DEFAULT_AGEING))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class VerticalSeller(db.Model):
    """A webmaster's standing on a vertical, and the token of its hosted form link."""

    __tablename__ = "vertical_sellers"
    __table_args__ = (
        UniqueConstraint("vertical_id", "webmaster_id"),
        CheckConstraint("status IN ('active', 'pending', 'declined', 'banned')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    vertical: Mapped[Vertical] = db.relationship()
