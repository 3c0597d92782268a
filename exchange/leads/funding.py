"""Ask for waiting leads to be funded once money has arrived."""

from __future__ import annotations

from exchange.jobs import enqueue_after_commit


def enqueue_funding(advertiser_id: int, currency: str) -> None:
    from exchange.leads.jobs import fund_waiting_leads_job

    enqueue_after_commit(
        fund_waiting_leads_job,
        advertiser_id,
        currency,
        queue="billing",
        job_id=f"fund-waiting-{advertiser_id}-{currency}",
    )
