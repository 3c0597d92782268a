"""A seller's ping: the price the exchange promised for a lead it has not seen whole yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class SellerPing(db.Model):
    __tablename__ = "seller_pings"
    __table_args__ = (CheckConstraint("price_minor > 0", name="price"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the ping id the seller posts with
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    fields: Mapped[dict] = mapped_column(JSON)  # the non-personal fields pinged
    country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)  # the seller earns at least this
    expires_at: Mapped[datetime]
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), unique=True)  # once posted
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
