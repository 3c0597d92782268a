"""Jobs about payouts. They take ids, re-read state, do one unit of work, and commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from billing.payouts.connect import pay_out, transfer_order
from billing.payouts.schedule import ScheduledRun, due_balances, make_scheduled_payout
from billing.payouts.services import enqueue_connect_transfer, stuck_connect_payout_ids
from exchange import clock
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.jobs import job

log = logging.getLogger(__name__)


@job
def connect_payout_job(payout_id: int) -> str:
    """Send a Stripe Connect payout (job id ``payout-<id>``). Nothing for a payout that
    is no longer ``requested``; a Stripe error that is not final raises, for rq's retries."""
    order = transfer_order(payout_id)
    db.session.rollback()  # read only so far: hold no transaction (no SQLite write lock) while Stripe answers
    if order is None:
        log.info("payout-%s: nothing to send", payout_id)
        return "nothing to do"
    outcome = pay_out(order)
    commit()
    log.info("payout-%s: %s", payout_id, outcome)
    return outcome


def run_scheduled_payouts(today: date | None = None) -> ScheduledRun:
    """Every scheduled payout due today, each in its own transaction (its job, if it
    goes by Stripe Connect, is dispatched by that commit)."""
    today = today or clock.now().date()
    run = ScheduledRun()
    for webmaster_id, currency in due_balances(today):
        try:
            made = make_scheduled_payout(webmaster_id, currency, today)
            commit()
        except IntegrityError:  # another run made this period's payout meanwhile
            rollback()
            made = "already"
        except AppError as error:  # the balance moved under us: the next run sees it
            rollback()
            log.warning("scheduled payout for webmaster %s in %s: %s", webmaster_id, currency, error.message)
            continue
        if made == "already":
            run.already_paid_out += 1
        elif made == "below_threshold":
            run.below_threshold += 1
        elif not isinstance(made, str):
            run.requested.append(made.id)
    return run


@dataclass
class PayoutsReport:
    scheduled: ScheduledRun
    requeued: int

    def __str__(self) -> str:
        return f"scheduled: {self.scheduled}; connect payouts queued again={self.requeued}"


def requeue_stuck_connect_payouts() -> int:
    seconds = current_app.config["PAYOUT_STUCK_SECONDS"]
    ids = stuck_connect_payout_ids(clock.now() - timedelta(seconds=seconds))
    for payout_id in ids:
        enqueue_connect_transfer(payout_id)
    commit()  # dispatches them
    return len(ids)


@job
def payouts_job() -> str:
    """Periodic: scheduled payouts due today, and Stripe Connect payouts whose job was lost."""
    report = PayoutsReport(run_scheduled_payouts(), requeue_stuck_connect_payouts())
    log.info("payouts: %s", report)
    return str(report)
