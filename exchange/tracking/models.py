from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class Click(db.Model):
    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    click_id: Mapped[str] = mapped_column(String(40), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    webmaster_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"))
    sub1: Mapped[str | None] = mapped_column(String(255))
    sub2: Mapped[str | None] = mapped_column(String(255))
    sub3: Mapped[str | None] = mapped_column(String(255))
    sub4: Mapped[str | None] = mapped_column(String(255))
    sub5: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
