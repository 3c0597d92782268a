"""A refund end to end against ``localstripe`` (a real local Stripe server, through the
official library), then ``flask billing reconcile`` comparing localstripe's balance
transactions with the ledger.

localstripe makes refunds, their balance transactions and the charge's cumulative
``amount_refunded``, but sends no ``charge.refunded`` webhook: the event is built here
from the charge localstripe answers and signed with the endpoint's secret, as Stripe
signs it. Disputes do not exist in localstripe; tests/api/test_stripe_takebacks.py
covers them."""

from __future__ import annotations

import json

from billing.topups.signature import sign
from tests.e2e.test_stripe_topups import paid_topup, post_webhook, topup_status, unix_now
from tests.http_harness import available_over_http as available
from tests.http_harness import flask_cli, process_env, wait_for
from tests.stripe_server import WEBHOOK_SECRET


def refund_at_stripe(stripe_server, payment_intent_id: str, amount_minor: int) -> dict:
    """Refund part of a payment in localstripe; returns the charge as Stripe now shows it."""
    client = stripe_server.client()
    client.v1.refunds.create(params={"payment_intent": payment_intent_id, "amount": amount_minor})
    charge_id = client.v1.payment_intents.retrieve(payment_intent_id).latest_charge
    charge_id = charge_id if isinstance(charge_id, str) else charge_id.id
    return client.v1.charges.retrieve(charge_id).to_dict()


def deliver_refund(port: int, charge: dict, event_id: str) -> None:
    body = json.dumps({"id": event_id, "type": "charge.refunded", "data": {"object": charge}}).encode()
    status, answer = post_webhook(port, body, sign(body, WEBHOOK_SECRET, unix_now()))
    assert (status, answer) == (200, {"received": event_id})


def reconcile(app, tmp_path, stripe_server):
    env = process_env(app.config["SQLALCHEMY_DATABASE_URI"], str(tmp_path / "cli-instance"))
    env.update({key: value for key, value in stripe_server.app_config().items()})
    return flask_cli(env, "billing", "reconcile")


def test_a_refund_at_stripe_debits_the_balance_and_reconciles_with_the_ledger(
    market, stripe_server, tmp_path
):
    app, port, key, _ = market
    started = paid_topup(stripe_server, port, key, amount="250.00")
    wait_for(lambda: topup_status(app, started["id"]) == "succeeded", "the top-up is credited")

    charge = refund_at_stripe(stripe_server, started["payment_intent_id"], 5_000)
    assert (charge["amount_refunded"], charge["payment_intent"]) == (5_000, started["payment_intent_id"])
    deliver_refund(port, charge, "evt_refund_one")
    wait_for(lambda: available(port, key) == 20_000, "the refund is taken back")
    deliver_refund(port, charge, "evt_refund_one")  # Stripe's retry of the same event
    deliver_refund(port, charge, "evt_refund_one_again")  # the same refund, as another event

    matched = reconcile(app, tmp_path, stripe_server)
    assert available(port, key) == 20_000
    assert matched.returncode == 0, matched.stdout + matched.stderr
    assert "match" in matched.stdout

    refund_at_stripe(stripe_server, started["payment_intent_id"], 1_000)  # its event never arrives
    missed = reconcile(app, tmp_path, stripe_server)
    assert missed.returncode == 1, missed.stdout + missed.stderr
    assert f"DIFF refunds of {charge['id']}: Stripe -6000 USD, ledger -5000 USD" in missed.stdout
