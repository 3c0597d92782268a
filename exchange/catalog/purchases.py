"""Buying a lead from the catalog: one slot, or every slot (exclusive), at its price now.

One transaction, under locks taken in the exchange's order (``auctions.market``: the lead,
then its listing, the consumer's register rows, then every ledger account the sale touches),
so that two buyers pressing buy on the last slot make one sale, and a purchase racing a live
auction of the same consumer never oversells: the register is read under the consumer's
lock, whatever the listing last said. The buyer pays the price it was shown, or gets a 409
with the new one; the money is reserved as an auction's sale's is, and the sale then lives
as every sale does (review window, approval, hold; docs/exchange.md "Money").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from billing.services import lock_for_sales, reserve_lead_prices
from exchange import clock
from exchange.auctions.domain import Rules
from exchange.buying.decisions import price_of
from exchange.buying.models import Sale
from exchange.buying.register import Register, consumer_hashes, lock_consumers
from exchange.catalog.domain import Listing, SoldOut, purchase_price
from exchange.catalog.models import CatalogListing
from exchange.delivery.leads.settings import setting_of
from exchange.errors import Conflict, NotFound
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.models import Lead
from exchange.leads.validation import lock_lead
from exchange.verticals.domain import Ageing
from exchange.verticals.models import Vertical

POST_JOB = "exchange.catalog.jobs.post_catalog_sale_job"


@dataclass(frozen=True)
class Purchase:
    lead_id: int
    exclusive: bool = False
    expected_price_minor: int | None = None  # the price the buyer was shown, if it says


def buy(buyer_id: int, wanted: Purchase) -> Sale:
    """The sale, reserved; 404 for a lead not in the catalog, 409 (with a code) when it
    cannot be bought now: sold out, gone, already yours, a new price, not enough money."""
    now = clock.now()
    lead = lock_lead(wanted.lead_id)
    listing = _lock_listing(wanted.lead_id)
    if lead is None or listing is None or lead.vertical_id is None:
        raise NotFound("No such lead in the catalog.")
    vertical = db.session.get(Vertical, lead.vertical_id)
    if lead.erased_at is not None or vertical.status != "active":
        raise Conflict("This lead is no longer for sale.", code="gone")
    slot_price = Ageing.from_json(vertical.ageing).price_at(
        listing.floor_minor or 0, now - listing.captured_at
    )
    if slot_price is None or listing.floor_minor is None:
        raise Conflict("This lead is too old for the catalog now.", code="gone")
    hashes = consumer_hashes(lead.phone_key, lead.email_key)
    lock_consumers([(vertical.id, hashes)])
    accounts = lock_for_sales({(buyer_id, vertical.currency)}, {(lead.webmaster_id, vertical.currency)})
    since = now - timedelta(seconds=vertical.duplicate_window_seconds)
    sold = Register.read([(vertical.id, hashes)], since).sold(vertical.id, hashes, since)
    slots = Listing.of(vertical.slots, sold.slots_taken, sold.exclusive)
    if buyer_id in sold.buyers:
        raise Conflict("You bought this consumer already.", code="already_bought")
    try:
        after = slots.take(wanted.exclusive)
    except SoldOut as refusal:
        _refresh(listing, slots, now)
        raise Conflict(f"Sold out: {refusal}.", code="sold_out") from None
    price = purchase_price(slot_price, slots, wanted.exclusive)
    if wanted.expected_price_minor is not None and wanted.expected_price_minor != price:
        raise Conflict(
            f"The price is now {price}.", code="price_changed", fields={"expected_price_minor": [str(price)]}
        )
    payout = Rules(vertical.slots, 0, vertical.margin_bps, vertical.margin_minor).payout_of(price)
    if payout < 1:
        raise Conflict("Too old to pay its seller anything after the margin.", code="gone")
    if accounts[(buyer_id, vertical.currency)].balance.available < price:
        raise Conflict("Your available balance does not cover the price.", code="insufficient_funds")
    sale = _sale(lead, vertical, buyer_id, wanted.exclusive, price, payout, hashes, now)
    db.session.add(sale)
    db.session.flush()
    if not reserve_lead_prices([price_of(sale)])[0]:
        raise Conflict("Your available balance does not cover the price.", code="insufficient_funds")
    _refresh(listing, after, now)
    if setting_of(buyer_id, None) is not None:  # the buyer's endpoint: posted after the commit
        sale.post_status = "queued"
        enqueue_after_commit(POST_JOB, sale.id, queue="delivery", job_id=f"catalog-post-{sale.id}")
    return sale


def _lock_listing(lead_id: int) -> CatalogListing | None:
    return db.session.scalar(
        select(CatalogListing)
        .where(CatalogListing.lead_id == lead_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _refresh(listing: CatalogListing, slots: Listing, now: datetime) -> None:
    """The listing as the register stands: its slots sold, and off the catalog when none is left."""
    listing.slots, listing.sold, listing.exclusive_sold = slots.slots, slots.sold, slots.exclusive_sold
    if listing.listed and not slots.listed:
        listing.listed, listing.unlisted_at = False, now


def _sale(
    lead: Lead,
    vertical: Vertical,
    buyer_id: int,
    exclusive: bool,
    price: int,
    payout: int,
    hashes: tuple[str | None, str | None],
    now: datetime,
) -> Sale:
    phone_hash, email_hash = hashes
    return Sale(
        lead_id=lead.id,
        vertical_id=vertical.id,
        buy_order_id=None,
        buyer_id=buyer_id,
        seller_id=lead.webmaster_id,
        auction_id=None,
        exclusive=exclusive,
        currency=vertical.currency,
        price_minor=price,
        payout_minor=payout,
        status="pending",
        post_status="none",  # the buyer reads it at GET /api/v1/sales/{id}; "queued": posted too
        phone_hash=phone_hash,
        email_hash=email_hash,
        review_deadline=now + timedelta(seconds=vertical.review_window_seconds),
    )
