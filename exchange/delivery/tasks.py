"""Outbound jobs: webmaster postbacks (queue ``postbacks``, job id ``postback-<delivery id>``)
and advertiser lead deliveries (queue ``delivery``, job id ``deliver-lead-<lead id>``)."""

from __future__ import annotations

from exchange.delivery.lead_delivery import deliver_lead
from exchange.delivery.services import send_delivery
from exchange.jobs import task


@task
def send_postback_job(delivery_id: int) -> str:
    return send_delivery(delivery_id)


@task
def deliver_lead_job(lead_id: int) -> str:
    return deliver_lead(lead_id)
