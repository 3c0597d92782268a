"""A test postback: the webmaster's global URL template filled with sample values, sent
once through the same sender as real postbacks, so the webmaster can see what its tracker
answers before a lead arrives. Nothing is stored; the attempt is logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from exchange.delivery import domain
from exchange.delivery.sender import SendResult, send
from exchange.delivery.services import postback_url_of
from exchange.errors import Conflict

log = logging.getLogger(__name__)

SAMPLE = domain.LeadFacts(
    lead_id=0,
    offer_id=0,
    status="approved",
    click_id="test-click-id",
    subs=("test-sub1", "test-sub2", "test-sub3", "test-sub4", "test-sub5"),
    payout_minor=1000,
    currency="USD",
    reason_codes=(),
)


@dataclass(frozen=True)
class TestPostback:
    url: str
    result: SendResult

    @property
    def delivered(self) -> bool:
        return self.result.status_code is not None and 200 <= self.result.status_code < 300


def send_test_postback(webmaster_id: int) -> TestPostback:
    """Send the sample postback now (the one call a page makes while it waits: a person
    pressed the button and waits for the answer, bounded by the postback timeout)."""
    setting = postback_url_of(webmaster_id, None)
    if setting is None:
        raise Conflict("Save your postback URL first.", code="no_postback_url")
    url = domain.postback_url(setting.url_template, SAMPLE, setting.status_map or {})
    result = send(
        url,
        timeout=current_app.config["POSTBACK_TIMEOUT_SECONDS"],
        allow_private=current_app.config["POSTBACK_ALLOW_PRIVATE_ADDRESSES"],
    )
    log.info(
        "test postback for webmaster %s: %s in %s ms (%s)",
        webmaster_id,
        result.status_code,
        result.latency_ms,
        result.error or "ok",
    )
    return TestPostback(url, result)
