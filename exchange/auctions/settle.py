"""Making an auction's sales: in one transaction, under locks, from the plan and the bids.

Lock order, the same everywhere a sale is made or undone: the auction, the lead, the
consumer's register rows, the capped buy orders (by id), then every ledger account the
sales touch, at once (by id). Under them the register and every cap are read again, so a
sale is never made on what ``prepare`` read before the pings: a winner whose cap ran out
meanwhile is excluded and the choice made again (the waterfall, ``auctions.domain.
Waterfall``), and every step is written to the auction's log.

Balances are read unlocked and the accounts locked last, just before the commit, where the
sales are reserved (the optimistic settle; ``Contended`` when a balance fell short between
the two, and the settle is made again with every account locked first, before the first
sale, and each round's sales reserved as they are made). ``after_posts`` always locks first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from sqlalchemy import select

from billing.services import free_balances, lock_for_sales, reserve_lead_prices, void_lead_reservation
from exchange import clock
from exchange.actors import Actor
from exchange.auctions.calls import ANSWERED, PingOutcome, PostOutcome
from exchange.auctions.domain import Bid, Rules, Step, Waterfall, admissible, restore
from exchange.auctions.models import Auction, AuctionBid
from exchange.auctions.plan import Candidate, Plan, register_of
from exchange.buying.decisions import price_of
from exchange.buying.domain import BALANCE, CAP, REGISTER, Caps, Schedule, cap_failure
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.register import Sold, consumer_hashes, lock_consumer
from exchange.buying.usage import lock_buy_orders, usage_of
from exchange.delivery.leads.models import DeliverySetting
from exchange.extensions import db
from exchange.leads.domain import FOR_SALE
from exchange.leads.models import Lead
from exchange.leads.transitions import Move, apply_moves
from exchange.leads.validation import lock_lead
from exchange.verticals.models import Vertical

AUCTIONEER = Actor.system("auction")
POST_REFUSED = "post_refused"


@dataclass
class Market:
    """What making one auction's sales needs, loaded and locked once."""

    auction: Auction
    lead: Lead
    vertical: Vertical
    orders: dict[int, BuyOrder]
    hashes: tuple[str | None, str | None]
    posts_to: set[int]  # buyers that can take a post (a delivery endpoint and its secret)
    # optimistic: each buyer's free balance as read, unlocked (spent as sales are chosen);
    # None: the accounts are locked and each round's sales reserved as they are made
    balances: dict[int, int] | None = None


class Contended(Exception):
    """An optimistic settle found a buyer's balance short under the lock that its unlocked
    read had found enough: the caller rolls back and settles again, pessimistically."""


def settle(
    plan: Plan, outcomes: list[PingOutcome], duration_ms: int, attempt: int, optimistic: bool = True
) -> list[int]:
    """Write the auction's bids and make its sales (``attempt``: the caller's claim, see
    ``services``). Returns the sales to post.

    ``optimistic``: the sales are chosen on the buyers' balances as read, and reserved last,
    the ledger accounts (the platform's revenue account among them, which every sale credits)
    locked just before the commit, so that settles hold them for a few statements only; a
    reservation refused there raises ``Contended`` (roll back, settle again with
    ``optimistic=False``: every account locked first, each sale reserved as it is made)."""
    auction = lock_auction(plan.auction_id)
    if auction is None or auction.status != "due" or auction.attempts != attempt:
        return []  # another auctioneer settled it, or holds it now
    lead = lock_lead(plan.lead_id)
    by_order = {outcome.order_id: outcome for outcome in outcomes}
    bids = plan.fixed_bids + [
        Bid(c.order_id, c.buyer_id, by_order[c.order_id].bid_minor, c.exclusive)
        for c in plan.to_ping
        if c.order_id in by_order and by_order[c.order_id].status == ANSWERED
    ]
    rows = [_bid_row(auction.id, each, by_order.get(each.order_id)) for each in plan.candidates]
    auction.started_at = auction.started_at or clock.now()
    auction.duration_ms = duration_ms
    if plan.rules is None or not bids:
        db.session.add_all(rows)
        auction.rules = asdict(plan.rules) if plan.rules else None
        return _finish(auction, lead, plan.unsold_reason or "no bid")
    market = _open_market(auction, lead, [bid.order_id for bid in bids], optimistic=optimistic)
    sold = register_of(lead, market.vertical)
    state = Waterfall(bids, _rules_now(plan.rules, sold))
    for bid in bids:
        if bid.buyer_id in sold.buyers:  # bought this consumer since the plan was read
            state.failed(bid, f"{REGISTER}: bought this consumer already")
    made = fill(state, market)
    _write_log(auction, state, rows, {sale.buy_order_id: sale.id for sale in made})
    db.session.add_all(rows)  # once, with their results: one insert
    if not made:
        promised = state.rules.min_payout_minor
        return _finish(
            auction, lead, f"no buyer pays the quoted {promised}" if promised else "no sale could be made"
        )
    queued = [sale.id for sale in made if sale.post_status == "queued"]
    if queued:
        auction.status = "posting"
    else:
        _sold(auction, lead)
    if market.balances is not None:
        _reserve_last(made, market)
    return queued


