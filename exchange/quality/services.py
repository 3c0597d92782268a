"""Counting each seller's and buyer's record per vertical from the sales of the last
``WINDOW_DAYS`` (the ``rate-quality`` step of the sweep, at most every
``QUALITY_EVERY_SECONDS``), and reading them where money is decided: one row per seller and
per buyer, by key. A party with no row has no record yet: 100 %, and no tie rank."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, func, select

from exchange.buying.models import Sale
from exchange.extensions import db
from exchange.money import BPS_WHOLE
from exchange.quality.domain import WINDOW_DAYS
from exchange.quality.models import BuyerStanding, SellerQuality
from exchange.verticals.models import Vertical


def rate_quality(now: datetime) -> dict[str, int]:
    """Count every record again (the tables are one row per party and vertical), unless they
    were counted less than ``QUALITY_EVERY_SECONDS`` ago. The caller commits."""
    last = db.session.scalar(select(func.max(SellerQuality.counted_at)))
    last_buyer = db.session.scalar(select(func.max(BuyerStanding.counted_at)))
    latest = max((when for when in (last, last_buyer) if when is not None), default=None)
    if latest is not None and now - latest < timedelta(seconds=current_app.config["QUALITY_EVERY_SECONDS"]):
        return {"sellers_rated": 0, "buyers_rated": 0}
    since = now - timedelta(days=WINDOW_DAYS)
    sellers = _seller_rows(since, now)
    buyers = _buyer_rows(since, now)
    db.session.execute(delete(SellerQuality))
    db.session.execute(delete(BuyerStanding))
    if sellers:
        db.session.execute(SellerQuality.__table__.insert(), sellers)
    if buyers:
        db.session.execute(BuyerStanding.__table__.insert(), buyers)
    return {"sellers_rated": len(sellers), "buyers_rated": len(buyers)}


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _seller_rows(since: datetime, now: datetime) -> list[dict]:
    rows = db.session.execute(
        select(
            Sale.seller_id,
            Sale.vertical_id,
            _count(Sale.status == "approved"),
            _count(Sale.status == "rejected"),
            _count(Sale.status == "returned"),
        )
        .where(Sale.created_at >= since, Sale.status.in_(("approved", "rejected", "returned")))
        .group_by(Sale.seller_id, Sale.vertical_id)
    ).all()
    names = ("seller_id", "vertical_id", "approved", "rejected", "returned")
    return [dict(zip(names, (n or 0 for n in row), strict=True)) | {"counted_at": now} for row in rows]


def _buyer_rows(since: datetime, now: datetime) -> list[dict]:
    rows = db.session.execute(
        select(
            Sale.buyer_id,
            Sale.vertical_id,
            func.count(),
            _count(Sale.post_status == "refused"),
            _count(Sale.status == "returned"),
        )
        .where(Sale.created_at >= since, Sale.status != "voided")
        .group_by(Sale.buyer_id, Sale.vertical_id)
    ).all()
    names = ("buyer_id", "vertical_id", "sales", "refused", "returned")
    return [dict(zip(names, (n or 0 for n in row), strict=True)) | {"counted_at": now} for row in rows]


def seller_multipliers(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The multiplier (bps) of each (seller, vertical) asked; 100 % for one with no record.
    One query for all of them."""
    if not pairs:
        return {}
    rows = db.session.scalars(
        select(SellerQuality).where(SellerQuality.seller_id.in_({seller for seller, _ in pairs}))
    )
    found = {(row.seller_id, row.vertical_id): row.multiplier_bps for row in rows}
    return {pair: found.get(pair, BPS_WHOLE) for pair in pairs}


def buyer_ranks(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Each (buyer, vertical)'s share refused or returned, tenths of a percent; 0 for a
    buyer with no record there. One query for all of them."""
    if not pairs:
        return {}
    rows = db.session.scalars(
        select(BuyerStanding).where(BuyerStanding.buyer_id.in_({buyer for buyer, _ in pairs}))
    )
    found = {(row.buyer_id, row.vertical_id): row.rate_tenths for row in rows}
    return {pair: found.get(pair, 0) for pair in pairs}


def quality_of(user_id: int, role: str) -> list[SellerQuality] | list[BuyerStanding]:
    """A party's own records, by vertical: a seller's multipliers, a buyer's tie ranks."""
    if role == "webmaster":
        query = select(SellerQuality).where(SellerQuality.seller_id == user_id)
        return list(db.session.scalars(query.order_by(SellerQuality.vertical_id)))
    query = select(BuyerStanding).where(BuyerStanding.buyer_id == user_id)
    return list(db.session.scalars(query.order_by(BuyerStanding.vertical_id)))


def named_quality(user_id: int, role: str) -> list[tuple[str, SellerQuality | BuyerStanding]]:
    """The party's own records (``quality_of``), each with its vertical's name, for its pages."""
    rows = quality_of(user_id, role)
    names = (
        dict(
            db.session.execute(
                select(Vertical.id, Vertical.name).where(Vertical.id.in_([r.vertical_id for r in rows]))
            ).all()
        )
        if rows
        else {}
    )
    return [(names[row.vertical_id], row) for row in rows]
