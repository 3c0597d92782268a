"""Buying leads from the catalog: one slot, or every slot (exclusive), at its price now; one
lead, a selection, or the next N that match a search, each as one transaction.

The locks are taken first, in the exchange's order (``auctions.market``): the leads (id
order), their listings (id order), the consumers' register rows (``lock_consumers``, key
order), then every ledger account the sales touch, at once. So two buyers pressing buy on
the last slot make one sale, two baskets never wait for each other in a circle, and a
purchase racing a live auction of the same consumer never oversells: the register is read
under the consumers' locks, whatever the listings last said. The buyer pays the price it
was shown, or gets a 409 with the new one; the money is reserved as an auction's sale's
is, and each sale then lives as every sale does (review window, approval, hold;
docs/exchange.md "Money").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from billing.services import lock_for_sales, reserve_lead_prices
from exchange import clock
from exchange.actors import Actor
from exchange.auctions.domain import Rules
from exchange.buying.decisions import price_of
from exchange.buying.models import Sale
from exchange.buying.register import lock_consumers
from exchange.catalog.domain import Listing, SoldOut, purchase_price
from exchange.catalog.listing import SEEN_SLACK
from exchange.catalog.models import CatalogListing
from exchange.catalog.stock import Stock, hashes_of
from exchange.db import rows_by_id
from exchange.delivery.leads.settings import setting_of
from exchange.errors import Conflict, NotFound
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.domain import UNSOLD
from exchange.leads.models import Lead
from exchange.leads.transitions import Move, apply_moves
from exchange.verticals.domain import Ageing
from exchange.verticals.models import Vertical

POST_JOB = "exchange.catalog.jobs.post_catalog_sale_job"
CATALOG = Actor.system("catalog")
MAX_BASKET = 100


@dataclass(frozen=True)
class Purchase:
    lead_id: int
    exclusive: bool = False
    expected_price_minor: int | None = None  # the price the buyer was shown, if it says


class Refused(Conflict):
    """One purchase of a basket cannot be made (its code says why)."""


def buy(buyer_id: int, wanted: Purchase) -> Sale:
    """One lead's sale, reserved; 404 for a lead not in the catalog, 409 (with a code) when
    it cannot be bought now: sold out, gone, already yours, a new price, not enough money."""
    return buy_all(buyer_id, [wanted])[0]


def buy_all(buyer_id: int, basket: list[Purchase]) -> list[Sale]:
    """Every purchase of the basket, or none: the first that cannot be made is the 409 (its
    lead named at ``lead_ids``), and nothing is bought."""
    return _Till.open(buyer_id, [p.lead_id for p in basket]).sell(basket, skip_refused=False)


def buy_first(buyer_id: int, candidates: list[Purchase], count: int) -> list[Sale]:
    """Up to ``count`` of the ``candidates`` (in the order wanted), passing by those that
    cannot be bought now, or not at the price expected: "the next N that match"."""
    till = _Till.open(buyer_id, [purchase.lead_id for purchase in candidates])
    return till.sell(candidates, skip_refused=True, count=count)


@dataclass
class _Item:
    lead: Lead
    listing: CatalogListing
    vertical: Vertical


@dataclass
class _Till:
    """The basket's rows, locked, and what the sales made so far have taken."""

    buyer_id: int
    items: dict[int, _Item]
    stock: Stock
    balances: dict[str, int]
    now: datetime

    @classmethod
    def open(cls, buyer_id: int, lead_ids: list[int]) -> _Till:
        now = clock.now()
        leads = rows_by_id(Lead, lead_ids, lock=True)
        listings = _lock_listings(sorted(set(lead_ids)))
        verticals = rows_by_id(Vertical, {lead.vertical_id for lead in leads.values() if lead.vertical_id})
        items = {
            lead_id: _Item(lead, listings[lead_id], verticals[lead.vertical_id])
            for lead_id, lead in leads.items()
            if lead_id in listings and lead.vertical_id in verticals
        }
        lock_consumers([(item.vertical.id, hashes_of(item.lead)) for item in items.values()])
        currencies = {item.vertical.currency for item in items.values()}
        sellers = {(item.lead.webmaster_id, item.vertical.currency) for item in items.values()}
        accounts = lock_for_sales({(buyer_id, currency) for currency in currencies}, sellers)
        stock = Stock.read([item.lead for item in items.values()], verticals, now)
        balances = {currency: account.balance.available for (_, currency), account in accounts.items()}
        return cls(buyer_id, items, stock, balances, now)

    def sell(self, basket: list[Purchase], *, skip_refused: bool, count: int | None = None) -> list[Sale]:
        made: list[Sale] = []
        for wanted in basket:
            if count is not None and len(made) >= count:
                break
            try:
                sale = self._sale(wanted)
            except Refused:
                if skip_refused:
                    continue
                raise
            made.append(sale)
        db.session.add_all(made)
        db.session.flush()
        if not all(reserve_lead_prices([price_of(sale) for sale in made])):
            raise Conflict("Your available balance does not cover the price.", code="insufficient_funds")
        self._sold_now([sale.lead_id for sale in made])
        posted = setting_of(self.buyer_id, None) is not None
        for sale in made:
            if posted:  # the buyer's endpoint: posted after the commit
                sale.post_status = "queued"
                enqueue_after_commit(POST_JOB, sale.id, queue="delivery", job_id=f"catalog-post-{sale.id}")
        return made

    def _sale(self, wanted: Purchase) -> Sale:
        """One purchase checked against what the till holds; the sale, not written yet."""
        item = self.items.get(wanted.lead_id)
        if item is None:
            raise NotFound("No such lead in the catalog.", fields={"lead_ids": [str(wanted.lead_id)]})
        lead, listing, vertical = item.lead, item.listing, item.vertical
        if lead.erased_at is not None or vertical.status != "active" or listing.floor_minor is None:
            raise self.refused(wanted, "gone", "This lead is no longer for sale.")
        slot_price = Ageing.from_json(vertical.ageing).price_at(
            listing.floor_minor, self.now - listing.captured_at
        )
        if slot_price is None:
            raise self.refused(wanted, "gone", "This lead is too old for the catalog now.")
        if lead.id in self.stock.condemned:
            raise self.refused(wanted, "gone", "A sale of this lead was returned as unsellable.")
        slots = self.stock.listing(lead, vertical)
        if self.stock.bought_by(self.buyer_id, lead, vertical):
            raise self.refused(wanted, "already_bought", "You bought this consumer already.")
        try:
            after = slots.take(wanted.exclusive)
        except SoldOut as refusal:
            raise self.refused(wanted, "sold_out", f"Sold out: {refusal}.") from None
        price = purchase_price(slot_price, slots, wanted.exclusive)
        if wanted.expected_price_minor is not None and wanted.expected_price_minor != price:
            raise Refused(
                f"The price of lead {lead.id} is now {price}.",
                code="price_changed",
                fields={"expected_price_minor": [str(price)], "lead_ids": [str(lead.id)]},
            )
        payout = Rules(vertical.slots, 0, vertical.margin_bps, vertical.margin_minor).payout_of(price)
        if payout < 1:
            raise self.refused(wanted, "gone", "Too old to pay its seller anything after the margin.")
        if self.balances.get(vertical.currency, 0) < price:
            raise self.refused(
                wanted, "insufficient_funds", "Your available balance does not cover the price."
            )
        sale = _sale(lead, vertical, self.buyer_id, wanted.exclusive, price, payout, self.now)
        self.balances[vertical.currency] -= price
        self.stock.add(sale)
        _refresh(listing, after, self.stock.own_count(lead.id), self.now)
        return sale

    def _sold_now(self, lead_ids: list[int]) -> None:
        """A lead its auction left unsold is sold once a slot of it is bought here: its
        seller sees it (and gets its postback) as for an auction's sale."""
        moves = [
            Move(self.items[lead_id].lead, "sell_from_catalog", reason="bought from the catalog")
            for lead_id in dict.fromkeys(lead_ids)
            if self.items[lead_id].lead.status == UNSOLD
        ]
        if moves:
            apply_moves(moves, CATALOG)

    @staticmethod
    def refused(wanted: Purchase, code: str, message: str) -> Refused:
        return Refused(message, code=code, fields={"lead_ids": [str(wanted.lead_id)]})


def _lock_listings(lead_ids: list[int]) -> dict[int, CatalogListing]:
    rows = db.session.scalars(
        select(CatalogListing)
        .where(CatalogListing.lead_id.in_(lead_ids))
        .order_by(CatalogListing.lead_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.lead_id: row for row in rows}


def _refresh(listing: CatalogListing, slots: Listing, own_sold: int, now: datetime) -> None:
    """The listing after a sale: its slots taken, and off the catalog when none is left."""
    listing.slots, listing.sold, listing.exclusive_sold = slots.slots, slots.sold, slots.exclusive_sold
    listing.own_sold, listing.seen_until = own_sold, now - SEEN_SLACK
    if listing.listed and not slots.listed:
        listing.listed, listing.unlisted_at = False, now


def _sale(
    lead: Lead,
    vertical: Vertical,
    buyer_id: int,
    exclusive: bool,
    price: int,
    payout: int,
    now: datetime,
) -> Sale:
    phone_hash, email_hash = hashes_of(lead)
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
