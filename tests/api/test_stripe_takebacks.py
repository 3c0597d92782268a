"""Money Stripe takes back after a top-up was credited: refunds and disputes, received on
``/webhooks/stripe`` with a real signature (signed here with the endpoint's secret, as
Stripe signs), stored once and applied by the job. The free balance pays first, the rest
becomes debt that the next money repays; reservations already made stay whole, and leads
arriving meanwhile wait for funds. ``tests/e2e/test_stripe_refunds.py`` runs a refund
through localstripe itself."""

from __future__ import annotations

import json
from calendar import timegm
from itertools import count

import pytest

from billing.check import run_checks
from billing.domain import advertiser_available, advertiser_debt
from billing.topups.models import StripeEvent, Topup
from billing.topups.signature import sign
from exchange import clock
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead, return_lead
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user
from tests.integration.helpers import available, fresh_lead, posted, submit_and_validate

SECRET = "whsec_takebacks_test"
RATE = 1500
_events = count(1)


@pytest.fixture
def stripe_webhooks(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", SECRET)


@pytest.fixture
def advertiser(ctx, stripe_webhooks):
    return make_user("advertiser")


def deliver(client, event_type: str, obj: dict, event_id: str | None = None) -> str:
    """POST a signed event to the webhook; the job applies it right after (in-process)."""
    event_id = event_id or f"evt_{next(_events)}"
    body = json.dumps({"id": event_id, "type": event_type, "data": {"object": obj}}).encode()
    signature = sign(body, SECRET, timegm(clock.now().utctimetuple()))
    reply = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature})
    assert reply.status_code == 200, reply.get_json()
    return db.session.get(StripeEvent, event_id).outcome


def paid_topup(client, advertiser, amount_minor: int, intent_id: str) -> Topup:
    """A top-up of ours that Stripe says succeeded."""
    topup = Topup(advertiser_id=advertiser.id, currency="USD", amount_minor=amount_minor, status="requested")
    topup.payment_intent_id = intent_id
    db.session.add(topup)
    commit()
    intent = {"id": intent_id, "object": "payment_intent", "amount": amount_minor, "currency": "usd"}
    assert deliver(client, "payment_intent.succeeded", intent).startswith("credited")
    return topup


def charge(intent_id: str, amount_minor: int, refunded_minor: int) -> dict:
    return {
        "id": f"ch_of_{intent_id}",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": amount_minor,
        "amount_refunded": refunded_minor,
        "currency": "usd",
        "refunded": refunded_minor == amount_minor,
    }


def dispute(intent_id: str, amount_minor: int, status: str, dispute_id: str = "dp_1") -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "payment_intent": intent_id,
        "charge": f"ch_of_{intent_id}",
        "amount": amount_minor,
        "currency": "usd",
        "status": status,
    }


def free(advertiser) -> int:
    return available(advertiser_available(advertiser.id, "USD"))


def owed(advertiser) -> int:
    return -posted(advertiser_debt(advertiser.id, "USD"))


def no_violations() -> None:
    assert {name: problems for name, problems in run_checks().items() if problems} == {}


def test_a_refund_debits_the_balance_once_whatever_order_its_events_arrive_in(client, advertiser):
    paid_topup(client, advertiser, 25_000, "pi_a")

    first = deliver(client, "charge.refunded", charge("pi_a", 25_000, 5_000), event_id="evt_refund_1")
    assert first == f"refund of 5000 USD taken back from advertiser {advertiser.id}"
    assert free(advertiser) == 20_000

    deliver(client, "charge.refunded", charge("pi_a", 25_000, 5_000), event_id="evt_refund_1")  # replayed
    assert free(advertiser) == 20_000
    deliver(client, "charge.refunded", charge("pi_a", 25_000, 8_000))  # a second refund: 8000 in all
    assert free(advertiser) == 17_000
    late = deliver(client, "charge.refunded", charge("pi_a", 25_000, 5_000))  # the first, arriving late
    assert late == "refunds of ch_of_pi_a already taken back (5000)"
    assert free(advertiser) == 17_000
    assert owed(advertiser) == 0
    no_violations()


def test_a_refund_larger_than_the_free_balance_keeps_reservations_and_leaves_a_debt(client, advertiser):
    key = make_key(advertiser)
    webmaster = make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000)
    make_join(webmaster, offer)
    paid_topup(client, advertiser, 2 * RATE + 500, "pi_b")
    reserved = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (1, 2)]
    assert free(advertiser) == 500

    deliver(client, "charge.refunded", charge("pi_b", 2 * RATE + 500, 2_000))

    assert (free(advertiser), owed(advertiser)) == (0, 1_500)
    assert [fresh_lead(lead_id).status for lead_id in reserved] == ["pending", "pending"]
    notes = client.get("/api/v1/notifications", headers=auth(key)).get_json()["items"]
    refunded = [note for note in notes if note["kind"] == "topup_refunded"]
    assert [note["data"] for note in refunded] == [
        {"currency": "USD", "from_balance_minor": 500, "owed_minor": 1_500}
    ]
    waiting = submit_and_validate(webmaster, offer, lead_fields(3))
    assert waiting.status == "awaiting_funds"
    no_violations()

    paid_topup(client, advertiser, 3_000, "pi_c")  # repays 1500 first; 1500 left funds the waiting lead

    assert owed(advertiser) == 0
    assert fresh_lead(waiting.id).status == "pending"
    assert free(advertiser) == 0
    no_violations()