def _reserve_last(made: list[Sale], market: Market) -> None:
    """Everything else written first; then the accounts of the sales locked, in one
    statement, and the sales reserved, all or ``Contended``."""
    db.session.flush()
    buyers = {sale.buyer_id for sale in made}
    lock_for_sales(buyers, market.lead.webmaster_id, market.vertical.currency)
    if not all(reserve_lead_prices([price_of(sale) for sale in made])):
        raise Contended(f"auction {market.auction.id}: a balance fell short under the lock")


def fill(state: Waterfall, market: Market) -> list[Sale]:
    """Choose, make each winner's sale or exclude it, and choose again until a round's
    winners all took their sales or no bid is left."""
    made: list[Sale] = []
    while True:
        winners = state.choose().winners
        if not winners:
            return made
        taken, refused = _take(winners, state.rules, market)
        for bid, sale in taken:
            state.sold_to(bid)
            made.append(sale)
        for bid, reason in refused:
            state.failed(bid, reason)
        if not refused:
            return made


def _take(
    winners: list[Bid], rules: Rules, market: Market
) -> tuple[list[tuple[Bid, Sale]], list[tuple[Bid, str]]]:
    """Make one round's sales, or say why one cannot be made: its order's cap, or its buyer's
    balance (as read, optimistic: the sales are reserved last; else reserved now, in one
    ledger write for the round)."""
    refused: list[tuple[Bid, str]] = []
    sales: list[tuple[Bid, Sale]] = []
    balances = market.balances
    for bid in winners:
        order = market.orders[bid.order_id]
        failure = _cap_failure(order, bid.amount_minor)
        if failure:
            refused.append((bid, f"{CAP}: {failure}"))
        elif balances is not None and balances.get(order.buyer_id, 0) < bid.amount_minor:
            refused.append((bid, BALANCE))
        else:
            if balances is not None:
                balances[order.buyer_id] -= bid.amount_minor
            sales.append((bid, _sale(bid, order, rules, market)))
    if not sales:
        return [], refused
    db.session.add_all(sale for _, sale in sales)
    db.session.flush()  # the sales' ids name their ledger transfers
    if balances is not None:
        return sales, refused  # reserved last (``_reserve_last``)
    reserved = reserve_lead_prices([price_of(sale) for _, sale in sales])
    taken = []
    for (bid, sale), admitted in zip(sales, reserved, strict=True):
        if admitted:
            taken.append((bid, sale))
        else:  # nothing was written for it in the ledger
            db.session.delete(sale)
            refused.append((bid, BALANCE))
    return taken, refused


def _cap_failure(order: BuyOrder, amount_minor: int) -> str | None:
    caps = Caps.from_stored(order.caps)
    if not caps.any:
        return None
    return cap_failure(caps, usage_of(order, Schedule.from_stored(order.schedule).timezone), amount_minor)


