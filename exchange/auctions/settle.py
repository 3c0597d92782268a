"""Making auctions' sales: several auctions in one transaction, under locks, from their
plans and bids.

The locks are taken first, in the order of ``auctions.market`` (the auctions and the leads,
then the consumers, the capped buy orders and every ledger account the sales may touch),
and the register, the caps and the balances read under them, so a sale is never made on
what ``prepare`` read before the pings: a winner whose cap or balance ran out meanwhile is
excluded and the choice made again (the waterfall, ``auctions.domain.Waterfall``), and every
step is written to the auction's log. The auctions of one batch are decided one after the
other on what the market holds in memory, each seeing the sales of those before it; then
everything is written at once: the sales, their reservations (one ledger write), the bids,
the leads' moves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from sqlalchemy import select

from billing.services import reserve_lead_prices, void_lead_reservation
from exchange import clock
from exchange.actors import Actor
from exchange.auctions.calls import ANSWERED, PingOutcome, PostOutcome
from exchange.auctions.domain import Bid, Rules, Step, Waterfall, admissible, restore
from exchange.auctions.market import Deal, Market
from exchange.auctions.models import Auction, AuctionBid
from exchange.auctions.plan import Candidate, Plan
from exchange.buying.decisions import price_of
from exchange.buying.domain import BALANCE, CAP, REGISTER
from exchange.buying.models import Sale
from exchange.buying.register import Sold
from exchange.db import rows_by_id
from exchange.extensions import db
from exchange.leads.domain import FOR_SALE
from exchange.leads.models import Lead
from exchange.leads.transitions import Move, apply_moves
from exchange.leads.validation import lock_lead
from exchange.verticals.models import Vertical

AUCTIONEER = Actor.system("auction")
POST_REFUSED = "post_refused"


@dataclass(frozen=True)
class Settling:
    """One auction to settle: its plan, its pings' outcomes, the time it took to decide,
    and the caller's claim (``attempt``, see ``services``)."""

    plan: Plan
    outcomes: list[PingOutcome]
    duration_ms: int
    attempt: int


class Unreserved(RuntimeError):
    """The ledger refused a sale that the balances read under its locks allowed: a bug, and
    the transaction is rolled back."""


def settle(plan: Plan, outcomes: list[PingOutcome], duration_ms: int, attempt: int) -> list[int]:
    """One auction's ``settle_all``."""
    return settle_all([Settling(plan, outcomes, duration_ms, attempt)])[0]


def settle_all(batch: list[Settling]) -> list[list[int]]:
    """Write each auction's bids and make its sales; for each, in order, the sales to post.
    An auction no longer due, or claimed since by another attempt, is left alone."""
    auctions = rows_by_id(Auction, [each.plan.auction_id for each in batch], lock=True)
    todo = [each for each in batch if _held(auctions.get(each.plan.auction_id), "due", each.attempt)]
    leads = rows_by_id(Lead, [each.plan.lead_id for each in todo], lock=True)
    verticals = rows_by_id(Vertical, [auctions[each.plan.auction_id].vertical_id for each in todo])
    moves: list[Move] = []
    rows: list[dict] = []
    selling: list[tuple[Deal, Rules, list[Bid], list[dict]]] = []
    for each in todo:
        auction, lead = auctions[each.plan.auction_id], leads[each.plan.lead_id]
        by_order = {outcome.order_id: outcome for outcome in each.outcomes}
        own_rows = [_bid_row(auction.id, c, by_order.get(c.order_id)) for c in each.plan.candidates]
        rows += own_rows
        auction.started_at = auction.started_at or clock.now()
        auction.duration_ms = each.duration_ms
        bids = _bids(each.plan, by_order)
        if each.plan.rules is None or not bids:
            auction.rules = asdict(each.plan.rules) if each.plan.rules else None
            moves += _finish(auction, lead, each.plan.unsold_reason or "no bid")
        else:
            deal = Deal(auction, lead, verticals[auction.vertical_id])
            selling.append((deal, each.plan.rules, bids, own_rows))
    queued: dict[int, list[int]] = {}
    if selling:
        deals = [deal for deal, _, _, _ in selling]
        market = Market.lock(deals, sorted({bid.order_id for _, _, bids, _ in selling for bid in bids}))
        market.read(deals)
        decided = [(deal, _decide(deal, rules, bids, market), own) for deal, rules, bids, own in selling]
        made = [sale for _, (_, sales), _ in decided for sale in sales]
        db.session.add_all(made)
        db.session.flush()  # the sales' ids name their ledger transfers and the log
        for deal, (state, sales), own_rows in decided:
            fates = _write_log(deal.auction, state, {sale.buy_order_id: sale.id for sale in sales})
            for row in own_rows:
                row.update(fates.get(row["buy_order_id"], {}))
            queued[deal.auction.id] = [sale.id for sale in sales if sale.post_status == "queued"]
            moves += _ended(deal, state, sales)
        _reserve(made)
    if rows:  # once, with their results: one statement (executemany, no ids read back)
        db.session.execute(AuctionBid.__table__.insert(), rows)
    if moves:
        apply_moves(moves, AUCTIONEER)
    return [queued.get(each.plan.auction_id, []) for each in batch]


