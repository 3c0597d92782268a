"""The auctions' jobs. With Redis, auctions are not rq jobs: the auctioneer claims them from
the database (``flask exchange auctioneer``); this job runs one in the embedded mode."""

from __future__ import annotations

from flask import current_app

from exchange.auctions.runner import run_one
from exchange.auctions.services import claim
from exchange.db import commit
from exchange.jobs import job


@job
def run_auction_job(auction_id: int) -> None:
    attempt = claim(auction_id, current_app.config["AUCTION_LEASE_SECONDS"])
    if attempt is None:
        return  # running elsewhere, or done
    commit()
    run_one(current_app._get_current_object(), auction_id, attempt)
