"""The exchange's sweep step: sales whose review window ended are approved, holds that
ended are released, exchange leads stuck in ``received`` are judged again, and auctions
nobody holds are started again (in the embedded mode; with Redis the auctioneer claims
them itself)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from exchange import clock
from exchange.auctions.models import Auction
from exchange.auctions.services import OPEN, RUN_JOB
from exchange.buying.decisions import approve_sale, due_for_approval, due_for_release, release_sale_hold
from exchange.db import in_own_transaction, requeue_each
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.domain import RECEIVED
from exchange.leads.models import Lead
from exchange.selling.intake import enqueue_exchange_validation


def sweep_exchange() -> dict[str, int]:
    counts = {
        "sales_approved": 0,
        "sale_holds_released": 0,
        "exchange_leads_requeued": 0,
        "auctions_restarted": 0,
    }
    for sale_id in due_for_approval():
        counts["sales_approved"] += in_own_transaction(_approve_at_deadline, sale_id)
    for sale_id in due_for_release():
        counts["sale_holds_released"] += in_own_transaction(release_sale_hold, sale_id)
    stuck_since = clock.now() - timedelta(seconds=current_app.config["STUCK_RECEIVED_SECONDS"])
    stuck = db.session.scalars(
        select(Lead.id).where(
            Lead.status == RECEIVED, Lead.vertical_id.is_not(None), Lead.updated_at <= stuck_since
        )
    ).all()
    counts["exchange_leads_requeued"] = requeue_each(stuck, enqueue_exchange_validation)
    now = clock.now()
    orphans = db.session.scalars(
        select(Auction.id).where(
            Auction.status.in_(OPEN), or_(Auction.claimed_until.is_(None), Auction.claimed_until < now)
        )
    ).all()
    counts["auctions_restarted"] = requeue_each(orphans, _restart)
    return counts


def _approve_at_deadline(sale_id: int) -> bool:
    return approve_sale(sale_id).status == "approved"


def _restart(auction_id: int) -> None:
    enqueue_after_commit(RUN_JOB, auction_id, queue="auctions", job_id=f"auction-{auction_id}")
