"""A test postback: the URL a lead of the offer would use (the offer's override, else the
global one; the global one when no offer is named) filled with sample values, queued as a
job on ``postbacks`` and sent once through the same sender as real postbacks, so the
webmaster sees what its tracker answers before a lead arrives. The test and its answer
are kept in the webmaster's test log (``test_sends``, exchange/delivery/sample_sends.py),
never as a delivery: no lead, no money, no retry."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app

from exchange.db import commit
from exchange.delivery import sample_sends
from exchange.delivery.models import TestSend
from exchange.delivery.postbacks.domain import LeadFacts, postback_url
from exchange.delivery.postbacks.models import PostbackUrl
from exchange.delivery.postbacks.services import QUEUE, postback_url_of, require_joined
from exchange.delivery.sender import send
from exchange.errors import Conflict
from exchange.jobs import enqueue_after_commit

KIND = "postback"
LABEL = "test postback"

SAMPLE = LeadFacts(
    lead_id=0,
    offer_id=0,
    status="approved",
    click_id="test-click-id",
    subs=("test-sub1", "test-sub2", "test-sub3", "test-sub4", "test-sub5"),
    payout_minor=1000,
    currency="USD",
    reason_codes=(),
)


def job_id(test_send_id: int) -> str:
    return f"test-postback-{test_send_id}"


def queue_test_postback(webmaster_id: int, offer_id: int | None = None) -> TestSend:
    """Fill the URL now (as a real postback's is filled when its lead changes) and queue
    the test; another offer than one the webmaster joined is not found."""
    setting = _setting_for(webmaster_id, offer_id)
    if setting is None:
        raise Conflict("Save your postback URL first.", code="no_postback_url")
    facts = replace(SAMPLE, offer_id=offer_id or 0)
    url = postback_url(setting.url_template, facts, setting.status_map or {})
    sample = sample_sends.queue(webmaster_id, KIND, LABEL, url, offer_id)
    enqueue_after_commit(
        "exchange.delivery.postbacks.jobs.send_test_postback_job",
        sample.id,
        queue=QUEUE,
        job_id=job_id(sample.id),
    )
    return sample


def send_test_postback(test_send_id: int) -> str:
    """The job: one call, if the test is still to be sent; answers the test's state."""
    claimed = sample_sends.claim(test_send_id, KIND)
    url = claimed.url if claimed else None
    commit()
    if url is None:
        return "done"
    result = send(
        url,
        timeout=current_app.config["POSTBACK_TIMEOUT_SECONDS"],
        allow_private=current_app.config["POSTBACK_ALLOW_PRIVATE_ADDRESSES"],
    )
    state = sample_sends.record(test_send_id, KIND, result)
    commit()
    sample_sends.log_answer(job_id(test_send_id), result)
    return state


def _setting_for(webmaster_id: int, offer_id: int | None) -> PostbackUrl | None:
    if offer_id is None:
        return postback_url_of(webmaster_id, None)
    require_joined(webmaster_id, offer_id)
    return postback_url_of(webmaster_id, offer_id) or postback_url_of(webmaster_id, None)
