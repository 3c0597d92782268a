"""The exchange's sweep step: sales whose review window ended are approved, holds that
ended are released, exchange leads stuck in ``received`` are judged again, and auctions
nobody holds are started again (in the embedded mode; with Redis the auctioneer claims
them itself)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from exchange import clock
from exchange.auctions.models import Auction
from exchange.auctions.services import OPEN, RUN_JOB
from exchange.buying.decisions import approve_sale, due_for_approval, due_for_release, release_sale_hold
from exchange.db import StepBudget, in_own_transaction, requeue_each
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit, summary
from exchange.leads.domain import RECEIVED
from exchange.leads.models import Lead
from exchange.selling.intake import enqueue_exchange_validation

log = logging.getLogger(__name__)


def sweep_exchange() -> dict[str, int]:
    counts = {
        "sales_approved": 0,
        "sale_holds_released": 0,
        "exchange_leads_requeued": 0,
        "auctions_restarted": 0,
    }
    budget = StepBudget.from_config()
    for sale_id in budget.each(due_for_approval(budget.batch)):
        counts["sales_approved"] += in_own_transaction(_approve_at_deadline, sale_id)
    for sale_id in budget.each(due_for_release(budget.batch)):
        counts["sale_holds_released"] += in_own_transaction(release_sale_hold, sale_id)
    stuck_since = clock.now() - timedelta(seconds=current_app.config["STUCK_RECEIVED_SECONDS"])
    stuck = db.session.scalars(
        budget.limit(
            select(Lead.id)
            .where(Lead.status == RECEIVED, Lead.vertical_id.is_not(None), Lead.updated_at <= stuck_since)
            .order_by(Lead.id)
        )
    ).all()
    counts["exchange_leads_requeued"] = requeue_each(stuck, enqueue_exchange_validation)
    now = clock.now()
    orphans = db.session.scalars(
        budget.limit(
            select(Auction.id)
            .where(
                Auction.status.in_(OPEN), or_(Auction.claimed_until.is_(None), Auction.claimed_until < now)
            )
            .order_by(Auction.id)
        )
    ).all()
    counts["auctions_restarted"] = requeue_each(orphans, _restart)
    if budget.cut_short:
        log.info("sweep-exchange: out of time after %s; the rest waits for the next run", summary(counts))
    return counts


def _approve_at_deadline(sale_id: int) -> bool:
    return approve_sale(sale_id).status == "approved"


def _restart(auction_id: int) -> None:
    enqueue_after_commit(RUN_JOB, auction_id, queue="auctions", job_id=f"auction-{auction_id}")
