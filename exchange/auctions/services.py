"""Opening auctions and claiming them for an auctioneer. Services flush; callers commit.

A claim is numbered: ``attempts`` after the claim is the holder's number. Each of the
holder's writes (``settle``, ``after_posts``, ``renew``, ``release``) goes ahead only while
the auction still carries that number, so an auctioneer that outlived its lease (stalled,
not dead) cannot write over the one that took the auction over, nor release its claim."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update

from exchange import clock
from exchange.auctions.models import Auction
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.models import Lead

RUN_JOB = "exchange.auctions.jobs.run_auction_job"
OPEN = ("due", "posting")  # an auctioneer has work on it


def open_auction(lead: Lead, *, min_payout_minor: int = 0, held_seconds: float | None = None) -> Auction:
    """The lead's auction, due now. In the embedded mode it runs right after the commit;
    with Redis the auctioneer finds it in the database. ``held_seconds``: the caller claims
    it and runs it itself (a seller's post waits for its outcome)."""
    auction = Auction(
        lead_id=lead.id,
        vertical_id=lead.vertical_id,
        status="due",
        steps=[],
        min_payout_minor=min_payout_minor,
    )
    if held_seconds is not None:
        auction.claimed_until = clock.now() + timedelta(seconds=held_seconds)
        auction.attempts = 1
    db.session.add(auction)
    db.session.flush()
    enqueue_after_commit(RUN_JOB, auction.id, queue="auctions", job_id=f"auction-{auction.id}")
    return auction


def claim_due(limit: int, lease_seconds: float) -> list[tuple[int, int]]:
    """Take up to ``limit`` open auctions no other auctioneer holds (or whose holder's lease
    ran out: it died), oldest first, for ``lease_seconds``: (auction id, claim number).

    The rows are picked and locked in a CTE, run once. As ``IN (subquery)`` PostgreSQL may
    run the subquery again for each row it updates, each time skipping the rows the update
    has just locked: it claimed every open auction, whatever the limit."""
    now = clock.now()
    free = or_(Auction.claimed_until.is_(None), Auction.claimed_until < now)
    picked = (
        select(Auction.id)
        .where(Auction.status.in_(OPEN), free)
        .order_by(Auction.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    claimed = db.session.execute(
        update(Auction)
        .where(Auction.id == picked.c.id)
        .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=Auction.attempts + 1)
        .returning(Auction.id, Auction.attempts)
        .execution_options(synchronize_session=False)
    )
    return sorted((auction_id, attempt) for auction_id, attempt in claimed)


def claim(auction_id: int, lease_seconds: float) -> int | None:
    """Take one auction, if it is open and free: the claim's number."""
    now = clock.now()
    result = db.session.execute(
        update(Auction)
        .where(
            Auction.id == auction_id,
            Auction.status.in_(OPEN),
            or_(Auction.claimed_until.is_(None), Auction.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=Auction.attempts + 1)
        .returning(Auction.attempts)
        .execution_options(synchronize_session=False)
    )
    return result.scalar()


def renew(auction_id: int, attempt: int, lease_seconds: float) -> bool:
    """Extend the holder's lease (before its posts, which may take a while); False if the
    auction is no longer its own."""
    result = db.session.execute(
        update(Auction)
        .where(Auction.id == auction_id, Auction.attempts == attempt)
        .values(claimed_until=clock.now() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release(auction_id: int, attempt: int) -> None:
    """Give the claim back, if it is still the holder's."""
    db.session.execute(
        update(Auction)
        .where(Auction.id == auction_id, Auction.attempts == attempt)
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )
