"""The rollup tables and the change markers that keep them up to date.

``report_changes`` holds one row per (hour, offer) whose clicks or leads changed,
written in the transaction of the change; the fold (rollup.py) deletes them and
recomputes those buckets. ``report_hourly`` and ``report_daily`` hold the figures
by (bucket, offer, webmaster, sub1, country); an empty sub1 or country is ''.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.extensions import db
from exchange.reports.domain import LEAD_STATUSES  # noqa: F401  (the fold reads it here)

# SQLite numbers only an INTEGER PRIMARY KEY by itself.
MarkerId = BigInteger().with_variant(Integer(), "sqlite")


class ReportChange(db.Model):
    """An (hour, offer) whose figures must be computed again (append-only until folded)."""

    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(MarkerId, primary_key=True)
    bucket_hour: Mapped[datetime] = mapped_column(DateTime)
    offer_id: Mapped[int] = mapped_column(Integer)


KEY = ("bucket", "offer_id", "webmaster_id", "sub1", "country")


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class Figures:
    """The key and the figures both grains share (a row's bucket is its hour or its day)."""

    id: Mapped[int] = mapped_column(MarkerId, primary_key=True)
    offer_id: Mapped[int] = mapped_column(Integer)
    webmaster_id: Mapped[int] = mapped_column(Integer)
    sub1: Mapped[str] = mapped_column(String(255))
    country: Mapped[str] = mapped_column(String(2))
    advertiser_id: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    clicks: Mapped[int] = _count()
    unique_clicks: Mapped[int] = _count()
    leads: Mapped[int] = _count()
    leads_received: Mapped[int] = _count()
    leads_review: Mapped[int] = _count()
    leads_awaiting_funds: Mapped[int] = _count()
    leads_pending: Mapped[int] = _count()
    leads_approved: Mapped[int] = _count()
    leads_rejected: Mapped[int] = _count()
    leads_returned: Mapped[int] = _count()
    revenue_minor: Mapped[int] = _count()
    payout_minor: Mapped[int] = _count()


def _table_args(name: str) -> tuple:
    return (
        UniqueConstraint(*KEY),
        Index(f"ix_{name}_advertiser_id_bucket", "advertiser_id", "bucket"),
        Index(f"ix_{name}_webmaster_id_bucket", "webmaster_id", "bucket"),
        Index(f"ix_{name}_offer_id_bucket", "offer_id", "bucket"),
    )


class ReportHourly(Figures, db.Model):
    __tablename__ = "report_hourly"
    __table_args__ = _table_args("report_hourly")

    bucket: Mapped[datetime] = mapped_column(DateTime)


class ReportDaily(Figures, db.Model):
    __tablename__ = "report_daily"
    __table_args__ = _table_args("report_daily")

    bucket: Mapped[date] = mapped_column(Date)
