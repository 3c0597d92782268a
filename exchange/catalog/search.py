"""Searching the catalog: listed leads of active verticals, filtered, sorted and paged, each
with the price it costs now (docs/exchange.md, "The catalog").

The price is computed in the query, so that "cheapest first" sorts by it: the listing's
floor times the percent of its vertical's age step, as ``verticals.domain.Ageing.price_at``
computes it; a listing past its vertical's last step is not shown, even before the sweep
takes it off.

A seller's page also shows its listings that are not for sale now (``listed=False`` or
``None``), with no step, price or payout; staff's figures count what is for sale now by the
same ``Shelf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, null, or_, select, true

from exchange.auctions.domain import Rules
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.catalog.domain import Listing, purchase_price
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.verticals.domain import HOUR, TEMPERATURES, Ageing, Step
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
    # True: for sale now (what buyers find); False: the others ever listed; None: both, for
    # sale first. Other than True only for a seller's own listings, whatever their vertical.
    listed: bool | None = True
    not_bought_by: int | None = None  # leave out the leads this buyer has a live sale of


def search(wanted: Search, now: datetime) -> dict:
    """A page of the catalog: ``{"items", "page", "per_page", "total"}``."""
    verticals = _verticals(wanted.vertical_id, active_only=wanted.listed is True)
    if not verticals:
        return {"items": [], "page": wanted.page, "per_page": wanted.per_page, "total": 0}
    shelf = Shelf.of(verticals, now)
    where = [
        CatalogListing.vertical_id.in_(verticals),  # plainly, so that the search index can serve it
        *_listed(wanted.listed, shelf),
        *_filters(wanted, now),
    ]
    total = db.session.scalar(select(func.count()).select_from(CatalogListing).where(*where))
    rows = db.session.execute(
        select(
            CatalogListing,
            shelf.shown(shelf.price).label("price_minor"),
            shelf.shown(shelf.percent).label("percent"),
            shelf.shown(shelf.after_hours).label("after_hours"),
        )
        .where(*where)
        .order_by(*_order(wanted, shelf))
        .limit(wanted.per_page)
        .offset((wanted.page - 1) * wanted.per_page)
    ).all()
    findings = _findings([row.CatalogListing.lead_id for row in rows])
    items = [_item(row, verticals, findings, now) for row in rows]
    return {"items": items, "page": wanted.page, "per_page": wanted.per_page, "total": total}


def active_verticals() -> dict[int, Vertical]:
    return _verticals(None, active_only=True)


def _verticals(vertical_id: int | None, *, active_only: bool) -> dict[int, Vertical]:
    query = select(Vertical)
    if active_only:
        query = query.where(Vertical.status == "active")
    if vertical_id is not None:
        query = query.where(Vertical.id == vertical_id)
    return {vertical.id: vertical for vertical in db.session.scalars(query)}


@dataclass(frozen=True)
class Shelf:
    """Each listing's age step now (its percent and first hour), its price now and whether
    it is for sale now, as SQL over ``catalog_listings``: for sale when listed, of an active
    vertical, before its last step and dear enough to leave its seller something."""

    percent: ColumnElement  # NULL past the last step, or of another (or a paused) vertical
    after_hours: ColumnElement
    price: ColumnElement
    sellable: ColumnElement  # the price leaves the seller something

    @property
    def for_sale(self) -> ColumnElement:
        return and_(CatalogListing.listed, self.percent.is_not(None), self.sellable)

    @classmethod
    def of(cls, verticals: dict[int, Vertical], now: datetime) -> Shelf:
        steps = _steps(verticals, now)
        percent = _of_step(steps, "percent")
        price = _rounded(CatalogListing.floor_minor * percent)
        return cls(percent, _of_step(steps, "after_hours"), price, _sellable(verticals, price))

    def shown(self, column: ColumnElement) -> ColumnElement:
        """``column`` for a listing for sale now; NULL for the others."""
        return case((self.for_sale, column), else_=None)


def _steps(verticals: dict[int, Vertical], now: datetime) -> list[tuple[ColumnElement, Step]]:
    """Each active vertical's steps, the oldest first, with the listings each prices now."""
    whens = []
    for vertical in verticals.values():
        if vertical.status != "active":
            continue
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
                    step,
                )
            )
    return whens


def _of_step(steps: list[tuple[ColumnElement, Step]], name: str) -> ColumnElement:
    """The named value of each listing's step; NULL where none prices it."""
    return case(*((when, getattr(step, name)) for when, step in steps), else_=None) if steps else null()


def sold_in_catalog() -> ColumnElement:
    """The listing's lead has a live catalog sale (a sale with no auction)."""
    return exists().where(
        Sale.lead_id == CatalogListing.lead_id, Sale.auction_id.is_(None), Sale.status.in_(LIVE)
    )


def ever_listed() -> ColumnElement:
    """The listing's lead was in the catalog at some time. The sweep makes a row for every
    lead whose auction ended; one it recorded as not listed has ``unlisted_at`` equal to
    its ``listed_at`` (that sweep's time). So a lead was listed if it is listed now, if it
    left the catalog later than its row was made, or if it has a catalog sale."""
    return or_(
        CatalogListing.listed, CatalogListing.unlisted_at != CatalogListing.listed_at, sold_in_catalog()
    )


def _listed(listed: bool | None, shelf: Shelf) -> list[ColumnElement]:
    if listed is None:
        return [ever_listed()]
    if listed:  # its parts plainly, so that the search index can serve the first
        return [CatalogListing.listed, shelf.percent.is_not(None), shelf.sellable]
    return [ever_listed(), ~shelf.for_sale]


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


def _order(wanted: Search, shelf: Shelf) -> list[ColumnElement]:
    first = [case((shelf.for_sale, 0), else_=1)] if wanted.listed is None else []  # for sale first
    newest = [CatalogListing.captured_at.desc(), CatalogListing.lead_id.desc()]
    if wanted.sort == "cheapest":
        return [*first, shelf.price.asc(), *newest]
    if wanted.sort == "hottest":
        heat = case(
            *((CatalogListing.temperature == name, rank) for rank, name in enumerate(TEMPERATURES, 1)),
            else_=0,
        )
        return [*first, heat.desc(), func.coalesce(CatalogListing.score, -1).desc(), *newest]
    return [*first, *newest]


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


def _item(row, verticals: dict[int, Vertical], findings: dict[int, list[dict]], now: datetime) -> dict:
    """One listing as the API shows it; for one not for sale now (a seller's page), no step,
    price or payout (None)."""
    listing: CatalogListing = row.CatalogListing
    vertical = verticals[listing.vertical_id]
    slots = Listing.of(vertical.slots, listing.sold, listing.exclusive_sold)  # the vertical's slots now
    price = None if row.price_minor is None else int(row.price_minor)
    rules = Rules(vertical.slots, 0, vertical.margin_bps, vertical.margin_minor)
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
        "for_sale": price is not None,
        "age_step_percent": row.percent,
        "age_step_after_hours": row.after_hours,
        "slots": slots.slots,
        "slots_sold": slots.sold,
        "currency": vertical.currency,
        "price_minor": price,
        "exclusive_price_minor": purchase_price(price, slots, True)
        if price is not None and slots.exclusive_available
        else None,
        # The seller's, of one slot (its own listings only): what a purchase now would pay it.
        "payout_minor": None if price is None else rules.payout_of(price),
    }
