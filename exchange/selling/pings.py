"""Ping-post in: a seller asks what a lead is worth before it sends the consumer's personal
data, and then posts it whole to sell it at that price or better (docs/exchange.md).

The quote is the auction run on what the ping tells (the vertical's non-personal fields
and the country), as it would run now: the buy orders whose filters the ping already
passes bid (fixed bids, and pinged buyers asked at once), and the seller is promised what
the best choice would pay it. A filter on what only validation knows (score, temperature)
cannot pass on a ping, so the quote is the cold lead's. When the lead is posted, its
auction runs again on the whole, validated lead, with the promise as its floor for the
seller: it sells at the quoted price or better, or not at all, and says why.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from exchange import clock
from exchange.auctions.calls import ANSWERED, PingTarget, make_client, ping_all
from exchange.auctions.domain import Bid, Rules, choose
from exchange.auctions.models import Auction
from exchange.auctions.plan import candidates_for
from exchange.auctions.runner import run_one
from exchange.buying.domain import LeadView
from exchange.buying.models import Sale
from exchange.buying.register import Sold
from exchange.db import commit
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.leads.checks import field_errors
from exchange.leads.models import Lead
from exchange.quality.services import seller_multipliers
from exchange.selling.intake import submit_to_vertical
from exchange.selling.models import SellerPing
from exchange.selling.validation import validate_exchange_lead
from exchange.verticals.domain import floor_for, personal_fields_of
from exchange.verticals.models import Vertical
from exchange.verticals.services import active_seller

PING_VALID_SECONDS = 60
COLDEST = "cold"


@dataclass(frozen=True)
class Quote:
    ping: SellerPing | None
    reason: str | None = None  # why no price (no buyer bids now)


def quote(seller_id: int, vertical_id: int, fields: dict) -> Quote:
    """Price a lead from its non-personal fields; a price is a promise for PING_VALID_SECONDS."""
    vertical = active_seller(seller_id, vertical_id)
    personal = personal_fields_of(vertical.fields, vertical.personal_fields) & set(fields)
    if personal:
        raise Invalid(
            "A ping carries no personal data.",
            fields={name: ["Personal: send it with the post."] for name in personal},
        )
    shown = [spec for spec in vertical.fields if spec["name"] in fields or spec.get("required")]
    partial = [
        dict(spec, required=False)
        for spec in shown
        if spec["name"] not in personal_fields_of(vertical.fields, vertical.personal_fields)
    ]
    errors = field_errors(partial, fields)
    unknown = set(fields) - {spec["name"] for spec in vertical.fields}
    errors.update({name: ["Not a field of this vertical."] for name in unknown})
    if errors:
        raise Invalid("The ping's fields do not match the vertical.", fields={"fields": errors})
    country = _country(vertical, fields)
    floor = floor_for(vertical.floors, country, COLDEST)
    if floor is None:
        return Quote(None, f"no buyer for {country or 'an unknown country'}")
    view = LeadView(
        country=country,
        fields=fields,
        score=None,
        temperature=None,
        age_seconds=0,
        region=fields.get("region"),
        postcode=fields.get("postcode"),
    )
    candidates = [c for c in candidates_for(vertical, view, Sold()) if c.skipped is None]
    rules = Rules(
        slots=vertical.slots,
        floor_minor=floor,
        margin_bps=vertical.margin_bps,
        margin_minor=vertical.margin_minor,
        quality_bps=seller_multipliers({(seller_id, vertical.id)})[seller_id, vertical.id],
    )
    bids = [
        Bid(c.order_id, c.buyer_id, c.bid_minor, c.exclusive, c.rank_tenths)
        for c in candidates
        if c.pricing == "fixed"
    ]
    bids += _pinged_bids(
        candidates,
        {
            "vertical_id": vertical.id,
            "country": country,
            "fields": fields,
            "floor_minor": floor,
            "currency": vertical.currency,
            "ping": True,
        },
    )
    winners = choose(bids, rules).winners
    price = sum(rules.payout_of(rules.price_of(bid.amount_minor)) for bid in winners)
    if price <= 0:
        return Quote(None, "no buyer bids on this lead now")
    ping = SellerPing(
        token="ping_" + secrets.token_urlsafe(18),
        vertical_id=vertical.id,
        seller_id=seller_id,
        fields=fields,
        country=country,
        currency=vertical.currency,
        price_minor=price,
        expires_at=clock.now() + timedelta(seconds=PING_VALID_SECONDS),
    )
    db.session.add(ping)
    db.session.flush()
    return Quote(ping)


@dataclass(frozen=True)
class PostOutcome:
    lead: Lead
    ping: SellerPing
    payout_minor: int  # what the sales pay the seller (0: not sold)
    reason: str | None


def post(seller_id: int, token: str, payload: dict, actor, idempotency_key: str | None) -> PostOutcome:
    """Sell a pinged lead whole: validated now, auctioned now with the promise as the least
    the seller earns. The caller has not committed anything yet; this commits."""
    ping = db.session.scalar(select(SellerPing).where(SellerPing.token == token).with_for_update())
    if ping is None or ping.seller_id != seller_id:
        raise NotFound("No such ping.")
    if ping.lead_id is not None:
        return _outcome(ping)  # posted already: the same answer
    if ping.expires_at <= clock.now():
        raise Conflict("The ping has expired; ping again for a new price.", code="ping_expired")
    mismatched = [name for name, value in ping.fields.items() if payload["fields"].get(name) != value]
    if mismatched:
        raise Invalid(
            "The post does not match its ping.",
            fields={"fields": {name: ["Not as pinged."] for name in mismatched}},
        )
    submission = submit_to_vertical(
        seller_id, ping.vertical_id, payload, actor, idempotency_key, enqueue=False
    )
    ping.lead_id = submission.lead.id
    lease = current_app.config["AUCTION_LEASE_SECONDS"]
    validate_exchange_lead(submission.lead.id, min_payout_minor=ping.price_minor, held_seconds=lease)
    commit()
    auction = db.session.scalar(select(Auction).where(Auction.lead_id == ping.lead_id))
    if auction is not None:
        run_one(current_app._get_current_object(), auction.id, auction.attempts)  # held: claim 1
    return _outcome(ping)


def _outcome(ping: SellerPing) -> PostOutcome:
    lead = db.session.get(Lead, ping.lead_id)
    db.session.refresh(lead)
    sales = db.session.scalars(
        select(Sale).where(Sale.lead_id == lead.id, Sale.status.in_(("pending", "approved")))
    )
    payout = sum(sale.payout_minor for sale in sales)
    auction = db.session.scalar(select(Auction).where(Auction.lead_id == lead.id))
    if lead.status == "rejected":
        reason = ", ".join(lead.reason_codes or [])
    elif payout == 0:
        reason = (auction.unsold_reason if auction else None) or "not sold"
    else:
        reason = None
    return PostOutcome(lead, ping, payout, reason)


def _pinged_bids(candidates, body: dict) -> list[Bid]:
    pinged = [c for c in candidates if c.pricing == "ping"]
    if not pinged:
        return []
    config = current_app.config

    async def ask():
        async with make_client(allow_private=config["AUCTION_ALLOW_PRIVATE_ADDRESSES"]) as client:
            loop = asyncio.get_running_loop()
            targets = [PingTarget(c.order_id, c.ping_url, c.max_bid_minor, c.exclusive) for c in pinged]
            return await ping_all(
                client,
                targets,
                body,
                deadline=loop.time() + config["AUCTION_DEADLINE_MS"] / 1000,
                per_buyer_s=config["AUCTION_PING_TIMEOUT_MS"] / 1000,
            )

    answers = {o.order_id: o for o in asyncio.run(ask()) if o.status == ANSWERED}
    return [
        Bid(c.order_id, c.buyer_id, answers[c.order_id].bid_minor, c.exclusive, c.rank_tenths)
        for c in pinged
        if c.order_id in answers
    ]


def _country(vertical: Vertical, fields: dict) -> str | None:
    name = next((spec["name"] for spec in vertical.fields if spec["type"] == "country"), None)
    value = fields.get(name) if name else None
    return value.upper() if isinstance(value, str) else None
