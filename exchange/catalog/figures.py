"""Staff's figures of the catalog (/admin/catalog): its size, its sell-through and its
revenue, by vertical and by the age step each sale was made at (docs/exchange.md, "The
catalog").

A catalog sale is a sale with no auction (``catalog.purchases`` makes them). Only live ones
count (pending or approved, ``buying.register.LIVE``): a sale rejected, voided or returned
earns nothing and holds no slot. Sales do not store their age step, so each one's is
derived from its age when made on its vertical's schedule (``domain.step_at_sale``), one
sale at a time: the figures read every live catalog sale, which is what a staff page
asking for all time costs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.catalog.domain import Takings, share_bps, step_at_sale
from exchange.catalog.models import CatalogListing
from exchange.catalog.search import Shelf, active_verticals, ever_listed, sold_in_catalog
from exchange.extensions import db
from exchange.verticals.domain import Ageing, Step
from exchange.verticals.models import Vertical

READ_BATCH = 1000


@dataclass(frozen=True)
class VerticalFigures:
    vertical: Vertical
    for_sale: int  # listings for sale now: what buyers' searches find
    ever_listed: int
    sold: int  # of those ever listed, the ones with a live catalog sale
    takings: Takings

    @property
    def sell_through_bps(self) -> int | None:
        return share_bps(self.sold, self.ever_listed)


@dataclass(frozen=True)
class StepFigures:
    vertical: Vertical
    step: Step | None  # None: the sale's age is off the vertical's schedule today
    takings: Takings


@dataclass(frozen=True)
class CatalogFigures:
    verticals: list[VerticalFigures]
    steps: list[StepFigures]  # by vertical, then step (None last)

    def totals(self) -> dict[str, Takings]:
        """Every vertical's takings added up, by currency."""
        added: dict[str, Takings] = defaultdict(Takings)
        for row in self.verticals:
            added[row.vertical.currency] += row.takings
        return dict(sorted(added.items()))


def catalog_figures(now: datetime) -> CatalogFigures:
    verticals = {v.id: v for v in db.session.scalars(select(Vertical).order_by(Vertical.id))}
    for_sale = for_sale_now(now)
    listed, sold = ever_listed_and_sold()
    by_step = takings_by_step({v.id: Ageing.from_json(v.ageing) for v in verticals.values()})
    steps = [
        StepFigures(verticals[vertical_id], step, takings)
        for (vertical_id, step), takings in sorted(by_step.items(), key=lambda kv: _step_order(*kv[0]))
    ]
    by_vertical: dict[int, Takings] = defaultdict(Takings)
    for row in steps:
        by_vertical[row.vertical.id] += row.takings
    rows = [
        VerticalFigures(
            vertical,
            for_sale.get(vertical.id, 0),
            listed.get(vertical.id, 0),
            sold.get(vertical.id, 0),
            by_vertical[vertical.id],
        )
        for vertical in verticals.values()
    ]
    return CatalogFigures(rows, steps)


def for_sale_now(now: datetime) -> dict[int, int]:
    """Listings for sale now by vertical, as the search finds them (``search.Shelf``)."""
    verticals = active_verticals()
    if not verticals:
        return {}
    shelf = Shelf.of(verticals, now)
    return dict(
        db.session.execute(
            select(CatalogListing.vertical_id, func.count())
            .where(CatalogListing.vertical_id.in_(verticals), shelf.for_sale)
            .group_by(CatalogListing.vertical_id)
        ).all()
    )


def ever_listed_and_sold() -> tuple[dict[int, int], dict[int, int]]:
    """By vertical: the leads ever listed (``search.ever_listed``), and those of them with a
    live catalog sale."""
    sold = sold_in_catalog()
    rows = db.session.execute(
        select(CatalogListing.vertical_id, func.count(), func.sum(case((sold, 1), else_=0)))
        .where(ever_listed())
        .group_by(CatalogListing.vertical_id)
    ).all()
    return {row[0]: row[1] for row in rows}, {row[0]: int(row[2]) for row in rows}


def takings_by_step(ageings: dict[int, Ageing]) -> dict[tuple[int, Step | None], Takings]:
    """Live catalog sales added up by vertical and by the age step each was made at."""
    sold = (Sale.vertical_id, Sale.price_minor, Sale.payout_minor, Sale.created_at)
    rows = db.session.execute(
        select(*sold, CatalogListing.captured_at)
        .join(CatalogListing, CatalogListing.lead_id == Sale.lead_id)
        .where(Sale.auction_id.is_(None), Sale.status.in_(LIVE))
        .execution_options(yield_per=READ_BATCH)
    )
    added: dict[tuple[int, Step | None], Takings] = defaultdict(Takings)
    for vertical_id, price, payout, sold_at, captured_at in rows:
        key = (vertical_id, step_at_sale(ageings[vertical_id], captured_at, sold_at))
        added[key] = added[key].with_sale(price, payout)
    return dict(added)


def _step_order(vertical_id: int, step: Step | None) -> tuple:
    return (vertical_id, step is None, step.after_hours if step else 0)
