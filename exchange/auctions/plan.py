"""An auction's first step: who may bid for the lead, and what each is told.

Read in one short transaction, before any network call, for several auctions at once
(``prepare_all``: a few queries for the whole batch): the lead as buy orders may see it
(no personal data), the vertical's rules for it (slots, floor, margin) and what the register
already holds of its consumer, then every active buy order on the vertical with the reason
it sits out, if any (filter, schedule, register, cap, balance). What is read here is checked
again under locks when the sale is made (``settle``): a cap or a balance that ran out
meanwhile fails that sale, never oversells.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from billing.services import free_balances
from exchange import clock
from exchange.auctions.domain import Bid, Rules
from exchange.auctions.models import Auction
from exchange.buying.domain import (
    BALANCE,
    CAP,
    FILTER,
    REGISTER,
    SCHEDULE,
    Caps,
    Filters,
    LeadView,
    Schedule,
    cap_failure,
    filter_failure,
    is_open,
)
from exchange.buying.models import BuyOrder
from exchange.buying.register import Register, Sold, consumer_hashes
from exchange.buying.usage import Used, usages_of
from exchange.db import rows_by_id
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.quality.services import buyer_ranks, seller_multipliers
from exchange.verticals.domain import floor_for, ping_fields
from exchange.verticals.models import Vertical


@dataclass(frozen=True)
class Candidate:
    """A buy order as the auction saw it."""

    order_id: int
    buyer_id: int
    pricing: str
    exclusive: bool
    skipped: str | None = None  # why it sits out; None: it bids
    bid_minor: int | None = None  # a fixed bid
    ping_url: str | None = None
    max_bid_minor: int | None = None
    rank_tenths: int = 0  # its buyer's share refused or returned: lower wins a tie


@dataclass(frozen=True)
class Plan:
    auction_id: int
    lead_id: int
    currency: str
    rules: Rules | None  # None: nothing can be sold (``unsold_reason``)
    candidates: list[Candidate] = field(default_factory=list)
    ping_body: dict = field(default_factory=dict)
    unsold_reason: str | None = None

    @property
    def fixed_bids(self) -> list[Bid]:
        return [
            Bid(c.order_id, c.buyer_id, c.bid_minor, c.exclusive, c.rank_tenths)
            for c in self.candidates
            if c.skipped is None and c.pricing == "fixed"
        ]

    @property
    def to_ping(self) -> list[Candidate]:
        return [c for c in self.candidates if c.skipped is None and c.pricing == "ping"]


def lead_view(lead: Lead, vertical: Vertical) -> LeadView:
    return LeadView(
        country=lead.country,
        fields=lead.fields,
        score=lead.score,
        temperature=lead.temperature,
        age_seconds=int((clock.now() - lead.created_at).total_seconds()),
        region=_text(lead.fields.get("region")),
        postcode=_text(lead.fields.get("postcode")),
    )


def prepare(auction_id: int) -> Plan | None:
    """The plan of a due auction, or None when it is not due (already run)."""
    return prepare_all([auction_id])[0]


def prepare_all(auction_ids: list[int]) -> list[Plan | None]:
    """The plans of due auctions, in the order asked, read at once (None: not due)."""
    auctions = rows_by_id(Auction, auction_ids)
    auctions = {key: auction for key, auction in auctions.items() if auction.status == "due"}
    leads = rows_by_id(Lead, [auction.lead_id for auction in auctions.values()])
    verticals = rows_by_id(Vertical, [auction.vertical_id for auction in auctions.values()])
    consumers = {
        auction.id: (
            auction.vertical_id,
            consumer_hashes(leads[auction.lead_id].phone_key, leads[auction.lead_id].email_key),
        )
        for auction in auctions.values()
    }
    now = clock.now()
    register = Register.read(list(consumers.values()), window_start(verticals.values(), now))
    book = OrderBook.read(list(verticals.values()))
    quality = seller_multipliers(
        {(leads[auction.lead_id].webmaster_id, auction.vertical_id) for auction in auctions.values()}
    )
    plans: list[Plan | None] = []
    for auction_id in auction_ids:
        auction = auctions.get(auction_id)
        if auction is None:
            plans.append(None)
            continue
        lead, vertical = leads[auction.lead_id], verticals[auction.vertical_id]
        sold = register.sold(*consumers[auction_id], window_start([vertical], now))
        plans.append(_plan(auction, lead, vertical, sold, book, quality[lead.webmaster_id, vertical.id]))
    return plans


def _plan(
    auction: Auction, lead: Lead, vertical: Vertical, sold: Sold, book: OrderBook, quality_bps: int
) -> Plan:
    view = lead_view(lead, vertical)
    floor = floor_for(vertical.floors, lead.country, lead.temperature)
    base = {"auction_id": auction.id, "lead_id": lead.id, "currency": vertical.currency}
    if floor is None:
        return Plan(**base, rules=None, unsold_reason=f"no floor for {lead.country} {lead.temperature}")
    if sold.exclusive or sold.slots_taken >= vertical.slots:
        return Plan(**base, rules=None, unsold_reason="register: the consumer is sold out")
    rules = Rules(
        slots=vertical.slots,
        floor_minor=floor,
        margin_bps=vertical.margin_bps,
        margin_minor=vertical.margin_minor,
        slots_taken=sold.slots_taken,
        exclusive_allowed=sold.slots_taken == 0,
        min_payout_minor=auction.min_payout_minor,
        quality_bps=quality_bps,
    )
    candidates = book.candidates(vertical, view, sold)
    body = ping_body(lead, vertical, view, floor)
    return Plan(**base, rules=rules, candidates=candidates, ping_body=body)


def window_start(verticals: Iterable[Vertical], now: datetime) -> datetime:
    """Since when the register counts for the verticals (the longest window of them)."""
    return now - timedelta(seconds=max((v.duplicate_window_seconds for v in verticals), default=0))


class OrderBook:
    """Every active buy order on some verticals, with what decides whether it bids: its
    buyer's free balance and its caps' usage, read in a few queries for all of them."""

    def __init__(
        self,
        orders: list[BuyOrder],
        balances: dict[tuple[int, str], int],
        usages: dict[int, Used],
        ranks: dict[tuple[int, int], int] | None = None,
    ) -> None:
        self.orders = orders
        self.balances = balances
        self.usages = usages
        self.ranks = ranks or {}  # (buyer, vertical): its share refused or returned

    @classmethod
    def read(cls, verticals: list[Vertical]) -> OrderBook:
        if not verticals:
            return cls([], {}, {})
        orders = db.session.scalars(
            select(BuyOrder)
            .where(BuyOrder.vertical_id.in_({v.id for v in verticals}), BuyOrder.status == "active")
            .order_by(BuyOrder.id)
        ).all()
        currency_of = {v.id: v.currency for v in verticals}
        buyers: dict[str, set[int]] = {}
        for order in orders:
            buyers.setdefault(currency_of[order.vertical_id], set()).add(order.buyer_id)
        balances = {
            (buyer, currency): balance
            for currency, ids in buyers.items()
            for buyer, balance in free_balances(ids, currency).items()
        }
        ranks = buyer_ranks({(order.buyer_id, order.vertical_id) for order in orders})
        return cls(list(orders), balances, usages_of(orders), ranks)

    def candidates(self, vertical: Vertical, view: LeadView, sold: Sold) -> list[Candidate]:
        """Every active buy order on the vertical, with why it sits out (None: it bids)."""
        return [
            replace(
                _candidate(
                    order,
                    view,
                    sold,
                    self.balances[order.buyer_id, vertical.currency],
                    self.usages.get(order.id),
                ),
                rank_tenths=self.ranks.get((order.buyer_id, vertical.id), 0),
            )
            for order in self.orders
            if order.vertical_id == vertical.id
        ]


def candidates_for(vertical: Vertical, view: LeadView, sold: Sold) -> list[Candidate]:
    """Every active buy order on the vertical, with why it sits out (None: it bids)."""
    return OrderBook.read([vertical]).candidates(vertical, view, sold)


def ping_body(lead: Lead, vertical: Vertical, view: LeadView, floor: int) -> dict:
    """What every pinged buyer learns of the lead: never a personal field."""
    return {
        "lead_id": lead.id,
        "vertical_id": vertical.id,
        "country": lead.country,
        "score": lead.score,
        "temperature": lead.temperature,
        "age_seconds": view.age_seconds,
        "fields": ping_fields(lead.fields, vertical.fields, vertical.personal_fields),
        "floor_minor": floor,
        "currency": vertical.currency,
    }


def _candidate(order: BuyOrder, view: LeadView, sold: Sold, balance: int, used: Used | None) -> Candidate:
    base = Candidate(
        order_id=order.id,
        buyer_id=order.buyer_id,
        pricing=order.pricing,
        exclusive=order.exclusive,
        bid_minor=order.bid_minor,
        ping_url=order.ping_url,
        max_bid_minor=order.max_bid_minor,
    )
    return _with_reason(base, _skip_reason(order, view, sold, balance, used))


def _skip_reason(order: BuyOrder, view: LeadView, sold: Sold, balance: int, used: Used | None) -> str | None:
    failure = filter_failure(Filters.from_stored(order.filters), view)
    if failure:
        return f"{FILTER}: {failure}"
    schedule = Schedule.from_stored(order.schedule)
    if not is_open(schedule, clock.now()):
        return SCHEDULE
    if order.buyer_id in sold.buyers:
        return f"{REGISTER}: bought this consumer already"
    if order.exclusive and sold.slots_taken:
        return f"{REGISTER}: already sold shared"
    most = order.bid_minor or order.max_bid_minor
    caps = Caps.from_stored(order.caps)
    if caps.any:
        failure = cap_failure(caps, used or {}, most)
        if failure:
            return f"{CAP}: {failure}"
    if balance < most:
        return BALANCE
    return None


def _with_reason(candidate: Candidate, reason: str | None) -> Candidate:
    if reason is None:
        return candidate
    return Candidate(candidate.order_id, candidate.buyer_id, candidate.pricing, candidate.exclusive, reason)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
