"""Sending webmaster postbacks to a real local HTTP server: retries with backoff driven by
the sweep, every attempt logged, never sent twice, private addresses refused when not allowed."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from exchange.db import commit
from exchange.delivery.postbacks.jobs import send_postback_job
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery
from exchange.delivery.postbacks.services import set_postback_url
from exchange.delivery.sender import refusal
from exchange.extensions import db
from exchange.periodic import sweep
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user
from tests.integration.helpers import submit
from tests.tracker_server import Tracker


@pytest.fixture(autouse=True)
def lead_left_received(app, monkeypatch):
    """The sweep here is for postbacks: the leads' step does not validate the received lead
    again while the test's clock runs on (its own postbacks would join the tracker's count)."""
    monkeypatch.setitem(app.config, "STUCK_RECEIVED_SECONDS", 86400)


class Setup:
    """A webmaster with a global postback URL to ``tracker`` and one received lead whose
    postback job was lost on the way (so only the sweep can send it)."""

    def __init__(self, tracker: Tracker, template: str = "/pb?lead={lead_id}&st={status}&s1={sub1}"):
        advertiser, self.webmaster = make_user("advertiser"), make_user("webmaster")
        self.offer = make_offer(advertiser)
        make_join(self.webmaster, self.offer)
        set_postback_url(self.webmaster.id, None, tracker.base + template, {"received": "new"})
        commit()
        self.lead_id = submit(self.webmaster, self.offer, lead_fields())
        self.delivery_id = db.session.scalar(
            select(PostbackDelivery.id).where(PostbackDelivery.lead_id == self.lead_id)
        )

    def delivery(self) -> PostbackDelivery:
        return db.session.scalar(
            select(PostbackDelivery)
            .where(PostbackDelivery.id == self.delivery_id)
            .execution_options(populate_existing=True)
        )

    def attempts(self) -> list[PostbackAttempt]:
        return list(
            db.session.scalars(
                select(PostbackAttempt)
                .where(PostbackAttempt.delivery_id == self.delivery_id)
                .order_by(PostbackAttempt.number)
            )
        )


def test_a_tracker_failing_twice_gets_the_postback_on_the_third_attempt(client, ctx, frozen_clock):
    with Tracker([500, 500, 200]) as tracker:
        setup = Setup(tracker)
        start = frozen_clock.now
        assert tracker.requests == []  # the job was lost: the sweep finds the due delivery

        sweep()  # attempt 1: HTTP 500, next in 30 s
        sweep()  # not due yet
        assert len(tracker.requests) == 1
        assert setup.delivery().next_attempt_at == start + timedelta(seconds=30)

        frozen_clock.advance(seconds=29)
        sweep()
        assert len(tracker.requests) == 1
        frozen_clock.advance(seconds=1)
        sweep()  # attempt 2: HTTP 500, next in 2 minutes
        assert len(tracker.requests) == 2

        frozen_clock.advance(seconds=119)
        sweep()
        assert len(tracker.requests) == 2
        frozen_clock.advance(seconds=1)
        sweep()  # attempt 3: HTTP 200
        delivered_at = frozen_clock.now

        frozen_clock.advance(days=2)
        sweep()  # (validates the lead, which now has other status changes to report)
        send_postback_job(setup.delivery_id)  # a duplicate job changes nothing
        requests = list(tracker.requests)

    this_change = [target for target in requests if "st=new" in target]
    assert this_change == [f"/pb?lead={setup.lead_id}&st=new&s1="] * 3
    delivery = setup.delivery()
    assert (delivery.state, delivery.attempts, delivery.delivered_at) == ("delivered", 3, delivered_at)
    assert delivery.next_attempt_at is None
    attempts = setup.attempts()
    assert [(a.number, a.status_code, a.error) for a in attempts] == [
        (1, 500, "HTTP 500"),
        (2, 500, "HTTP 500"),
        (3, 200, None),
    ]
    assert [a.at - start for a in attempts] == [timedelta(seconds=s) for s in (0, 30, 150)]
    assert all(a.response_excerpt == "ok" and a.latency_ms >= 0 for a in attempts)

    key = make_key(setup.webmaster)
    page = client.get(f"/api/v1/postbacks?lead_id={setup.lead_id}", headers=auth(key)).get_json()
    ids = [item["id"] for item in page["items"]]
    assert ids == sorted(ids, reverse=True) and setup.delivery_id == ids[-1]  # newest first
    shown = page["items"][-1]
    assert shown["state"] == "delivered" and shown["attempts"] == 3
    assert [(a["number"], a["status_code"]) for a in shown["attempt_log"]] == [(1, 500), (2, 500), (3, 200)]


def test_a_tracker_that_never_answers_2xx_fails_after_six_attempts(ctx, frozen_clock):
    with Tracker([503]) as tracker:
        setup = Setup(tracker)
        for wait in (0, 30, 120, 600, 3600, 21600, 86400):
            frozen_clock.advance(seconds=wait)
            sweep()
        count = len([target for target in tracker.requests if "st=new" in target])

    assert count == 6
    delivery = setup.delivery()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 6, None)
    assert [a.status_code for a in setup.attempts()] == [503] * 6


def test_two_jobs_for_one_delivery_send_it_once(ctx, frozen_clock):
    with Tracker([200]) as tracker:
        setup = Setup(tracker)
        assert send_postback_job(setup.delivery_id) == "delivered"
        assert send_postback_job(setup.delivery_id) == "delivered"
        count = len(tracker.requests)
    assert count == 1
    assert len(setup.attempts()) == 1


def test_a_claimed_delivery_is_left_alone_by_another_job(ctx, frozen_clock):
    """A job that claimed the delivery and is still waiting for the tracker pushed its
    next attempt past the timeout: a second job (or the sweep) finds it not due."""
    from exchange.delivery.postbacks.services import _claim

    with Tracker([200]) as tracker:
        setup = Setup(tracker)
        url, number = _claim(setup.delivery_id)
        commit()
        assert url.startswith(tracker.base) and number == 1
        assert send_postback_job(setup.delivery_id) == "pending"
        sweep()
        count = len(tracker.requests)
    assert count == 0
    assert setup.attempts() == []


def test_a_redirect_is_not_followed(ctx, frozen_clock):
    with Tracker([302]) as tracker:
        setup = Setup(tracker)
        sweep()
        requests = list(tracker.requests)
    assert len(requests) == 1  # /elsewhere was never asked for
    (attempt,) = setup.attempts()
    assert (attempt.status_code, attempt.error) == (302, "redirect not followed")
    assert setup.delivery().state == "pending"


def test_private_addresses_are_refused_unless_allowed(app, ctx, frozen_clock, monkeypatch):
    monkeypatch.setitem(app.config, "POSTBACK_ALLOW_PRIVATE_ADDRESSES", False)
    with Tracker([200]) as tracker:
        setup = Setup(tracker)
        sweep()
        count = len(tracker.requests)
    assert count == 0
    (attempt,) = setup.attempts()
    assert attempt.status_code is None
    assert attempt.error == refusal("POSTBACK_ALLOW_PRIVATE_ADDRESSES")  # the address is not named
    assert setup.delivery().state == "pending"


def test_an_unreachable_tracker_is_logged_as_an_error(ctx, frozen_clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Closed:
        base = f"http://127.0.0.1:{port}"

    setup = Setup(Closed)
    sweep()
    (attempt,) = setup.attempts()
    assert attempt.status_code is None and attempt.error
    assert setup.delivery().state == "pending"


@pytest.mark.parametrize("body", [b"\x00" * 10 + b"x" * 5000, "é".encode() * 2000, b"\xff\xfe"])
def test_any_response_body_is_stored_as_a_short_excerpt(ctx, frozen_clock, body):
    with Tracker([200], body=body) as tracker:
        setup = Setup(tracker)
        sweep()
    (attempt,) = setup.attempts()
    assert len(attempt.response_excerpt) <= 500 and "\x00" not in attempt.response_excerpt