def _bids(plan: Plan, by_order: dict[int, PingOutcome]) -> list[Bid]:
    return plan.fixed_bids + [
        Bid(c.order_id, c.buyer_id, by_order[c.order_id].bid_minor, c.exclusive, c.rank_tenths)
        for c in plan.to_ping
        if c.order_id in by_order and by_order[c.order_id].status == ANSWERED
    ]


def _decide(deal: Deal, rules: Rules, bids: list[Bid], market: Market) -> tuple[Waterfall, list[Sale]]:
    """One auction's sales, on the market as it stands (and as they leave it)."""
    sold = market.sold(deal)
    state = Waterfall(bids, _rules_now(rules, sold))
    for bid in bids:
        if bid.buyer_id in sold.buyers:  # bought this consumer since the plan was read
            state.failed(bid, f"{REGISTER}: bought this consumer already")
    return state, fill(state, market, deal)


def _ended(deal: Deal, state: Waterfall, made: list[Sale]) -> list[Move]:
    """The auction's state once its sales are chosen: posting them, or done."""
    auction, lead = deal.auction, deal.lead
    if not made:
        promised = state.rules.min_payout_minor
        return _finish(
            auction, lead, f"no buyer pays the quoted {promised}" if promised else "no sale could be made"
        )
    if any(sale.post_status == "queued" for sale in made):
        auction.status = "posting"
        return []
    return _sold(auction, lead)


def _reserve(made: list[Sale]) -> None:
    """The sales' prices reserved, in one ledger write: all of them, the balances having
    been read under the accounts' locks."""
    if not all(reserve_lead_prices([price_of(sale) for sale in made])):
        raise Unreserved(f"the ledger refused a sale of {sorted({sale.auction_id for sale in made})}")


def fill(state: Waterfall, market: Market, deal: Deal) -> list[Sale]:
    """Choose, make each winner's sale or exclude it, and choose again until a round's
    winners all took their sales or no bid is left. The sales are not written yet."""
    made: list[Sale] = []
    while True:
        winners = state.choose().winners
        if not winners:
            return made
        refused = False
        for bid in winners:
            order = market.orders[bid.order_id]
            price = state.rules.price_of(bid.amount_minor)
            failure = market.cap_failure(order, price)
            if failure:
                state.failed(bid, f"{CAP}: {failure}")
            elif market.balance(order.buyer_id, deal.vertical.currency) < price:
                state.failed(bid, BALANCE)
            else:
                sale = _sale(bid, order.buyer_id, state.rules, market, deal)
                market.took(sale)
                state.sold_to(bid)
                made.append(sale)
                continue
            refused = True
        if not refused:
            return made


def _sale(bid: Bid, buyer_id: int, rules: Rules, market: Market, deal: Deal) -> Sale:
    vertical, lead = deal.vertical, deal.lead
    phone_hash, email_hash = deal.hashes
    return Sale(
        lead_id=lead.id,
        vertical_id=vertical.id,
        buy_order_id=bid.order_id,
        buyer_id=buyer_id,
        seller_id=lead.webmaster_id,
        auction_id=deal.auction.id,
        exclusive=bid.exclusive,
        currency=vertical.currency,
        price_minor=rules.price_of(bid.amount_minor),
        payout_minor=rules.payout_of(rules.price_of(bid.amount_minor)),
        status="pending",
        post_status="queued" if buyer_id in market.posts_to else "none",
        phone_hash=phone_hash,
        email_hash=email_hash,
        review_deadline=market.now + timedelta(seconds=vertical.review_window_seconds),
    )


def after_posts(auction_id: int, outcomes: list[PostOutcome], attempt: int) -> list[int]:
    """Record the posts' outcomes; each refused sale is undone (its reservation voided, its
    slot freed) and the next bids take its place. Returns the new sales to post."""
    auction = lock_auction(auction_id)
    if not _held(auction, "posting", attempt):
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
        deal = Deal(auction, lead, db.session.get(Vertical, auction.vertical_id))
        giving_back = {(sale.buyer_id, sale.currency) for sale, _ in refused}
        market = Market.lock([deal], sorted(by_order), giving_back=giving_back)
        for sale, error in refused:
            void_lead_reservation(price_of(sale))
            sale.status, sale.post_status, sale.post_error = "voided", "refused", error
            state.failed(by_order[sale.buy_order_id], f"{POST_REFUSED}: {error}"[:200])
        db.session.flush()
        market.read([deal])  # the voided sales' money, caps and slots given back
        made = fill(state, market, deal)
        db.session.add_all(made)
        db.session.flush()
        _reserve(made)
        rows = db.session.scalars(select(AuctionBid).where(AuctionBid.auction_id == auction.id)).all()
        fates = _write_log(auction, state, _pending_sales(auction.id))
        for row in rows:
            for name, value in fates.get(row.buy_order_id, {}).items():
                setattr(row, name, value)
    queued = [sale.id for sale in made if sale.post_status == "queued"]
    if not queued and (moves := _conclude(auction, lead)):
        apply_moves(moves, AUCTIONEER)
    return queued


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
    return [
        Bid(row.buy_order_id, row.buyer_id, row.bid_minor, row.exclusive, row.buyer_rank_tenths or 0)
        for row in rows
    ]


