"""Putting leads in the catalog and taking them off it: the ``sweep-catalog`` step.

Every exchange lead whose auction has ended (sold or unsold) gets one listing row, once:
listed when its consumer has a slot left in the register of sales (no exclusive sale, fewer
live sales than the vertical's slots, whoever submitted it) and its age is before its
vertical's last step; else recorded as not listed, so the sweep never looks at it again.
Its floor is the vertical's for its country and temperature times its seller's quality
multiplier on the vertical then (exchange/quality), kept for the listing's life.
A listed lead leaves the catalog when it ages past the last step, when its personal data is
erased (it could no longer be delivered), or when its consumer is sold out through another
lead (read again by the next sweep; a purchase meanwhile checks the register itself).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from exchange import clock
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.catalog.domain import Listing
from exchange.catalog.models import CatalogListing
from exchange.catalog.stock import Stock
from exchange.db import commit, rows_by_id
from exchange.extensions import db
from exchange.leads.domain import SOLD, UNSOLD
from exchange.leads.models import Consent, Lead
from exchange.money import times_bps
from exchange.quality.services import seller_multipliers
from exchange.verticals.domain import HOUR, Ageing, floor_for, personal_fields_of
from exchange.verticals.models import Vertical

LIST_BATCH = 500
# A listing read from the register counts the sales committed by then; one made a moment
# before and committed after is still "unseen" for this long (listing.seen_until).
SEEN_SLACK = timedelta(minutes=5)
SOLD_ELSEWHERE_LOOKBACK = timedelta(hours=1)  # the sales a sweep looks at (refresh_sold_elsewhere)


def sweep_catalog() -> dict[str, int]:
    now = clock.now()
    counts = {"leads_listed": 0, "leads_not_listed": 0}
    while True:
        listed, not_listed = list_ended_auctions(now)
        commit()
        counts["leads_listed"] += listed
        counts["leads_not_listed"] += not_listed
        if listed + not_listed < LIST_BATCH:
            break
    counts["listings_freed"] = refresh_freed(now)
    commit()
    counts["listings_sold_elsewhere"] = refresh_sold_elsewhere(now)
    commit()
    counts["listings_gone"] = unlist_gone(now)
    commit()
    return counts


def refresh_freed(now: datetime) -> int:
    """Listings counting more of their own sales than their lead has live (one was rejected,
    voided or returned since): their slots read again, and back in the catalog if one is
    free and the lead is still young, not erased and not condemned by a return (a listing
    still in the catalog when a return condemns its lead leaves it). Returns how many came
    back."""
    live = (
        select(func.count())
        .where(Sale.lead_id == CatalogListing.lead_id, Sale.status.in_(LIVE))
        .correlate(CatalogListing)
        .scalar_subquery()
    )
    ended = select(Sale.lead_id).where(Sale.status.not_in(LIVE))
    listings = db.session.scalars(
        select(CatalogListing)
        .where(CatalogListing.lead_id.in_(ended), CatalogListing.own_sold > live)
        .order_by(CatalogListing.lead_id)
        .limit(LIST_BATCH)
        .with_for_update(skip_locked=True)  # a purchase holding one refreshes it itself
    ).all()
    return read_again(listings, now)[0]


def refresh_sold_elsewhere(now: datetime) -> int:
    """Listings in the catalog whose consumer was sold through another lead (another
    seller's submission of it, in an auction or from the catalog) since their slots were
    last read: read again, and off the catalog if that sold it out. Returns how many left.

    Driven by the sales of the last ``SOLD_ELSEWHERE_LOOKBACK`` (by their time index), so a
    sweep costs what was sold, not what is listed; the other leads of a consumer are found
    by the keyed hashes of its contact, as the duplicate checks find them. A sweep that did
    not run for longer leaves such a listing shown until it is bought (refused: a purchase
    reads the register itself) or ages out."""
    mine, other = aliased(Lead), aliased(Lead)
    same_consumer = or_(
        and_(mine.phone_hash.is_not(None), mine.phone_hash == other.phone_hash),
        and_(mine.email_hash.is_not(None), mine.email_hash == other.email_hash),
    )
    touched = (
        select(CatalogListing.lead_id)
        .join(mine, mine.id == CatalogListing.lead_id)
        .join(other, and_(other.vertical_id == mine.vertical_id, other.id != mine.id, same_consumer))
        .join(Sale, Sale.lead_id == other.id)
        .where(
            CatalogListing.listed,
            Sale.status.in_(LIVE),
            Sale.created_at >= now - SOLD_ELSEWHERE_LOOKBACK,
            Sale.created_at >= func.coalesce(CatalogListing.seen_until, CatalogListing.listed_at),
        )
    )
    listings = db.session.scalars(
        select(CatalogListing)
        .where(CatalogListing.lead_id.in_(touched), CatalogListing.listed)
        .order_by(CatalogListing.lead_id)
        .limit(LIST_BATCH)
        .with_for_update(skip_locked=True)  # a purchase holding one reads the register itself
    ).all()
    return read_again(listings, now)[1]


def read_again(listings: list[CatalogListing], now: datetime) -> tuple[int, int]:
    """The listings' slots read again from the register under their row locks: back in the
    catalog when a slot is free and the lead may still be sold, off it when not. Returns
    how many came back, and how many left."""
    if not listings:
        return 0, 0
    leads = rows_by_id(Lead, [listing.lead_id for listing in listings])
    verticals = rows_by_id(Vertical, {listing.vertical_id for listing in listings})
    stock = Stock.read(list(leads.values()), verticals, now)
    back = left = 0
    for listing in listings:
        lead, vertical = leads[listing.lead_id], verticals[listing.vertical_id]
        slots = stock.listing(lead, vertical)
        young = Ageing.from_json(vertical.ageing).step_at(now - listing.captured_at) is not None
        listing.slots, listing.sold, listing.exclusive_sold = slots.slots, slots.sold, slots.exclusive_sold
        listing.own_sold, listing.seen_until = stock.own_count(lead.id), now - SEEN_SLACK
        relist = (
            slots.listed
            and young
            and lead.erased_at is None
            and listing.floor_minor is not None
            and lead.id not in stock.condemned
        )
        if relist and not listing.listed:
            listing.listed, listing.unlisted_at = True, None
            back += 1
        elif not relist and listing.listed:
            listing.listed, listing.unlisted_at = False, now
            left += 1
    return back, left


def list_ended_auctions(now: datetime) -> tuple[int, int]:
    """A batch of leads whose auction ended and that have no listing row yet: a row each.
    Returns how many were listed, and how many were recorded as not listed."""
    leads = db.session.scalars(
        select(Lead)
        .outerjoin(CatalogListing, CatalogListing.lead_id == Lead.id)
        .where(
            Lead.status.in_((SOLD, UNSOLD)),
            Lead.vertical_id.is_not(None),
            Lead.erased_at.is_(None),
            CatalogListing.lead_id.is_(None),
        )
        .order_by(Lead.id)
        .limit(LIST_BATCH)
    ).all()
    if not leads:
        return 0, 0
    lead_ids = [lead.id for lead in leads]
    verticals = rows_by_id(Vertical, {lead.vertical_id for lead in leads})
    with_consent = set(db.session.scalars(select(Consent.lead_id).where(Consent.lead_id.in_(lead_ids))))
    stock = Stock.read(leads, verticals, now)
    quality = seller_multipliers({(lead.webmaster_id, lead.vertical_id) for lead in leads})
    rows = []
    for lead in leads:
        vertical = verticals[lead.vertical_id]
        slots = stock.listing(lead, vertical)
        young = Ageing.from_json(vertical.ageing).step_at(now - lead.created_at) is not None
        floor = floor_for(vertical.floors, lead.country, lead.temperature)
        if floor is not None:  # the seller's multiplier on the vertical when it is listed
            floor = times_bps(floor, quality[lead.webmaster_id, lead.vertical_id])
        listed = slots.listed and young and floor is not None and lead.id not in stock.condemned
        row = _row(lead, vertical, slots, floor, consent=lead.id in with_consent, now=now)
        row["own_sold"] = stock.own_count(lead.id)
        rows.append(row | {"listed": listed, "unlisted_at": None if listed else now})
    db.session.execute(CatalogListing.__table__.insert(), rows)
    listed_count = sum(row["listed"] for row in rows)
    return listed_count, len(rows) - listed_count


def unlist_gone(now: datetime) -> int:
    """Listings past their vertical's last age step, or whose lead was erased: off the catalog."""
    gone = 0
    for vertical_id, ageing in db.session.execute(select(Vertical.id, Vertical.ageing)).all():
        oldest = now - Ageing.from_json(ageing).gone_after_hours * HOUR
        gone += _unlist(
            CatalogListing.vertical_id == vertical_id, CatalogListing.captured_at <= oldest, now=now
        )
    erased = select(Lead.id).where(Lead.erased_at.is_not(None))
    return gone + _unlist(CatalogListing.lead_id.in_(erased), now=now)


def _unlist(*where, now: datetime) -> int:
    """Off the catalog, locked first in lead id order like a purchase locks them, passing by
    those a purchase holds (the next sweep takes them): a basket and the sweep never wait
    for each other in a circle."""
    lead_ids = db.session.scalars(
        select(CatalogListing.lead_id)
        .where(CatalogListing.listed, *where)
        .order_by(CatalogListing.lead_id)
        .with_for_update(skip_locked=True)
    ).all()
    if not lead_ids:
        return 0
    db.session.execute(
        update(CatalogListing)
        .where(CatalogListing.lead_id.in_(lead_ids))
        .values(listed=False, unlisted_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(lead_ids)


def _row(
    lead: Lead, vertical: Vertical, slots: Listing, floor: int | None, *, consent: bool, now: datetime
) -> dict:
    """The listing's row, but for ``listed`` and ``unlisted_at``. Region and postcode only
    when the vertical does not call them personal."""
    personal = personal_fields_of(vertical.fields, vertical.personal_fields)
    fields = {name: value for name, value in (lead.fields or {}).items() if name not in personal}
    return {
        "lead_id": lead.id,
        "vertical_id": lead.vertical_id,
        "seller_id": lead.webmaster_id,
        "country": lead.country,
        "region": _text(fields.get("region"), 100),
        "postcode": _text(fields.get("postcode"), 20),
        "floor_minor": floor,
        "temperature": lead.temperature,
        "score": lead.score,
        "consent": consent,
        "captured_at": lead.created_at,
        "slots": slots.slots,
        "sold": slots.sold,
        "exclusive_sold": slots.exclusive_sold,
        "listed_at": now,
        "seen_until": now - SEEN_SLACK,
    }


def _text(value: object, length: int) -> str | None:
    if value is None:
        return None
    return str(value).strip()[:length] or None
