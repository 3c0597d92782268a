"""Searching the catalog: listed leads of active verticals, filtered, sorted and paged, each
with the price it costs now (docs/exchange.md, "The catalog").

The price is computed in the query, so that "cheapest first" sorts by it: the listing's
floor times the percent of its vertical's age step, as ``verticals.domain.Ageing.price_at``
computes it; a listing past its vertical's last step is not shown, even before the sweep
takes it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select, true

from exchange.auctions.domain import Rules
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.catalog.domain import Listing, purchase_price
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.verticals.domain import HOUR, TEMPERATURES, Ageing
from exchange.verticals.models import Vertical

SORTS = ("newest", "cheapest", "hottest")


@dataclass(frozen=True)
class Search:
    vertical_id: int | None = None
    country: str | None = None
    region: str | None = None
    postcode_prefix: str | None = None
    temperature: str | None = None
    min_score: int | None = None
    max_age_hours: int | None = None
    exclusive_only: bool = False
    sort: str = "newest"
    page: int = 1
    per_page: int = 50
    seller_id: int | None = None  # a seller's own listings
    not_bought_by: int | None = None  # leave out the leads this buyer has a live sale of


def search(wanted: Search, now: datetime) -> dict:
    """A page of the catalog: ``{"items", "page", "per_page", "total"}``."""
    verticals = _verticals(wanted.vertical_id)
    if not verticals:
        return {"items": [], "page": wanted.page, "per_page": wanted.per_page, "total": 0}
    percent = _percent(verticals, now)
    price = _rounded(CatalogListing.floor_minor * percent)
    where = [
        CatalogListing.vertical_id.in_(verticals),  # plainly, so that the search index can serve it
        CatalogListing.listed,
        percent.is_not(None),
        _sellable(verticals, price),
        *_filters(wanted, now),
    ]
    total = db.session.scalar(select(func.count()).select_from(CatalogListing).where(*where))
    rows = db.session.execute(
        select(CatalogListing, price.label("price_minor"), percent.label("percent"))
        .where(*where)
        .order_by(*_order(wanted.sort, price))
        .limit(wanted.per_page)
        .offset((wanted.page - 1) * wanted.per_page)
    ).all()
    findings = _findings([row.CatalogListing.lead_id for row in rows])
    items = [
        _item(row.CatalogListing, row.price_minor, row.percent, verticals, findings, now) for row in rows
    ]
    return {"items": items, "page": wanted.page, "per_page": wanted.per_page, "total": total}


def _verticals(vertical_id: int | None) -> dict[int, Vertical]:
    query = select(Vertical).where(Vertical.status == "active")
    if vertical_id is not None:
        query = query.where(Vertical.id == vertical_id)
    return {vertical.id: vertical for vertical in db.session.scalars(query)}


def _percent(verticals: dict[int, Vertical], now: datetime) -> ColumnElement:
    """The percent of each listing's age step; NULL past the last step (or another vertical)."""
    whens = []
    for vertical in verticals.values():
        ageing = Ageing.from_json(vertical.ageing)
        gone = now - ageing.gone_after_hours * HOUR
        for step in sorted(ageing.steps, key=lambda step: -step.after_hours):  # the oldest step first
            reached = now - step.after_hours * HOUR
            whens.append(
                (
                    and_(
                        CatalogListing.vertical_id == vertical.id,
                        CatalogListing.captured_at <= reached,
                        CatalogListing.captured_at > gone,
                    ),
                    step.percent,
                )
            )
    return case(*whens, else_=None)


def _sellable(verticals: dict[int, Vertical], price: ColumnElement) -> ColumnElement:
    """The price leaves the seller something after a fixed margin (a share always does)."""
    fixed = [
        (CatalogListing.vertical_id == v.id, v.margin_minor) for v in verticals.values() if v.margin_minor
    ]
    return price > case(*fixed, else_=0) if fixed else true()


def _rounded(hundredths: ColumnElement) -> ColumnElement:
    """Half up to a minor unit, at least one (as ``Ageing.price_at``)."""
    minor = (hundredths + 50) // 100
    return case((minor < 1, 1), else_=minor)


def _filters(wanted: Search, now: datetime) -> list[ColumnElement]:
    where = []
    if wanted.seller_id is not None:
        where.append(CatalogListing.seller_id == wanted.seller_id)
    if wanted.not_bought_by is not None:
        mine = select(Sale.lead_id).where(Sale.buyer_id == wanted.not_bought_by, Sale.status.in_(LIVE))
        where.append(CatalogListing.lead_id.not_in(mine))
    if wanted.country:
        where.append(CatalogListing.country == wanted.country)
    if wanted.region:
        where.append(func.lower(CatalogListing.region) == wanted.region.lower())
    if wanted.postcode_prefix:
        where.append(CatalogListing.postcode.startswith(wanted.postcode_prefix, autoescape=True))
    if wanted.temperature:
        where.append(CatalogListing.temperature == wanted.temperature)
    if wanted.min_score is not None:
        where.append(CatalogListing.score >= wanted.min_score)
    if wanted.max_age_hours is not None:
        where.append(CatalogListing.captured_at >= now - wanted.max_age_hours * HOUR)
    if wanted.exclusive_only:  # no slot sold (an exclusive sale sells them all)
        where.append(CatalogListing.sold == 0)
    return where


def _order(sort: str, price: ColumnElement) -> list[ColumnElement]:
    newest = [CatalogListing.captured_at.desc(), CatalogListing.lead_id.desc()]
    if sort == "cheapest":
        return [price.asc(), *newest]
    if sort == "hottest":
        heat = case(
            *((CatalogListing.temperature == name, rank) for rank, name in enumerate(TEMPERATURES, 1)),
            else_=0,
        )
        return [heat.desc(), func.coalesce(CatalogListing.score, -1).desc(), *newest]
    return newest


def _findings(lead_ids: list[int]) -> dict[int, list[dict]]:
    """Each lead's score breakdown: the findings' codes and points, nothing they quote."""
    if not lead_ids:
        return {}
    rows = db.session.execute(select(Lead.id, Lead.findings).where(Lead.id.in_(lead_ids))).all()
    return {
        lead_id: [
            {"code": f.get("code"), "points": f.get("points", 0)} for f in findings or [] if f.get("code")
        ]
        for lead_id, findings in rows
    }


def _item(
    listing: CatalogListing,
    price_minor: int,
    percent: int,
    verticals: dict[int, Vertical],
    findings: dict[int, list[dict]],
    now: datetime,
) -> dict:
    vertical = verticals[listing.vertical_id]
    slots = Listing.of(vertical.slots, listing.sold, listing.exclusive_sold)  # the vertical's slots now
    payout = Rules(vertical.slots, 0, vertical.margin_bps, vertical.margin_minor).payout_of(int(price_minor))
    return {
        "lead_id": listing.lead_id,
        "vertical_id": listing.vertical_id,
        "vertical": vertical.name,
        "country": listing.country,
        "region": listing.region,
        "temperature": listing.temperature,
        "score": listing.score,
        "findings": findings.get(listing.lead_id, []),
        "consent": listing.consent,
        "captured_at": listing.captured_at,
        "age_seconds": int((now - listing.captured_at).total_seconds()),
        "age_step_percent": percent,
        "slots": slots.slots,
        "slots_sold": slots.sold,
        "currency": vertical.currency,
        "price_minor": int(price_minor),
        "exclusive_price_minor": purchase_price(int(price_minor), slots, True)
        if slots.exclusive_available
        else None,
        "payout_minor": payout,  # the seller's, of one slot (its own listings only)
    }
