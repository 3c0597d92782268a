"""Each seller's and each buyer's record per vertical, as the ``rate-quality`` step last
counted it (exchange/quality/services.py): the counts only. What they mean (a multiplier,
a rank, the reason in words) is the pure domain's, computed from them when read, so it
never goes stale in a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from exchange.extensions import db
from exchange.quality.domain import BuyerRecord, SellerRecord


class SellerQuality(db.Model):
    __tablename__ = "seller_quality"

    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    approved: Mapped[int]
    rejected: Mapped[int]
    returned: Mapped[int]
    counted_at: Mapped[datetime]

    @property
    def record(self) -> SellerRecord:
        return SellerRecord(self.approved, self.rejected, self.returned)

    @property
    def multiplier_bps(self) -> int:
        return self.record.multiplier_bps

    @property
    def reason(self) -> str:
        return self.record.reason


class BuyerStanding(db.Model):
    __tablename__ = "buyer_standing"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    sales: Mapped[int]
    refused: Mapped[int]
    returned: Mapped[int]
    counted_at: Mapped[datetime]

    @property
    def record(self) -> BuyerRecord:
        return BuyerRecord(self.sales, self.refused, self.returned)

    @property
    def rate_tenths(self) -> int:
        return self.record.rate_tenths

    @property
    def reason(self) -> str:
        return self.record.reason