def _sale(bid: Bid, order: BuyOrder, rules: Rules, market: Market) -> Sale:
    vertical, lead = market.vertical, market.lead
    return Sale(
        lead_id=lead.id,
        vertical_id=vertical.id,
        buy_order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=lead.webmaster_id,
        auction_id=market.auction.id,
        exclusive=bid.exclusive,
        currency=vertical.currency,
        price_minor=bid.amount_minor,
        payout_minor=rules.payout_of(bid.amount_minor),
        status="pending",
        post_status="queued" if order.buyer_id in market.posts_to else "none",
        phone_hash=market.hashes[0],
        email_hash=market.hashes[1],
        review_deadline=clock.now() + timedelta(seconds=vertical.review_window_seconds),
    )


def after_posts(auction_id: int, outcomes: list[PostOutcome], attempt: int) -> list[int]:
    """Record the posts' outcomes; each refused sale is undone (its reservation voided, its
    slot freed) and the next bids take its place. Returns the new sales to post."""
    auction = lock_auction(auction_id)
    if auction is None or auction.status != "posting" or auction.attempts != attempt:
        return []  # another auctioneer holds it now: it posts again and records
    lead = lock_lead(auction.lead_id)
    refused: list[tuple[Sale, str]] = []
    for outcome in outcomes:
        sale = db.session.get(Sale, outcome.sale_id)
        if sale is None or sale.status != "pending" or sale.post_status != "queued":
            continue  # already recorded (a post repeated after a crash)
        if outcome.taken:
            sale.post_status = "delivered"
        else:
            refused.append((sale, (outcome.error or "")[:500]))
    made: list[Sale] = []
    if refused:
        bids = bids_of(auction)
        state = restore(bids, Rules(**auction.rules), [Step.from_log(step) for step in auction.steps])
        by_order = {bid.order_id: bid for bid in bids}
        giving_back = {sale.buyer_id for sale, _ in refused}
        market = _open_market(auction, lead, list(by_order), giving_back=giving_back)
        for sale, error in refused:
            void_lead_reservation(price_of(sale))
            sale.status, sale.post_status, sale.post_error = "voided", "refused", error
            state.failed(by_order[sale.buy_order_id], f"{POST_REFUSED}: {error}"[:200])
        made = fill(state, market)
        rows = db.session.scalars(select(AuctionBid).where(AuctionBid.auction_id == auction.id)).all()
        _write_log(auction, state, rows, _pending_sales(auction.id))
    queued = [sale.id for sale in made if sale.post_status == "queued"]
    return queued or _conclude(auction, lead)


def queued_posts(auction_id: int) -> list[int]:
    """The sales of an auction still to post (an auctioneer died while posting them)."""
    return list(
        db.session.scalars(
            select(Sale.id).where(
                Sale.auction_id == auction_id, Sale.status == "pending", Sale.post_status == "queued"
            )
        )
    )


def bids_of(auction: Auction) -> list[Bid]:
    rows = db.session.scalars(
        select(AuctionBid).where(AuctionBid.auction_id == auction.id, AuctionBid.bid_minor.is_not(None))
    )
    return [Bid(row.buy_order_id, row.buyer_id, row.bid_minor, row.exclusive) for row in rows]


