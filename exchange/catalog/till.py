"""The till: some catalog orders filled in one transaction, each checked against what the
orders before it took.

The locks are taken first, in the exchange's order (``auctions.market``): the leads (id
order), their listings (id order), the consumers' register rows (``lock_consumers``, key
order), then every ledger account the sales touch, at once. So two buyers pressing buy on
the last slot make one sale, and a purchase racing a live auction of the same consumer
never oversells: the register is read under the consumers' locks, whatever the listings
last said. A buyer pays the price it was shown, or is refused with the new one; the money
is reserved as an auction's sale's is, and each sale then lives as every sale does (review
window, approval, hold; docs/exchange.md "Money").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, insert, select, text

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
from exchange.db import update_each
from exchange.delivery.leads.settings import settings_by_advertiser
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
LISTINGS = CatalogListing.__table__  # listings and sales are written with Core: no unit of work
LOCK_LISTINGS = (
    select(*(LISTINGS.c[name] for name in ("lead_id", "floor_minor", "captured_at", "listed", "unlisted_at")))
    .where(LISTINGS.c.lead_id.in_(bindparam("lead_ids", expanding=True)))
    .order_by(LISTINGS.c.lead_id)
    .with_for_update()
)
REFRESHED_COLUMNS = ("slots", "sold", "exclusive_sold", "own_sold", "seen_until", "listed", "unlisted_at")
REFRESH_LISTING = update_each(LISTINGS, "lead_id", REFRESHED_COLUMNS)
INSERT_SALES = insert(Sale.__table__).returning(Sale.__table__.c.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class Purchase:
    lead_id: int
    exclusive: bool = False
    expected_price_minor: int | None = None  # the price the buyer was shown, if it says


class Refused(Conflict):
    """One purchase of a basket cannot be made (its code says why)."""


@dataclass(frozen=True)
class Order:
    """One buyer's purchases made together: every one or none (``first`` None), or the
    first ``first`` of them that can be made, passing by the others."""

    buyer_id: int
    purchases: tuple[Purchase, ...]
    first: int | None = None


@dataclass
class _Item:
    lead: Lead
    listing: Row  # its catalog_listings row, locked
    vertical: Vertical


@dataclass
class Till:
    """The rows of some orders' leads, locked, and what the sales made so far have taken:
    their stock, each buyer's balance, each listing's slots after them."""

    items: dict[int, _Item]
    stock: Stock
    balances: dict[tuple[int, str], int]  # (buyer, currency): available
    now: datetime
    after: dict[int, tuple[Listing, int]] = field(default_factory=dict)  # lead: slots, own sales
    made: list[Sale] = field(default_factory=list)

    @classmethod
    def open(cls, orders: list[Order]) -> Till:
        """Every lead of the orders locked, with what is sold of it, and every account their
        sales touch."""
        now = clock.now()
        lead_ids = sorted({wanted.lead_id for order in orders for wanted in order.purchases})
        leads = _lock_leads(lead_ids)
        listings = _lock_listings(lead_ids)
        verticals = {vertical.id: vertical for _, vertical in leads.values()}
        items = {
            lead_id: _Item(lead, listings[lead_id], vertical)
            for lead_id, (lead, vertical) in leads.items()
            if lead_id in listings
        }
        lock_consumers([(item.vertical.id, hashes_of(item.lead)) for item in items.values()])
        sellers = {(item.lead.webmaster_id, item.vertical.currency) for item in items.values()}
        buyers = {
            (order.buyer_id, items[wanted.lead_id].vertical.currency)
            for order in orders
            for wanted in order.purchases
            if wanted.lead_id in items
        }
        accounts = lock_for_sales(buyers, sellers)
        stock = Stock.read([item.lead for item in items.values()], verticals, now)
        balances = {key: account.balance.available for key, account in accounts.items()}
        return cls(items, stock, balances, now)

    def fill(self, order: Order) -> list[Sale]:
        """The order's sales (not written yet: ``close`` writes every order's); a refusal of
        an order that is every purchase or none leaves the till as it was before it."""
        mark = (self.stock.mark(), dict(self.balances), dict(self.after))
        made: list[Sale] = []
        for wanted in order.purchases:
            if order.first is not None and len(made) >= order.first:
                break
            try:
                made.append(self._sale(order.buyer_id, wanted))
            except (Refused, NotFound) as refusal:
                if order.first is not None and isinstance(refusal, Refused):
                    continue
                stock, self.balances, self.after = mark
                self.stock.rewind(stock)
                raise
        self.made += made
        return made

    def close(self) -> None:
        """Write the sales: their listings' slots, their leads sold, their posts queued, and
        the money."""
        if self.after:
            refreshed = [
                _refreshed(self.items[lead_id].listing, slots, own_sold, self.now)
                for lead_id, (slots, own_sold) in self.after.items()
            ]
            db.session.connection().execute(REFRESH_LISTING, refreshed)
        endpoints = settings_by_advertiser({sale.buyer_id for sale in self.made})
        posted = {buyer for buyer, settings in endpoints.items() if any(s.offer_id is None for s in settings)}
        for sale in self.made:
            sale.post_status = "queued" if sale.buyer_id in posted else sale.post_status
        if self.made:
            _insert_sales(self.made)
        self._sold_now([sale.lead_id for sale in self.made])
        for sale in self.made:
            if sale.buyer_id in posted:  # the buyer's endpoint: posted after the commit
                enqueue_after_commit(POST_JOB, sale.id, queue="delivery", job_id=f"catalog-post-{sale.id}")
        if not all(reserve_lead_prices([price_of(sale) for sale in self.made])):
            raise Conflict("Your available balance does not cover the price.", code="insufficient_funds")

    def _sale(self, buyer_id: int, wanted: Purchase) -> Sale:
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
        if self.stock.bought_by(buyer_id, lead, vertical):
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
        balance = (buyer_id, vertical.currency)
        if self.balances.get(balance, 0) < price:
            raise self.refused(
                wanted, "insufficient_funds", "Your available balance does not cover the price."
            )
        sale = _sale(lead, vertical, buyer_id, wanted.exclusive, price, payout, self.now)
        self.balances[balance] -= price
        self.stock.add(sale)
        self.after[lead.id] = (after, self.stock.own_count(lead.id))
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


def _lock_leads(lead_ids: list[int]) -> dict[int, tuple[Lead, Vertical]]:
    """The leads (of a vertical) locked in id order, read again, each with its vertical."""
    rows = db.session.execute(
        select(Lead, Vertical)
        .join(Vertical, Vertical.id == Lead.vertical_id)
        .where(Lead.id.in_(lead_ids))
        .order_by(Lead.id)
        .with_for_update(of=Lead)
        .execution_options(populate_existing=True)
    )
    return {lead.id: (lead, vertical) for lead, vertical in rows}


def _lock_listings(lead_ids: list[int]) -> dict[int, Row]:
    rows = db.session.connection().execute(LOCK_LISTINGS, {"lead_ids": lead_ids})
    return {row.lead_id: row for row in rows}


def _refreshed(listing: Row, slots: Listing, own_sold: int, now: datetime) -> dict:
    """The listing after a sale (``REFRESH_LISTING``'s values): its slots taken, and off the
    catalog when none is left."""
    unlisted = listing.listed and not slots.listed
    return {
        "key": listing.lead_id,
        "new_slots": slots.slots,
        "new_sold": slots.sold,
        "new_exclusive_sold": slots.exclusive_sold,
        "new_own_sold": own_sold,
        "new_seen_until": now - SEEN_SLACK,
        "new_listed": listing.listed and not unlisted,
        "new_unlisted_at": now if unlisted else listing.unlisted_at,
    }


_SALE_COLUMNS = (
    "lead_id",
    "vertical_id",
    "buy_order_id",
    "buyer_id",
    "seller_id",
    "auction_id",
    "exclusive",
    "currency",
    "price_minor",
    "payout_minor",
    "status",
    "post_status",
    "phone_hash",
    "email_hash",
    "review_deadline",
    "created_at",
)
INSERT_SALES_FROM_JSON = text(
    f"INSERT INTO sales ({', '.join(_SALE_COLUMNS)}) "
    f"SELECT {', '.join(_SALE_COLUMNS)} FROM json_populate_recordset(NULL::sales, :sales) "
    "RETURNING id, lead_id, buyer_id"
)


def _insert_sales(sales: list[Sale]) -> None:
    """Write the sales with Core (no unit of work); each gets its id. On PostgreSQL they are
    one parameter, a JSON array: the statement's text is the same for any number of sales,
    so the driver parses it once and the server prepares it (a VALUES list, 16 parameters a
    sale, is parsed anew at every batch). A batch never holds two sales of one lead to one
    buyer (``Stock.bought_by``), which is how each returned id finds its sale."""
    rows = [{key: getattr(sale, key) for key in _SALE_COLUMNS} for sale in sales]
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        ids = connection.execute(INSERT_SALES, rows).scalars().all()
        for sale, sale_id in zip(sales, ids, strict=True):
            sale.id = sale_id
        return
    inserted = connection.execute(INSERT_SALES_FROM_JSON, {"sales": json.dumps(rows, default=str)})
    ids = {(lead_id, buyer_id): sale_id for sale_id, lead_id, buyer_id in inserted}
    for sale in sales:
        sale.id = ids[sale.lead_id, sale.buyer_id]


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
        created_at=now,
    )
