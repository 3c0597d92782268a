"""Webmaster postback jobs, on the ``postbacks`` queue: a lead's postback (job id
``postback-<delivery id>``) and the portal's test postback (``test-postback-<id>``, the id of
its row in ``test_sends``: exchange/delivery/sample_sends.py); and the periodic step that
queues again the postbacks that are due (``sweep-postbacks``)."""

from __future__ import annotations

from exchange.db import requeue_each
from exchange.delivery.postbacks.sample import send_test_postback
from exchange.delivery.postbacks.services import due_delivery_ids, enqueue_send, send_delivery
from exchange.jobs import job, summary


@job
def send_postback_job(delivery_id: int) -> str:
    return send_delivery(delivery_id)


@job
def send_test_postback_job(test_send_id: int) -> str:
    return send_test_postback(test_send_id)


def requeue_due_postbacks() -> dict[str, int]:
    """Postbacks whose retry time came, and those whose job was lost on the way."""
    return {"postbacks_due": requeue_each(due_delivery_ids(), enqueue_send)}


@job
def requeue_due_postbacks_job() -> str:
    return summary(requeue_due_postbacks())
