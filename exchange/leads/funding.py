"""Ask for waiting leads to be funded once money has arrived (billing announces it: billing/events.py)."""

from __future__ import annotations

from billing.events import FundsChanged
from exchange.jobs import enqueue_after_commit


def enqueue_funding(advertiser_id: int, currency: str) -> None:
    enqueue_after_commit(
        "exchange.leads.jobs.fund_waiting_leads_job",
        advertiser_id,
        currency,
        queue="billing",
        job_id=f"fund-waiting-{advertiser_id}-{currency}",
    )


def fund_when_money_arrives(event: FundsChanged) -> None:
    """Listens to billing's ``FundsChanged``: money in funds the waiting leads, oldest first
    (the job then lets the advertiser's offers follow the new balance)."""
    if event.arrived:
        enqueue_funding(event.advertiser_id, event.currency)
