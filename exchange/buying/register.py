"""The register of sales: what was sold of one consumer on one vertical, and the locks
that make reading it and adding to it one step.

A consumer is known by the hashes of its normalised phone and email. Within the
vertical's window, an exclusive sale ends every further sale of that consumer; shared
sales never pass the vertical's slots, whoever submitted the consumer, however often;
and a buyer never buys the same consumer twice. Readers that decide a sale first take
``lock_consumers`` (one row per key, in key order), so two auctions of one consumer take
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


@dataclass(frozen=True)
class Entry:
    """A live sale as the register keeps it."""

    vertical_id: int
    phone_hash: str | None
    email_hash: str | None
    buyer_id: int
    exclusive: bool
    created_at: datetime

    def of(self, vertical_id: int, hashes: tuple[str | None, str | None], since: datetime) -> bool:
        phone_hash, email_hash = hashes
        return (
            self.vertical_id == vertical_id
            and self.created_at >= since
            and (
                (phone_hash is not None and self.phone_hash == phone_hash)
                or (email_hash is not None and self.email_hash == email_hash)
            )
        )


Consumer = tuple[int, tuple[str | None, str | None]]  # vertical id, hashes


class Register:
    """What the register holds of some consumers, read in one query; sales made since are
    ``add``-ed, so that several auctions decided in one transaction see each other's."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    @classmethod
    def read(cls, consumers: list[Consumer], since: datetime) -> Register:
        phones = {hashes[0] for _, hashes in consumers if hashes[0]}
        emails = {hashes[1] for _, hashes in consumers if hashes[1]}
        if not phones and not emails:
            return cls([])
        keys = [
            column.in_(values)
            for column, values in ((Sale.phone_hash, phones), (Sale.email_hash, emails))
            if values
        ]
        rows = db.session.execute(
            select(
                Sale.vertical_id,
                Sale.phone_hash,
                Sale.email_hash,
                Sale.buyer_id,
                Sale.exclusive,
                Sale.created_at,
            ).where(
                Sale.vertical_id.in_({vertical_id for vertical_id, _ in consumers}),
                Sale.status.in_(LIVE),
                Sale.created_at >= since,
                or_(*keys),
            )
        ).all()
        return cls([Entry(*row) for row in rows])

    def sold(self, vertical_id: int, hashes: tuple[str | None, str | None], since: datetime) -> Sold:
        rows = [entry for entry in self.entries if entry.of(vertical_id, hashes, since)]
        return Sold(len(rows), any(row.exclusive for row in rows), frozenset(row.buyer_id for row in rows))

    def add(self, sale: Sale, now: datetime) -> None:
        """A sale made since the register was read (``now``: when, if it is not written yet)."""
        self.entries.append(
            Entry(
                sale.vertical_id,
                sale.phone_hash,
                sale.email_hash,
                sale.buyer_id,
                sale.exclusive,
                sale.created_at or now,
            )
        )


def lock_consumers(consumers: list[Consumer]) -> None:
    """Hold the consumers' register until the transaction ends: one row per (vertical, key),
    inserted or, where it exists, locked (by a no-op update of its key), in that order, in
    one statement; so two transactions locking some of the same consumers take turns, never
    wait for each other."""
    keys = sorted({(vertical_id, key) for vertical_id, hashes in consumers for key in hashes if key})
    if not keys:
        return
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"vertical_id": vertical_id, "key_hash": key} for vertical_id, key in keys]
    statement = insert(ConsumerLock).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConsumerLock.vertical_id, ConsumerLock.key_hash],
            set_={"key_hash": statement.excluded.key_hash},
        )
    )
