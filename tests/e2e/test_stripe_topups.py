"""Card top-ups end to end: our API creates a PaymentIntent in ``localstripe`` (a real
local Stripe server, through the official library), the card is confirmed as Stripe.js
would, and the balance moves only when localstripe's signed webhook reaches our
``/webhooks/stripe`` over HTTP. Replays, bad signatures and timestamps outside the
window, both ways, are refused or change nothing."""

from __future__ import annotations

import http.client
import json
from calendar import timegm

import pytest
from sqlalchemy import func, select

from billing.models import Transfer
from billing.topups.models import StripeEvent, Topup
from billing.topups.signature import sign
from exchange import clock
from exchange.db import commit
from exchange.extensions import db
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer, call, wait_for
from tests.http_harness import available_over_http as available
from tests.stripe_server import WEBHOOK_SECRET


def topup_status(app, topup_id: int) -> str:
    with app.app_context():
        status = db.session.get(Topup, topup_id).status
        db.session.remove()
        return status


def count(app, query) -> int:
    with app.app_context():
        value = db.session.scalar(query)
        db.session.remove()
        return value


def post_webhook(port: int, body: bytes, signature: str | None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    try:
        connection.request("POST", "/webhooks/stripe", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def unix_now() -> int:
    return timegm(clock.now().utctimetuple())


def paid_topup(stripe_server, port: int, key: str, amount: str = "250.00") -> dict:
    reply = call(port, "POST", "/api/v1/topups", key, {"amount": amount, "currency": "USD"})
    assert reply.status == 201, reply.body
    stripe_server.pay(reply.body["payment_intent_id"])
    return reply.body


def test_a_card_top_up_is_credited_once_when_stripes_signed_webhook_arrives(market, stripe_server):
    app, port, key, _ = market
    reply = call(port, "POST", "/api/v1/topups", key, {"amount": "250.00", "currency": "USD"})

    assert reply.status == 201, reply.body
    started = reply.body
    assert (started["status"], started["amount_minor"], started["currency"]) == ("requested", 25_000, "USD")
    assert started["client_secret"].startswith(started["payment_intent_id"] + "_secret_")
    assert started["publishable_key"] == stripe_server.app_config()["STRIPE_PUBLISHABLE_KEY"]
    intent = stripe_server.client().v1.payment_intents.retrieve(started["payment_intent_id"])
    assert (intent.amount, intent.currency) == (25_000, "usd")
    assert intent.metadata["topup_id"] == str(started["id"])
    assert available(port, key) == 0  # asking for a top-up credits nothing

    stripe_server.pay(started["payment_intent_id"])

    wait_for(lambda: topup_status(app, started["id"]) == "succeeded", "the webhook is applied")
    assert available(port, key) == 25_000
    transfer_id = f"topup:{started['payment_intent_id']}"
    assert count(app, select(func.count()).select_from(Transfer).where(Transfer.id == transfer_id)) == 1
    listed = call(port, "GET", "/api/v1/topups", key).body["items"]
    assert [(row["id"], row["status"]) for row in listed] == [(started["id"], "succeeded")]


def test_a_replayed_webhook_credits_once(market, stripe_server):
    app, port, key, _ = market
    started = paid_topup(stripe_server, port, key)
    wait_for(lambda: topup_status(app, started["id"]) == "succeeded", "the webhook is applied")
    with app.app_context():
        event = db.session.scalar(select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded"))
        body = json.dumps(event.payload).encode()
        db.session.remove()

    for _ in range(3):  # Stripe's retries: the same event, signed again at each delivery
        status, answer = post_webhook(port, body, sign(body, WEBHOOK_SECRET, unix_now()))
        assert (status, answer) == (200, {"received": event.id})

    assert available(port, key) == 25_000
    assert count(app, select(func.count()).select_from(StripeEvent).where(StripeEvent.id == event.id)) == 1
    assert count(app, select(func.count()).select_from(Transfer).where(Transfer.id.like("topup:%"))) == 1


def forged_success(app, advertiser_id: int) -> bytes:
    """A payment_intent.succeeded for a real top-up of ours that was never paid."""
    with app.app_context():
        topup = Topup(advertiser_id=advertiser_id, currency="USD", amount_minor=9_900, status="requested")
        topup.payment_intent_id = "pi_never_paid"
        db.session.add(topup)
        commit()
    intent = {"id": "pi_never_paid", "object": "payment_intent", "amount": 9_900, "currency": "usd"}
    event = {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": intent}}
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda body: sign(body, "whsec_someone_else", unix_now()), id="another secret"),
        pytest.param(lambda body: sign(body + b" ", WEBHOOK_SECRET, unix_now()), id="another body"),
        pytest.param(lambda body: sign(body, WEBHOOK_SECRET, unix_now() - 330), id="330 s old"),
        pytest.param(lambda body: sign(body, WEBHOOK_SECRET, unix_now() + 330), id="330 s ahead"),
        pytest.param(lambda body: None, id="no signature"),
    ],
)
def test_a_webhook_without_a_valid_signature_in_the_window_is_refused_and_credits_nothing(market, signature):
    app, port, key, advertiser_id = market
    body = forged_success(app, advertiser_id)

    status, answer = post_webhook(port, body, signature(body))

    assert status == 400
    assert answer["error"]["code"] == "bad_webhook"
    assert count(app, select(func.count()).select_from(StripeEvent)) == 0
    assert available(port, key) == 0


def test_a_webhook_signed_within_the_window_both_ways_is_accepted(market):
    app, port, key, advertiser_id = market
    body = forged_success(app, advertiser_id)  # signed with the secret: as good as Stripe's own

    status, _ = post_webhook(port, body, sign(body, WEBHOOK_SECRET, unix_now() + 295))

    assert status == 200
    assert available(port, key) == 9_900


def test_a_failed_payment_fails_the_top_up_and_credits_nothing(market):
    """localstripe confirms even its "declined" test card on this path, so the failure
    event is the one Stripe documents, signed here with the endpoint's secret."""
    app, port, key, _ = market
    started = call(port, "POST", "/api/v1/topups", key, {"amount": "40.00", "currency": "USD"}).body
    intent = {
        "id": started["payment_intent_id"],
        "object": "payment_intent",
        "amount": 4_000,
        "currency": "usd",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    event = {"id": "evt_declined", "type": "payment_intent.payment_failed", "data": {"object": intent}}
    body = json.dumps(event).encode()

    status, _ = post_webhook(port, body, sign(body, WEBHOOK_SECRET, unix_now()))

    assert status == 200
    assert topup_status(app, started["id"]) == "failed"
    listed = call(port, "GET", "/api/v1/topups", key).body["items"]
    assert listed[0]["failure"] == "Your card was declined."
    assert available(port, key) == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "abc", "currency": "USD"}, "amount"),
        ({"amount": "10.001", "currency": "USD"}, "amount"),
        ({"amount": "-5", "currency": "USD"}, "amount"),
        ({"amount": "4.99", "currency": "USD"}, "amount"),  # below the 5.00 minimum
        ({"amount": "10.00", "currency": "usd"}, "currency"),
        ({"currency": "USD"}, "amount"),
    ],
)
def test_a_top_up_with_a_bad_amount_is_refused_with_the_field_named(market, body, field):
    app, port, key, _ = market

    reply = call(port, "POST", "/api/v1/topups", key, body)

    assert reply.status == 422, reply.body
    assert field in reply.body["error"]["fields"]
    assert count(app, select(func.count()).select_from(Topup)) == 0


def test_without_stripe_configured_a_top_up_is_refused_and_the_webhook_is_not_there(live_app_factory):
    app = live_app_factory()
    with app.app_context():
        key = make_key(make_user("advertiser"))
        commit()
    with LiveServer(app) as server:
        reply = call(server.port, "POST", "/api/v1/topups", key, {"amount": "50.00", "currency": "USD"})
        status, _ = post_webhook(server.port, b"{}", "t=1,v1=00")

    assert reply.status == 409
    assert reply.body["error"]["code"] == "topups_not_configured"
    assert status == 404
