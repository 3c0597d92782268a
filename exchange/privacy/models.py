"""The record of erasures: who asked (or the retention sweep), when, by what kind of contact
(its hash, never the value), and how many rows of each table were erased. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db
from exchange.privacy.domain import CAUSES, CONTACT_KINDS
from exchange.sql_text import sql_in as _in


class Erasure(db.Model):
    __tablename__ = "erasures"
    __table_args__ = (
        CheckConstraint(f"cause IN ({_in(CAUSES)})", name="cause"),
        CheckConstraint(
            f"subject_kind IS NULL OR subject_kind IN ({_in(CONTACT_KINDS)})", name="subject_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cause: Mapped[str] = mapped_column(String(12))  # a request, or the retention sweep
    subject_kind: Mapped[str | None] = mapped_column(String(8))  # email or phone (a request's)
    # The keyed hash of the normalised contact asked about: "was X erased?" can be answered
    # by hashing X, and the record itself holds nothing to erase.
    subject_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_kind: Mapped[str] = mapped_column(String(12))  # user, api_key, system
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(80), default="")
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # {table: rows erased}
    rows_erased: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
