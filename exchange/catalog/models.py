"""The catalog's listings: one row per lead that was ever listed, kept in step with its sales."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.extensions import db


class CatalogListing(db.Model):
    """What a buyer browses, never a personal field: the lead's facts copied at listing
    (so that a catalog page reads one table, by one index), and its slots. ``listed`` is
    true while a slot is left and the lead is younger than its vertical's last age step."""

    __tablename__ = "catalog_listings"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND sold <= slots", name="slots"),
        CheckConstraint("NOT exclusive_sold OR sold = slots", name="exclusive"),
        CheckConstraint("NOT listed OR (sold < slots AND floor_minor > 0)", name="listed"),
        # A catalog page: one vertical's listed leads, by country and temperature, newest first.
        Index(
            "ix_catalog_listings_search",
            "vertical_id",
            "country",
            "temperature",
            "captured_at",
            postgresql_where=text("listed"),
            sqlite_where=text("listed"),
        ),
        Index("ix_catalog_listings_seller", "seller_id", "captured_at"),
    )

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))  # unless the vertical calls it personal
    postcode: Mapped[str | None] = mapped_column(String(20))  # idem
    temperature: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[int | None]
    consent: Mapped[bool]  # a consent record (text, time, page) came with the lead
    # The vertical's floor for the lead's country and temperature when it was listed: what
    # its price ages from. None: no floor, never listed.
    floor_minor: Mapped[int | None] = mapped_column(BigInteger)
    captured_at: Mapped[datetime]  # the lead's creation: its age counts from here
    slots: Mapped[int]  # the vertical's, when listed
    sold: Mapped[int] = mapped_column(default=0)  # slots taken: its own live sales or its consumer's
    own_sold: Mapped[int] = mapped_column(default=0)  # its own live sales, when last read
    exclusive_sold: Mapped[bool] = mapped_column(default=False)
    listed: Mapped[bool] = mapped_column(default=True)
    listed_at: Mapped[datetime] = mapped_column(default=clock.now)
    unlisted_at: Mapped[datetime | None]
    # Sales of its consumer made before this were counted in its slots when they were last
    # read from the register (that read's time less SEEN_SLACK: a sale being committed then
    # is read again); one through another lead since makes the sweep read them again.
    seen_until: Mapped[datetime | None]


class CatalogOrder(db.Model):
    """One buyer's purchase as placed: its leads (each with shared or exclusive, and the
    price it was shown), every one or none (``first`` None) or the first ``first`` that can
    be bought. Placed (committed) before it is filled, and filled in turns with the orders
    placed beside it (``catalog.purchases``): ``filled`` with its sales, ``refused`` with
    the refusal its buyer is answered, or ``withdrawn`` by a buyer that stopped waiting."""

    __tablename__ = "catalog_orders"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'filled', 'refused', 'withdrawn')", name="status"),
        # The till's next orders: the waiting ones, oldest first.
        Index(
            "ix_catalog_orders_waiting",
            "id",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purchases: Mapped[list] = mapped_column(JSON)  # [{lead_id, exclusive, expected_price_minor}]
    first: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    sale_ids: Mapped[list | None] = mapped_column(JSON)  # filled: its sales, in its order
    refusal: Mapped[dict | None] = mapped_column(JSON)  # refused: {status, code, message, fields}
    placed_at: Mapped[datetime] = mapped_column(default=clock.now)
    done_at: Mapped[datetime | None]
