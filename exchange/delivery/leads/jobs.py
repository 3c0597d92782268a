"""Lead delivery jobs, on the ``delivery`` queue: an accepted lead to its advertiser (job id
``deliver-lead-<lead id>``) and the portal's test lead (``test-lead-<id>``, the id of its row in
``test_sends``: exchange/delivery/sample_sends.py); and the periodic step that queues again
the deliveries that are due (``sweep-deliveries``)."""

from __future__ import annotations

from exchange.db import requeue_each
from exchange.delivery.leads.answers import apply_answer
from exchange.delivery.leads.sample import send_test_lead
from exchange.delivery.leads.services import deliver_lead, due_lead_ids, enqueue_lead_delivery
from exchange.jobs import job, summary


@job
def deliver_lead_job(lead_id: int) -> str:
    return deliver_lead(lead_id, apply_answer)


@job
def send_test_lead_job(test_send_id: int) -> str:
    return send_test_lead(test_send_id)


def requeue_due_deliveries() -> dict[str, int]:
    """Lead deliveries whose retry time came, and those whose job was lost on the way."""
    return {"deliveries_due": requeue_each(due_lead_ids(), enqueue_lead_delivery)}


@job
def requeue_due_deliveries_job() -> str:
    return summary(requeue_due_deliveries())
