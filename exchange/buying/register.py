"""The register of sales: what was sold of one consumer on one vertical, and the locks
that make reading it and adding to it one step.

A consumer is known by the hashes of its normalised phone and email. Within the
vertical's window, an exclusive sale ends every further sale of that consumer; shared
sales never pass the vertical's slots, whoever submitted the consumer, however often;
and a buyer never buys the same consumer twice. Readers that decide a sale first take
``lock_consumer`` (one row per key, in key order), so two auctions of one consumer take
turns (docs/exchange.md, "Exclusivity").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from exchange.buying.models import ConsumerLock, Sale
from exchange.extensions import db

LIVE = ("pending", "approved")  # sales that hold their slot


def consumer_hashes(phone_key: str | None, email_key: str | None) -> tuple[str | None, str | None]:
    def digest(kind: str, value: str | None) -> str | None:
        return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest() if value else None

    return digest("phone", phone_key), digest("email", email_key)


@dataclass(frozen=True)
class Sold:
    """What the register holds for one consumer: live sales in the window."""

    slots_taken: int = 0
    exclusive: bool = False
    buyers: frozenset[int] = field(default_factory=frozenset)


def sold_of(vertical_id: int, hashes: tuple[str | None, str | None], since: datetime) -> Sold:
    phone_hash, email_hash = hashes
    keys = [
        column == value
        for column, value in ((Sale.phone_hash, phone_hash), (Sale.email_hash, email_hash))
        if value
    ]
    if not keys:
        return Sold()
    rows = db.session.execute(
        select(Sale.buyer_id, Sale.exclusive).where(
            Sale.vertical_id == vertical_id, Sale.status.in_(LIVE), Sale.created_at >= since, or_(*keys)
        )
    ).all()
    return Sold(len(rows), any(exclusive for _, exclusive in rows), frozenset(buyer for buyer, _ in rows))


def lock_consumer(vertical_id: int, hashes: tuple[str | None, str | None]) -> None:
    """Hold the consumer's register until the transaction ends."""
    keys = sorted(key for key in hashes if key)
    if not keys:
        return
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ConsumerLock)
        .values([{"vertical_id": vertical_id, "key_hash": key} for key in keys])
        .on_conflict_do_nothing()
    )
    db.session.execute(
        select(ConsumerLock.key_hash)
        .where(ConsumerLock.vertical_id == vertical_id, ConsumerLock.key_hash.in_(keys))
        .order_by(ConsumerLock.key_hash)
        .with_for_update()
    ).all()