def test_a_dispute_withdraws_its_amount_and_gives_it_back_when_won(client, advertiser):
    paid_topup(client, advertiser, 10_000, "pi_d")

    assert deliver(client, "charge.dispute.created", dispute("pi_d", 4_000, "needs_response")).startswith(
        "dispute dp_1: 4000 USD taken back"
    )
    assert free(advertiser) == 6_000
    deliver(client, "charge.dispute.closed", dispute("pi_d", 4_000, "won"))
    assert free(advertiser) == 10_000
    replay = deliver(client, "charge.dispute.closed", dispute("pi_d", 4_000, "won"))  # a new event id
    assert free(advertiser) == 10_000, replay
    no_violations()


def test_a_lost_dispute_keeps_the_money_withdrawn_and_an_inquiry_withdraws_nothing(client, advertiser):
    paid_topup(client, advertiser, 10_000, "pi_e")

    inquiry = deliver(
        client, "charge.dispute.created", dispute("pi_e", 2_000, "warning_needs_response", "dp_w")
    )
    assert inquiry == "inquiry dp_w: no money withdrawn"
    assert free(advertiser) == 10_000

    deliver(client, "charge.dispute.created", dispute("pi_e", 12_000, "needs_response", "dp_l"))
    assert (free(advertiser), owed(advertiser)) == (0, 2_000)
    deliver(client, "charge.dispute.closed", dispute("pi_e", 12_000, "lost", "dp_l"))
    assert (free(advertiser), owed(advertiser)) == (0, 2_000)
    no_violations()


def test_a_refund_of_a_charge_that_is_not_a_top_up_of_ours_changes_nothing(client, advertiser):
    paid_topup(client, advertiser, 10_000, "pi_f")
    outcome = deliver(client, "charge.refunded", charge("pi_someone_else", 5_000, 5_000))
    assert outcome == "not a charge of ours: ch_of_pi_someone_else"
    assert free(advertiser) == 10_000


def test_a_dispute_won_before_its_opening_arrives_still_nets_to_nothing(client, advertiser):
    paid_topup(client, advertiser, 10_000, "pi_g")

    deliver(client, "charge.dispute.closed", dispute("pi_g", 4_000, "won", "dp_late"))  # Stripe's order lost
    assert free(advertiser) == 14_000
    deliver(client, "charge.dispute.created", dispute("pi_g", 4_000, "needs_response", "dp_late"))
    deliver(client, "charge.dispute.funds_withdrawn", dispute("pi_g", 4_000, "needs_response", "dp_late"))
    deliver(client, "charge.dispute.funds_reinstated", dispute("pi_g", 4_000, "won", "dp_late"))

    assert (free(advertiser), owed(advertiser)) == (10_000, 0)
    no_violations()


def test_an_inquiry_that_escalates_withdraws_its_amount_once(client, advertiser):
    paid_topup(client, advertiser, 10_000, "pi_h")

    deliver(client, "charge.dispute.created", dispute("pi_h", 3_000, "warning_needs_response", "dp_esc"))
    assert free(advertiser) == 10_000
    escalated = deliver(
        client, "charge.dispute.funds_withdrawn", dispute("pi_h", 3_000, "needs_response", "dp_esc")
    )
    again = deliver(
        client, "charge.dispute.funds_withdrawn", dispute("pi_h", 3_000, "needs_response", "dp_esc")
    )

    assert escalated.startswith("dispute dp_esc: 3000 USD taken back")
    assert again == "dispute dp_esc: already withdrawn"
    assert free(advertiser) == 7_000
    no_violations()


def test_money_freed_by_a_rejected_or_returned_lead_repays_the_debt_first(client, advertiser):
    webmaster = make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000)
    make_join(webmaster, offer)
    paid_topup(client, advertiser, 3 * RATE, "pi_i")
    rejected, returned, kept = (
        submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (11, 12, 13)
    )
    actor = Actor(kind="user", user_id=advertiser.id, label="test")
    approve_lead(returned, actor)
    commit()
    deliver(client, "charge.refunded", charge("pi_i", 3 * RATE, 2_000))  # all of it was reserved
    assert (free(advertiser), owed(advertiser)) == (0, 2_000)

    reject_lead(rejected, actor, note="not interested")  # 1500 back: all of it to the debt
    commit()
    assert (free(advertiser), owed(advertiser)) == (0, 500)
    return_lead(returned, actor, note="wrong number")  # 1500 back: 500 to the debt, 1000 free
    commit()

    assert (free(advertiser), owed(advertiser)) == (1_000, 0)
    assert fresh_lead(kept).status == "pending"
    no_violations()
