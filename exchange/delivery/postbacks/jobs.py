"""Webmaster postback jobs, on the ``postbacks`` queue: a lead's postback (job id
``postback-<delivery id>``) and the portal's test postback (``test-postback-<id>``, the id of
its row in ``test_sends``: exchange/delivery/sample_sends.py)."""

from __future__ import annotations

from exchange.delivery.postbacks.sample import send_test_postback
from exchange.delivery.postbacks.services import send_delivery
from exchange.jobs import job


@job
def send_postback_job(delivery_id: int) -> str:
    return send_delivery(delivery_id)


@job
def send_test_postback_job(test_send_id: int) -> str:
    return send_test_postback(test_send_id)
