"""An auction's claim is numbered (exchange/auctions/services.py): an auctioneer that
outlived its lease — stalled, not dead — writes nothing over the one that took the auction
over, and cannot give back that one's claim."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from exchange import clock
from exchange.auctions.models import Auction
from exchange.auctions.plan import prepare
from exchange.auctions.runner import run_one
from exchange.auctions.services import claim, claim_due, release, renew
from exchange.auctions.settle import settle
from exchange.buying.models import Sale
from exchange.db import commit
from exchange.extensions import db
from tests.exchange_factories import make_buy_order, make_vertical
from tests.factories import fund, make_user
from tests.services.test_exchange_races import for_sale, sellers_on


def lease_runs_out(auction_id: int) -> None:
    db.session.execute(
        update(Auction)
        .where(Auction.id == auction_id)
        .values(claimed_until=clock.now() - timedelta(seconds=1))
    )
    commit()


def test_a_holder_whose_lease_ran_out_cannot_settle_renew_or_release(app, ctx):
    vertical = make_vertical(slots=1)
    (seller,) = sellers_on(vertical, 1)
    buyer = make_user("advertiser")
    fund(buyer, 100_000)
    make_buy_order(buyer, vertical, bid_minor=2000)
    auction_id = for_sale(seller, vertical.id, 700)

    stalled = claim(auction_id, lease_seconds=30)
    commit()
    assert claim(auction_id, lease_seconds=30) is None, "held: nobody else takes it"
    plan = prepare(auction_id)
    commit()
    lease_runs_out(auction_id)
    taken_over = claim(auction_id, lease_seconds=30)
    commit()

    assert (stalled, taken_over) == (1, 2)
    assert settle(plan, [], 5, stalled) == []
    assert renew(auction_id, stalled, 30) is False
    release(auction_id, stalled)
    commit()
    auction = db.session.get(Auction, auction_id)
    db.session.refresh(auction)
    assert auction.status == "due" and auction.claimed_until is not None, "still the new holder's"
    assert db.session.scalar(select(Sale.id).where(Sale.auction_id == auction_id)) is None

    run_one(app, auction_id, taken_over)

    db.session.refresh(auction)
    assert (auction.status, auction.outcome, auction.claimed_until) == ("done", "sold", None)
    assert len(db.session.scalars(select(Sale).where(Sale.auction_id == auction_id)).all()) == 1


def test_claim_due_takes_at_most_its_limit_oldest_first_and_skips_those_held(ctx):
    vertical = make_vertical(slots=1)
    (seller,) = sellers_on(vertical, 1)
    auction_ids = [for_sale(seller, vertical.id, 800 + n) for n in range(6)]

    first = claim_due(2, lease_seconds=30)
    commit()
    second = claim_due(3, lease_seconds=30)
    commit()

    assert first == [(auction_ids[0], 1), (auction_ids[1], 1)]
    assert second == [(auction_id, 1) for auction_id in auction_ids[2:5]]
