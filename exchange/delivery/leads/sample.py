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
from exchange.delivery import sample_sends
from exchange.delivery.leads import domain as webhook
from exchange.delivery.leads.models import DeliverySetting
from exchange.delivery.leads.services import QUEUE
from exchange.delivery.leads.settings import post_signed, require_own_offer, setting_for, setting_of
from exchange.delivery.models import TestSend
from exchange.errors import Conflict, NotFound
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
    enqueue_after_commit(
        "exchange.delivery.leads.jobs.send_test_lead_job", sample.id, queue=QUEUE, job_id=job_id(sample.id)
    )
    return sample


def send_test_lead(test_send_id: int) -> str:
    """The job: one signed POST, if the test is still to be sent, to the endpoint and with
    the secret in force now; answers the test's state. A test that can no longer be sent
    (the offer is not the advertiser's any more, the endpoint was removed) ends with the
    reason as its error, instead of waiting for ever."""
    claimed = sample_sends.claim(test_send_id, KIND)
    if claimed is None:
        commit()
        return "done"
    offer_id = claimed.offer_id
    try:
        setting = _setting(claimed.owner_user_id, offer_id)
    except NotFound as gone:
        return _not_sent(test_send_id, f"not sent: {gone.message}")
    if setting is None or setting.url is None:
        return _not_sent(test_send_id, "not sent: no delivery URL any more")
    url, secret = setting.url, setting.signing_secret
    claimed.url = url
    commit()
    payload = webhook.sample_payload(offer_id, clock.now())
    result = post_signed(
        url, secret, webhook.body_of(webhook.TEST_EVENT, payload, test=True), webhook.TEST_EVENT
    )
    decision = webhook.parse_decision(result.status_code, result.body)
    state = sample_sends.record(test_send_id, KIND, result, decision=decision.action)
    commit()
    sample_sends.log_answer(job_id(test_send_id), result)
    return state


def _not_sent(test_send_id: int, why: str) -> str:
    state = sample_sends.give_up(test_send_id, KIND, why)
    commit()
    log.info("%s: %s", job_id(test_send_id), why)
    return state


def _setting(advertiser_id: int, offer_id: int | None) -> DeliverySetting | None:
    if offer_id is None:
        return setting_of(advertiser_id, None)
    require_own_offer(advertiser_id, offer_id)
    return setting_for(advertiser_id, offer_id)
