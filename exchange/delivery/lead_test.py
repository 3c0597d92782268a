"""A test lead from the advertiser's page: a synthetic lead marked ``"test": true``, queued
as a job on ``delivery`` and POSTed once, signed like a real one, to the endpoint a lead of
the offer (or of no particular offer) would go to. A decision in the answer is recorded
and shown, never applied. The test and its answer are kept in the advertiser's test log
(exchange/delivery/sample_sends.py), never as a delivery: no lead, no money, no retry.

(The API's ``POST /api/v1/delivery-settings/test`` still answers in the call itself, with
``exchange/delivery/settings.py``'s ``send_test_lead``.)"""

from __future__ import annotations

import logging

from exchange import clock
from exchange.db import commit
from exchange.delivery import sample_sends, webhook
from exchange.delivery.lead_delivery import QUEUE
from exchange.delivery.models import DeliverySetting
from exchange.delivery.sender import SendResult
from exchange.delivery.settings import post_signed, require_own_offer, setting_for, setting_of
from exchange.errors import Conflict
from exchange.jobs import enqueue_after_commit
from exchange.notifications import Notification

log = logging.getLogger(__name__)

KIND = "test_lead"
LABEL = "test lead"


def job_id(notification_id: int) -> str:
    return f"test-lead-{notification_id}"


def queue_test_lead(advertiser_id: int, offer_id: int | None = None) -> Notification:
    """Queue the test; another advertiser's offer is not found."""
    setting = _setting(advertiser_id, offer_id)
    if setting is None:
        raise Conflict("Save your endpoint URL first.", code="no_delivery_url")
    note = sample_sends.queue(advertiser_id, KIND, LABEL, offer_id=offer_id, url=setting.url)
    from exchange.delivery.tasks import send_test_lead_job

    enqueue_after_commit(send_test_lead_job, note.id, queue=QUEUE, job_id=job_id(note.id))
    return note


def send_test_lead(notification_id: int) -> str:
    """The job: one signed POST, if the test is still to be sent, to the endpoint and with
    the secret in force now; answers the test's state."""
    claimed = sample_sends.claim(notification_id, KIND)
    if claimed is None:
        commit()
        return "done"
    offer_id = claimed.data.get("offer_id")
    setting = _setting(claimed.user_id, offer_id)
    url, secret = (setting.url, setting.signing_secret) if setting else (None, None)
    if url is not None:
        claimed.data = {**claimed.data, "url": url}
    commit()
    if url is None:
        result = SendResult(None, 0, "no delivery URL any more", "")
    else:
        payload = webhook.sample_payload(offer_id, clock.now())
        result = post_signed(
            url, secret, webhook.body_of(webhook.TEST_EVENT, payload, test=True), webhook.TEST_EVENT
        )
    decision = webhook.parse_decision(result.status_code, result.body)
    state = sample_sends.record(notification_id, KIND, LABEL, result, decision=decision.action)
    commit()
    log.info(
        "%s: %s in %s ms (%s)",
        job_id(notification_id),
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
