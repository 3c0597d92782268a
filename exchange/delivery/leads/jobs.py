"""Lead delivery jobs, on the ``delivery`` queue: an accepted lead to its advertiser (job id
``deliver-lead-<lead id>``) and the portal's test lead (``test-lead-<id>``, the id of its row in
``test_sends``: exchange/delivery/sample_sends.py)."""

from __future__ import annotations

from exchange.delivery.leads.answers import apply_answer
from exchange.delivery.leads.sample import send_test_lead
from exchange.delivery.leads.services import deliver_lead
from exchange.jobs import job


@job
def deliver_lead_job(lead_id: int) -> str:
    return deliver_lead(lead_id, apply_answer)


@job
def send_test_lead_job(test_send_id: int) -> str:
    return send_test_lead(test_send_id)