def lock_auction(auction_id: int) -> Auction | None:
    return db.session.scalar(
        select(Auction)
        .where(Auction.id == auction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _conclude(auction: Auction, lead: Lead) -> list[Move]:
    """Every post is done: the lead is sold if a sale stands, else unsold."""
    live = db.session.scalar(
        select(Sale.id).where(Sale.auction_id == auction.id, Sale.status == "pending").limit(1)
    )
    if live is None:
        return _finish(auction, lead, "every buyer refused the post")
    return _sold(auction, lead)


def _sold(auction: Auction, lead: Lead) -> list[Move]:
    """The auction done, sold; the lead's move (locked, ``lock_lead``: no other actor moved it)."""
    auction.status, auction.outcome, auction.finished_at = "done", "sold", clock.now()
    auction.claimed_until = None  # nothing left to hold
    return [Move(lead, "sell")] if lead.status == FOR_SALE else []


def _finish(auction: Auction, lead: Lead, reason: str) -> list[Move]:
    """The auction done, unsold; the lead's move (as ``_sold``)."""
    auction.status, auction.outcome, auction.finished_at = "done", "unsold", clock.now()
    auction.claimed_until = None  # nothing left to hold
    auction.unsold_reason = reason[:200]
    return [Move(lead, "leave_unsold", reason)] if lead.status == FOR_SALE else []


def _rules_now(rules: Rules, sold: Sold) -> Rules:
    """The plan's rules with the register as it stands under the lock."""
    taken = rules.slots if sold.exclusive else sold.slots_taken  # sold exclusively: sold out
    return replace(rules, slots_taken=taken, exclusive_allowed=taken == 0)


def _pending_sales(auction_id: int) -> dict[int, int]:
    """The auction's live sales: buy order id → sale id."""
    query = select(Sale.buy_order_id, Sale.id).where(Sale.auction_id == auction_id, Sale.status == "pending")
    return dict(db.session.execute(query).all())


def _write_log(auction: Auction, state: Waterfall, sales: dict[int, int]) -> dict[int, dict]:
    """The decision's input and steps; returns what each bid's row learns, by buy order:
    its fate, and its sale if it won (``sales``: the auction's live sales by buy order)."""
    auction.rules = asdict(state.rules)
    auction.steps = [asdict(step) for step in state.steps]
    _, dropped = admissible(state.bids, state.rules)
    failed = {step.order_ids[0]: step.reason for step in state.steps if step.kind == "failed"}
    sold = {bid.order_id for bid in state.sold}
    fates: dict[int, dict] = {}
    for bid in state.bids:
        if bid.order_id in sold:
            fates[bid.order_id] = {"result": "won", "sale_id": sales.get(bid.order_id)}
        elif bid.order_id in failed:
            fates[bid.order_id] = {"result": f"failed: {failed[bid.order_id]}"[:40]}
        else:
            fates[bid.order_id] = {"result": dropped.get(bid.order_id, "outbid")}
    return fates


def _bid_row(auction_id: int, candidate: Candidate, outcome: PingOutcome | None) -> dict:
    """A candidate's row of the auction log, as inserted (every column, for one executemany)."""
    row = {
        "auction_id": auction_id,
        "buy_order_id": candidate.order_id,
        "buyer_id": candidate.buyer_id,
        "pricing": candidate.pricing,
        "exclusive": candidate.exclusive,
        "skipped": candidate.skipped[:200] if candidate.skipped else None,
        "ping_status": None,
        "ping_error": None,
        "latency_ms": None,
        "bid_minor": None,
        "buyer_rank_tenths": candidate.rank_tenths,
        "result": None,
        "sale_id": None,
    }
    if candidate.skipped is None and candidate.pricing == "fixed":
        row["bid_minor"] = candidate.bid_minor
    elif outcome is not None:
        row["ping_status"], row["latency_ms"] = outcome.status, outcome.latency_ms
        row["ping_error"] = (outcome.error or "")[:200] or None
        row["bid_minor"] = outcome.bid_minor
    return row


def _held(auction: Auction | None, status: str, attempt: int) -> bool:
    """Whether the caller's claim (``attempt``) still holds the auction, in ``status``."""
    return auction is not None and auction.status == status and auction.attempts == attempt
