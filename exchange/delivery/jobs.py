"""Outbound jobs: webmaster postbacks (queue ``postbacks``, job id ``postback-<delivery id>``)
and advertiser lead deliveries (queue ``delivery``, job id ``deliver-lead-<lead id>``); the
portals' test buttons on the same queues (``test-postback-<id>``, ``test-lead-<id>``, the id
of the test's row in ``test_sends``: exchange/delivery/sample_sends.py)."""

from __future__ import annotations

from exchange.delivery.leads.sample import send_test_lead
from exchange.delivery.leads.services import deliver_lead
from exchange.delivery.postbacks.sample import send_test_postback
from exchange.delivery.postbacks.services import send_delivery
from exchange.jobs import task


@task
def send_postback_job(delivery_id: int) -> str:
    return send_delivery(delivery_id)


@task
def deliver_lead_job(lead_id: int) -> str:
    return deliver_lead(lead_id)


@task
def send_test_postback_job(test_send_id: int) -> str:
    return send_test_postback(test_send_id)


@task
def send_test_lead_job(test_send_id: int) -> str:
    return send_test_lead(test_send_id)
