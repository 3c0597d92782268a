"""Jobs about offers. They take ids, do one unit of work, and commit."""

from __future__ import annotations

from exchange.db import commit
from exchange.jobs import job
from exchange.offers.funding import align_offers_with_funds


@job
def align_offers_job(advertiser_id: int, currency: str) -> str:
    paused, resumed = align_offers_with_funds(advertiser_id, currency)
    commit()
    return f"paused={paused} resumed={resumed}"
