"""Reading the auction log, as each party may (docs/exchange.md, "The auction log"): staff
everything; the seller its lead's outcome and what it earns; each buyer its own bids and
why they won or lost, never another buyer's name or bid."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, select

from exchange import clock
from exchange.accounts.models import User
from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import Sale
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead

STAFF = ("admin", "moderator")


def auctions_for(user: User) -> Select:
    query = select(Auction)
    if user.role == "webmaster":
        return query.join(Lead, Lead.id == Auction.lead_id).where(Lead.webmaster_id == user.id)
    if user.role == "advertiser":
        mine = exists().where(AuctionBid.auction_id == Auction.id, AuctionBid.buyer_id == user.id)
        return query.where(mine)
    return query


def auction_for(user: User, auction_id: int) -> Auction:
    auction = db.session.scalar(auctions_for(user).where(Auction.id == auction_id))
    if auction is None:
        raise NotFound("No such auction.")
    return auction


def view_of(user: User, auction: Auction) -> dict:
    base = {
        "id": auction.id,
        "lead_id": auction.lead_id,
        "vertical_id": auction.vertical_id,
        "status": auction.status,
        "outcome": auction.outcome,
        "duration_ms": auction.duration_ms,
        "created_at": _iso(auction.created_at),
        "finished_at": _iso(auction.finished_at),
    }
    sales = list(db.session.scalars(select(Sale).where(Sale.auction_id == auction.id).order_by(Sale.id)))
    bids = list(
        db.session.scalars(
            select(AuctionBid).where(AuctionBid.auction_id == auction.id).order_by(AuctionBid.id)
        )
    )
    if user.role in STAFF:
        return {
            **base,
            "unsold_reason": auction.unsold_reason,
            "rules": auction.rules,
            "steps": auction.steps,
            "bids": [_bid(row) | {"buyer_id": row.buyer_id} for row in bids],
            "sales": [
                _sale(sale) | {"buyer_id": sale.buyer_id, "price_minor": sale.price_minor} for sale in sales
            ],
        }
    if user.role == "webmaster":
        live = [sale for sale in sales if sale.status in ("pending", "approved")]
        return {
            **base,
            "unsold_reason": auction.unsold_reason,
            "sales_count": len(live),
            "payout_minor": sum(sale.payout_minor for sale in live),
            # its quality multiplier on the vertical in this auction (exchange/quality)
            "multiplier_bps": (auction.rules or {}).get("quality_bps", 10_000),
        }
    own = [row for row in bids if row.buyer_id == user.id]
    return {**base, "bids": [_bid(row) | {"why": why_lost(row)} for row in own]}


def why_lost(row: AuctionBid) -> str | None:
    """A buyer's own reason in words: outbid, under the floor, its cap, its balance, ..."""
    if row.result == "won":
        return None
    if row.skipped:
        return f"did not bid: {row.skipped}"
    if row.ping_status and row.ping_status != "answered":
        return f"no bid: {row.ping_status.replace('_', ' ')}"
    return {"outbid": "outbid", "floor": "under the floor", "cost": "under the platform's margin"}.get(
        row.result or "", row.result
    )


def _bid(row: AuctionBid) -> dict:
    return {
        "buy_order_id": row.buy_order_id,
        "pricing": row.pricing,
        "exclusive": row.exclusive,
        "skipped": row.skipped,
        "ping_status": row.ping_status,
        "ping_error": row.ping_error,
        "latency_ms": row.latency_ms,
        "bid_minor": row.bid_minor,
        # the buyer's share refused or returned then: the lower wins equal bids (exchange/quality)
        "buyer_rank_tenths": row.buyer_rank_tenths,
        "result": row.result,
        "sale_id": row.sale_id,
    }


def _sale(sale: Sale) -> dict:
    return {
        "id": sale.id,
        "buy_order_id": sale.buy_order_id,
        "exclusive": sale.exclusive,
        "payout_minor": sale.payout_minor,
        "status": sale.status,
        "post_status": sale.post_status,
        "post_error": sale.post_error,
    }


def _iso(moment: datetime | None) -> str | None:
    return clock.isoformat(moment) if moment else None
