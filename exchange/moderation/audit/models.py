"""The moderators' audit log: every action of every moderator (and of the rules that act
for them), who, what, when, why. Append-only: the database refuses to change or delete a
row (triggers made by migration 0015)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class ModerationAction(db.Model):
    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_kind: Mapped[str] = mapped_column(String(12))  # user, api_key, system
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))  # dispute, lead, user
    subject_id: Mapped[int] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(2000))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
