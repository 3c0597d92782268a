"""A test lead from the advertiser's page: a synthetic lead marked ``"test": true``, queued
as a job on ``delivery`` and POSTed once, signed like a real one, to the endpoint a lead of
the offer (or of no particular offer) would go to. A decision in the answer is recorded
and shown, never applied. The test and its answer are kept in the advertiser's test log
(``test_sends``, exchange/delivery/sample_sends.py), never as a delivery: no lead, no
money, no retry. The page's button and the API's ``POST /api/v1/delivery-settings/test``
both queue it here."""

from __future__ import annotations

import logging

from exchange import clock
from exchange.db import commit
from exchange.delivery import sample_sends, webhook
from exchange.delivery.lead_delivery import QUEUE
from exchange.delivery.models import DeliverySetting, TestSend
from exchange.delivery.sender import SendResult
from exchange.delivery.settings import post_signed, require_own_offer, setting_for, setting_of
from exchange.errors import Conflict
from exchange.jobs import enqueue_after_commit

log = logging.getLogger(__name__)

KIND = "lead"
LABEL = "test lead"


def job_id(test_send_id: int) -> str:
    return f"test-lead-{test_send_id}"


def queue_test_lead(advertiser_id: int, offer_id: int | None = None) -> TestSend:
    """Queue the test; another advertiser's offer is not found."""
    setting = _setting(advertiser_id, offer_id)
    if setting is None:
        raise Conflict("Save your endpoint URL first.", code="no_delivery_url")
    sample = sample_sends.queue(advertiser_id, KIND, LABEL, setting.url, offer_id)
    from exchange.delivery.tasks import send_test_lead_job

    enqueue_after_commit(send_test_lead_job, sample.id, queue=QUEUE, job_id=job_id(sample.id))
    return sample


def send_test_lead(test_send_id: int) -> str:
    """The job: one signed POST, if the test is still to be sent, to the endpoint and with
    the secret in force now; answers the test's state."""
    claimed = sample_sends.claim(test_send_id, KIND)
    if claimed is None:
        commit()
        return "done"
    offer_id = claimed.offer_id
    setting = _setting(claimed.owner_user_id, offer_id)
    url, secret = (setting.url, setting.signing_secret) if setting else (None, None)
    if url is not None:
        claimed.url = url
    commit()
    if url is None:
        result = SendResult(None, 0, "no delivery URL any more", "")
    else:
        payload = webhook.sample_payload(offer_id, clock.now())
        result = post_signed(
            url, secret, webhook.body_of(webhook.TEST_EVENT, payload, test=True), webhook.TEST_EVENT
        )
    decision = webhook.parse_decision(result.status_code, result.body)
    state = sample_sends.record(test_send_id, KIND, result, decision=decision.action)
    commit()
    log.info(
        "%s: %s in %s ms (%s)",
        job_id(test_send_id),
        result.status_code,
        result.latency_ms,
        result.error or "ok",
    )
    return state


def _setting(advertiser_id: int, offer_id: int | None) -> DeliverySetting | None:
    if offer_id is None:
        return setting_of(advertiser_id, None)
    require_own_offer(advertiser_id, offer_id)
    return setting_for(advertiser_id, offer_id)
