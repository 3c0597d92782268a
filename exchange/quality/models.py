"""Each seller's and each buyer's record per vertical, as the ``rate-quality`` step last
counted it (exchange/quality/services.py): read by the auctions and the catalog by key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.extensions import db


class SellerQuality(db.Model):
    __tablename__ = "seller_quality"

    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    approved: Mapped[int]
    rejected: Mapped[int]
    returned: Mapped[int]
    multiplier_bps: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    counted_at: Mapped[datetime]


class BuyerStanding(db.Model):
    __tablename__ = "buyer_standing"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    sales: Mapped[int]
    refused: Mapped[int]
    returned: Mapped[int]
    rate_tenths: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    counted_at: Mapped[datetime]
