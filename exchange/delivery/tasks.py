"""Jobs that send webmaster postbacks (queue ``postbacks``, job id ``postback-<delivery id>``)."""

from __future__ import annotations

from exchange.delivery.services import send_delivery
from exchange.jobs import task


@task
def send_postback_job(delivery_id: int) -> str:
    return send_delivery(delivery_id)