def lock_auction(auction_id: int) -> Auction | None:
    return db.session.scalar(
        select(Auction)
        .where(Auction.id == auction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _conclude(auction: Auction, lead: Lead) -> list[int]:
    """Every post is done: the lead is sold if a sale stands, else unsold."""
    live = db.session.scalar(
        select(Sale.id).where(Sale.auction_id == auction.id, Sale.status == "pending").limit(1)
    )
    if live is None:
        return _finish(auction, lead, "every buyer refused the post")
    return _sold(auction, lead)


def _sold(auction: Auction, lead: Lead) -> list[int]:
    auction.status, auction.outcome, auction.finished_at = "done", "sold", clock.now()
    auction.claimed_until = None  # nothing left to hold
    if lead.status == FOR_SALE:  # locked (``lock_lead``): no other actor moved it
        apply_moves([Move(lead, "sell")], AUCTIONEER)
    return []


def _finish(auction: Auction, lead: Lead, reason: str) -> list[int]:
    auction.status, auction.outcome, auction.finished_at = "done", "unsold", clock.now()
    auction.claimed_until = None  # nothing left to hold
    auction.unsold_reason = reason[:200]
    if lead.status == FOR_SALE:  # locked (``lock_lead``): no other actor moved it
        apply_moves([Move(lead, "leave_unsold", reason)], AUCTIONEER)
    return []


def _open_market(
    auction: Auction,
    lead: Lead,
    order_ids: list[int],
    *,
    giving_back: set[int] = frozenset(),
    optimistic: bool = False,
) -> Market:
    """Take the locks, in the order of the module's docstring (``optimistic``: all but the
    accounts', the balances read unlocked); ``giving_back``: buyers (among the orders')
    whose sales are voided in the same transaction."""
    vertical = db.session.get(Vertical, auction.vertical_id)
    hashes = consumer_hashes(lead.phone_key, lead.email_key)
    lock_consumer(vertical.id, hashes)
    orders = lock_buy_orders(order_ids)
    buyers = {order.buyer_id for order in orders.values()}
    posts_to = set(
        db.session.scalars(
            select(DeliverySetting.advertiser_id).where(DeliverySetting.advertiser_id.in_(buyers))
        )
    )
    if optimistic:
        balances = free_balances(buyers, vertical.currency)
        return Market(auction, lead, vertical, orders, hashes, posts_to, balances)
    lock_for_sales(buyers, lead.webmaster_id, vertical.currency, giving_back=giving_back)  # the last
    return Market(auction, lead, vertical, orders, hashes, posts_to)


def _rules_now(rules: Rules, sold: Sold) -> Rules:
    """The plan's rules with the register as it stands under the lock."""
    taken = rules.slots if sold.exclusive else sold.slots_taken  # sold exclusively: sold out
    return replace(rules, slots_taken=taken, exclusive_allowed=taken == 0)


def _pending_sales(auction_id: int) -> dict[int, int]:
    """The auction's live sales: buy order id → sale id."""
    query = select(Sale.buy_order_id, Sale.id).where(Sale.auction_id == auction_id, Sale.status == "pending")
    return dict(db.session.execute(query).all())


def _write_log(auction: Auction, state: Waterfall, rows: list[AuctionBid], sales: dict[int, int]) -> None:
    """The decision's input and steps, and each bid's fate (``rows``: the auction's bid
    rows; ``sales``: its live sales by buy order)."""
    auction.rules = asdict(state.rules)
    auction.steps = [asdict(step) for step in state.steps]
    _, dropped = admissible(state.bids, state.rules)
    failed = {step.order_ids[0]: step.reason for step in state.steps if step.kind == "failed"}
    sold = {bid.order_id for bid in state.sold}
    for row in rows:
        if row.bid_minor is None:
            continue
        if row.buy_order_id in sold:
            row.result, row.sale_id = "won", sales.get(row.buy_order_id)
        elif row.buy_order_id in failed:
            row.result = f"failed: {failed[row.buy_order_id]}"[:40]
        else:
            row.result = dropped.get(row.buy_order_id, "outbid")


def _bid_row(auction_id: int, candidate: Candidate, outcome: PingOutcome | None) -> AuctionBid:
    row = AuctionBid(
        auction_id=auction_id,
        buy_order_id=candidate.order_id,
        buyer_id=candidate.buyer_id,
        pricing=candidate.pricing,
        exclusive=candidate.exclusive,
        skipped=candidate.skipped[:200] if candidate.skipped else None,
    )
    if candidate.skipped is None and candidate.pricing == "fixed":
        row.bid_minor = candidate.bid_minor
    elif outcome is not None:
        row.ping_status, row.latency_ms = outcome.status, outcome.latency_ms
        row.ping_error = (outcome.error or "")[:200] or None
        row.bid_minor = outcome.bid_minor
    return row
