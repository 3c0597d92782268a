"""Delivering accepted leads to a real local endpoint: retries with backoff driven by the
sweep (a 500, a timeout, then a 2xx), delivered once, every attempt logged and shown;
signed so that the README's check passes; a decision in the answer decides the lead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from exchange.db import commit
from exchange.delivery.leads.answers import apply_answer
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.leads.services import deliver_lead
from exchange.delivery.leads.settings import put_setting
from exchange.extensions import db
from exchange.leads.jobs import validate_lead_job
from exchange.periodic import sweep
from tests.advertiser_endpoint import Answer, Endpoint
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.integration.helpers import event_tuples, fresh_lead, submit
from tests.readme_snippet import verify_delivery_from_readme


class Setup:
    """An advertiser with an endpoint and money, and one lead that validation accepts."""

    def __init__(self, endpoint: Endpoint):
        self.advertiser, self.webmaster = make_user("advertiser"), make_user("webmaster")
        self.offer = make_offer(self.advertiser, rate_minor=1500, payout_minor=1000)
        fund(self.advertiser, 100_000)
        make_join(self.webmaster, self.offer)
        self.secret = put_setting(self.advertiser.id, None, endpoint.url).secret
        commit()
        self.lead_id = submit(self.webmaster, self.offer, lead_fields())

    def accept(self) -> None:
        validate_lead_job(self.lead_id)  # pending; its delivery job runs after that commit

    def delivery(self) -> LeadDelivery:
        return db.session.scalar(
            select(LeadDelivery)
            .where(LeadDelivery.lead_id == self.lead_id)
            .execution_options(populate_existing=True)
        )

    def attempts(self) -> list[LeadDeliveryAttempt]:
        return list(
            db.session.scalars(
                select(LeadDeliveryAttempt)
                .join(LeadDelivery, LeadDelivery.id == LeadDeliveryAttempt.delivery_id)
                .where(LeadDelivery.lead_id == self.lead_id)
                .order_by(LeadDeliveryAttempt.number)
            )
        )


def test_a_failure_then_a_timeout_then_success_delivers_once_with_three_attempts_logged(
    app, client, ctx, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "DELIVERY_TIMEOUT_SECONDS", 0.5)
    answers = [Answer(500, b"boom"), Answer(200, b"late", delay=2.0), Answer(200, b"thanks")]
    with Endpoint(answers) as endpoint:
        setup = Setup(endpoint)
        start = frozen_clock.now
        setup.accept()  # attempt 1: HTTP 500, next in 30 s
        assert fresh_lead(setup.lead_id).status == "pending"
        assert len(endpoint.received) == 1
        assert setup.delivery().next_attempt_at == start + timedelta(seconds=30)

        frozen_clock.advance(seconds=29)
        sweep()
        assert len(endpoint.received) == 1
        frozen_clock.advance(seconds=1)
        sweep()  # attempt 2: no answer within 0.5 s, next in 2 minutes
        assert len(endpoint.received) == 2
        frozen_clock.advance(seconds=120)
        sweep()  # attempt 3: 200
        delivered_at = frozen_clock.now
        frozen_clock.advance(days=1)
        sweep()
        deliver_lead(setup.lead_id, apply_answer)  # a duplicate job changes nothing
        received = list(endpoint.received)

    assert len(received) == 3
    delivery = setup.delivery()
    assert (delivery.state, delivery.attempts, delivery.delivered_at) == ("delivered", 3, delivered_at)
    attempts = setup.attempts()
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, None), (3, 200)]
    assert attempts[0].error == "HTTP 500" and attempts[0].response_excerpt == "boom"
    assert "timed out" in attempts[1].error
    assert attempts[2].error is None and attempts[2].response_excerpt == "thanks"
    assert attempts[1].latency_ms >= 400
    assert [a.at - start for a in attempts] == [timedelta(seconds=s) for s in (0, 30, 150)]
    assert all(a.url.endswith("/leads") for a in attempts)

    bodies = {r.body for r in received}
    assert len(bodies) == 1  # the same lead each time, signed afresh
    payload = received[0].json()
    assert payload["event"] == "lead.pending" and payload["test"] is False
    lead = payload["lead"]
    assert (lead["id"], lead["offer_id"], lead["webmaster_id"]) == (
        setup.lead_id,
        setup.offer.id,
        setup.webmaster.id,
    )
    assert lead["fields"]["name"].startswith("Person") and lead["review_deadline"].endswith("Z")
    assert fresh_lead(setup.lead_id).status == "pending"  # "thanks" decides nothing

    key = make_key(setup.advertiser)
    page = client.get(f"/api/v1/deliveries?lead_id={setup.lead_id}", headers=auth(key)).get_json()
    assert page["total"] == 1
    (shown,) = page["items"]
    assert shown["state"] == "delivered" and shown["attempts"] == 3
    assert [(a["number"], a["status_code"]) for a in shown["attempt_log"]] == [(1, 500), (2, None), (3, 200)]
    assert client.get(f"/api/v1/deliveries/{shown['id']}", headers=auth(key)).get_json()["id"] == shown["id"]
    stranger = make_key(make_user("advertiser"))
    assert (
        client.get(f"/api/v1/deliveries?lead_id={setup.lead_id}", headers=auth(stranger)).status_code == 404
    )
    assert client.get(f"/api/v1/deliveries/{shown['id']}", headers=auth(stranger)).status_code == 404


def test_every_delivery_is_signed_so_the_readme_check_passes_and_a_tampered_body_fails(ctx, frozen_clock):
    verify = verify_delivery_from_readme()
    with Endpoint([Answer()]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
        (request,) = endpoint.received
    timestamp = request.headers["X-Exchange-Timestamp"]
    signature = request.headers["X-Exchange-Signature"]
    assert signature.startswith("v1=") and request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Exchange-Event"] == "lead.pending"
    assert verify(setup.secret, request.body, timestamp, signature)
    tampered = request.body.replace(b'"test":false', b'"test":true')
    assert tampered != request.body
    assert not verify(setup.secret, tampered, timestamp, signature)


def test_an_endpoint_that_never_answers_2xx_fails_after_six_attempts(ctx, frozen_clock):
    with Endpoint([Answer(503)]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
        for wait in (30, 120, 600, 3600, 21600, 86400):
            frozen_clock.advance(seconds=wait)
            sweep()
        count = len(endpoint.received)
    assert count == 6
    delivery = setup.delivery()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 6, None)


def test_an_approval_in_the_answer_approves_the_lead_and_moves_the_money(client, ctx, frozen_clock):
    with Endpoint([Answer.decision("approve")]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
    lead = fresh_lead(setup.lead_id)
    assert lead.status == "approved"
    assert event_tuples(setup.lead_id)[-1][:2] == ("approve", "pending")
    assert event_tuples(setup.lead_id)[-1][3:] == ("user", "delivery response")
    (attempt,) = setup.attempts()
    assert (attempt.decision, attempt.decision_result) == ("approve", "applied")
    advertiser = balance(client, make_key(setup.advertiser), "available")
    assert (advertiser["posted_minor"], advertiser["pending_out_minor"]) == (100_000 - 1500, 0)
    webmaster = balance(client, make_key(setup.webmaster), "hold")
    assert webmaster["posted_minor"] == 1000


def test_a_rejection_in_the_answer_rejects_the_lead_with_its_reason_and_voids_the_reservation(
    client, ctx, frozen_clock
):
    with Endpoint([Answer.decision("reject", "phone unreachable")]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
    lead = fresh_lead(setup.lead_id)
    assert (lead.status, lead.reason_codes, lead.decision_note) == (
        "rejected",
        ["advertiser_rejected"],
        "phone unreachable",
    )
    (attempt,) = setup.attempts()
    assert (attempt.decision, attempt.decision_result) == ("reject", "applied")
    advertiser = balance(client, make_key(setup.advertiser), "available")
    assert (advertiser["available_minor"], advertiser["pending_out_minor"]) == (100_000, 0)
    assert balance(client, make_key(setup.webmaster), "hold")["posted_minor"] == 0


def test_a_decision_no_longer_possible_is_recorded_on_the_attempt(client, ctx, frozen_clock):
    """The lead was approved over the API while its delivery waited for a retry; the retry's
    answer asks to reject it: the attempt records why not, the delivery is still delivered."""
    with Endpoint([Answer(500), Answer.decision("reject", "too late")]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
        key = make_key(setup.advertiser)
        response = client.post(f"/api/v1/leads/{setup.lead_id}/approve", json={}, headers=auth(key))
        assert response.status_code == 200
        frozen_clock.advance(seconds=30)
        sweep()
    assert fresh_lead(setup.lead_id).status == "approved"
    first, second = setup.attempts()
    assert first.decision is None and second.decision == "reject"
    assert second.decision_result == "not applied: the lead is already approved"
    assert setup.delivery().state == "delivered"


def test_without_an_endpoint_nothing_is_scheduled_and_a_removed_one_is_logged(ctx, frozen_clock):
    from exchange.delivery.leads.settings import remove_setting

    with Endpoint([Answer(500)]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
        remove_setting(setup.advertiser.id, None)
        commit()
        frozen_clock.advance(seconds=30)
        sweep()
        count = len(endpoint.received)
    assert count == 1
    assert setup.attempts()[-1].error.startswith("no delivery URL")

    other = Setup.__new__(Setup)
    other.advertiser, other.webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(other.advertiser)
    fund(other.advertiser, 10_000)
    make_join(other.webmaster, offer)
    other.lead_id = submit(other.webmaster, offer, lead_fields())
    other.accept()
    assert fresh_lead(other.lead_id).status == "pending" and other.delivery() is None


@pytest.mark.parametrize("allowed", [False])
def test_private_addresses_are_refused_unless_allowed(app, ctx, frozen_clock, monkeypatch, allowed):
    monkeypatch.setitem(app.config, "DELIVERY_ALLOW_PRIVATE_ADDRESSES", allowed)
    with Endpoint([Answer()]) as endpoint:
        setup = Setup(endpoint)
        setup.accept()
        count = len(endpoint.received)
    assert count == 0
    (attempt,) = setup.attempts()
    assert attempt.status_code is None and "DELIVERY_ALLOW_PRIVATE_ADDRESSES" in attempt.error
