"""Offers follow their advertiser's money: paused below the threshold with a notification,
resumed by a top-up that first funds the waiting leads in arrival order; the return
window is never longer than the hold, and closes on time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.domain import advertiser_available, platform, webmaster_hold
from exchange.actors import Actor
from exchange.db import commit
from exchange.errors import Conflict
from exchange.leads.decisions import approve_lead, return_lead
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user, offer_data
from tests.integration.helpers import available, fresh_lead, lead_transfers, posted, submit_and_validate

RATE = 1500


@pytest.fixture
def market(ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000)
    make_join(webmaster, offer)
    return advertiser, webmaster, offer


def notifications(client, key: str) -> list[dict]:
    reply = client.get("/api/v1/notifications", headers=auth(key))
    assert reply.status_code == 200, reply.json
    return reply.json["items"]


def offer_state(client, key: str, offer_id: int) -> tuple[str, str | None]:
    body = client.get(f"/api/v1/offers/{offer_id}", headers=auth(key)).json
    return body["status"], body["paused_for"]


def test_an_offer_pauses_when_the_balance_cannot_pay_one_more_lead_and_the_advertiser_is_told(client, market):
    advertiser, webmaster, offer = market
    key = make_key(advertiser)
    fund(advertiser, 2 * RATE + 100)  # two leads, then 100 free: less than one lead's rate

    assert submit_and_validate(webmaster, offer, lead_fields(1)).status == "pending"
    assert offer_state(client, key, offer.id) == ("active", None)
    assert submit_and_validate(webmaster, offer, lead_fields(2)).status == "pending"

    assert offer_state(client, key, offer.id) == ("paused", "low_balance")
    [note] = notifications(client, key)
    assert note["kind"] == "offers_paused_low_balance"
    assert note["data"] == {"offer_ids": [offer.id], "currency": "USD", "free_minor": 100}


def test_a_lead_at_an_offer_paused_for_funds_waits_and_a_top_up_funds_it_then_resumes(client, market):
    advertiser, webmaster, offer = market
    key = make_key(advertiser)
    fund(advertiser, RATE)
    submit_and_validate(webmaster, offer, lead_fields(1))
    assert offer_state(client, key, offer.id) == ("paused", "low_balance")

    waiting = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (2, 3)]
    assert [fresh_lead(i).status for i in waiting] == ["awaiting_funds", "awaiting_funds"]  # not rejected

    admin_key = make_key(make_user("admin"))
    credit = {"advertiser_id": advertiser.id, "currency": "USD", "amount_minor": 3 * RATE, "reference": "w-1"}
    assert client.post("/api/v1/admin/credits", json=credit, headers=auth(admin_key)).status_code == 201

    assert [fresh_lead(i).status for i in waiting] == ["pending", "pending"]  # oldest first
    assert offer_state(client, key, offer.id) == ("active", None)  # RATE still free: one more lead
    assert [n["kind"] for n in notifications(client, key)] == ["offers_resumed", "offers_paused_low_balance"]


def test_an_offer_its_advertiser_paused_is_not_resumed_by_money(client, market):
    advertiser, webmaster, offer = market
    key = make_key(advertiser)
    fund(advertiser, RATE)
    submit_and_validate(webmaster, offer, lead_fields(1))  # paused for funds
    reply = client.patch(f"/api/v1/offers/{offer.id}", json={"status": "paused"}, headers=auth(key))
    assert reply.status_code == 200, reply.json
    assert offer_state(client, key, offer.id) == ("paused", None)

    fund(advertiser, 10 * RATE)
    from exchange.offers.funding import align_offers_with_funds

    assert align_offers_with_funds(advertiser.id, "USD") == ([], [])
    commit()
    assert offer_state(client, key, offer.id) == ("paused", None)


def test_a_notification_is_read_by_its_owner_only(client, market):
    advertiser, webmaster, offer = market
    key, other = make_key(advertiser), make_key(make_user("advertiser"))
    fund(advertiser, RATE)
    submit_and_validate(webmaster, offer, lead_fields(1))
    [note] = notifications(client, key)

    assert client.post(f"/api/v1/notifications/{note['id']}/read", headers=auth(other)).status_code == 404
    reply = client.post(f"/api/v1/notifications/{note['id']}/read", headers=auth(key))
    assert reply.status_code == 200
    assert reply.json["read_at"] is not None
    assert notifications(client, other) == []


def test_a_return_window_longer_than_the_hold_is_refused_when_the_offer_is_saved(client, ctx):
    key = make_key(make_user("advertiser"))
    data = offer_data(hold_seconds=3 * 86400, return_window_seconds=3 * 86400 + 1)

    reply = client.post("/api/v1/offers", json=data, headers=auth(key))

    assert reply.status_code == 422
    assert "return_window_seconds" in reply.json["error"]["fields"]
    fitting = dict(data, return_window_seconds=3 * 86400)
    created = client.post("/api/v1/offers", json=fitting, headers=auth(key))
    assert created.status_code == 201
    shorter_hold = {"hold_seconds": 86400}
    reply = client.patch(f"/api/v1/offers/{created.json['id']}", json=shorter_hold, headers=auth(key))
    assert reply.status_code == 422
    assert "return_window_seconds" in reply.json["error"]["fields"]


def test_a_return_one_second_inside_the_window_is_taken_and_at_its_end_refused(market, frozen_clock):
    advertiser, webmaster, offer = market
    fund(advertiser, 10 * RATE)
    actor = Actor(kind="user", user_id=advertiser.id, label="test")
    leads = [submit_and_validate(webmaster, offer, lead_fields(n)) for n in (1, 2)]
    for lead in leads:
        approve_lead(lead.id, actor)
    commit()
    window = timedelta(seconds=offer.return_window_seconds)
    assert window < timedelta(seconds=offer.hold_seconds)  # the window, not the hold, decides here

    frozen_clock.set(fresh_lead(leads[0].id).approved_at + window - timedelta(seconds=1))
    assert return_lead(leads[0].id, actor).status == "returned"
    commit()
    first, second = leads[0].id, leads[1].id
    assert sorted(lead_transfers(first)) == sorted(
        f"lead:{first}:{verb}:{leg}"
        for verb in ("reserve", "approve", "return")
        for leg in ("payout", "margin")
    )
    assert available(advertiser_available(advertiser.id, "USD")) == 10 * RATE - RATE  # only one lead charged
    assert posted(webmaster_hold(webmaster.id, "USD")) == 1000
    assert posted(platform("revenue", "USD")) == RATE - 1000
    frozen_clock.set(fresh_lead(second).approved_at + window)
    with pytest.raises(Conflict) as refused:
        return_lead(second, actor)
    assert refused.value.code == "return_window_closed"
    assert not any(":return:" in transfer_id for transfer_id in lead_transfers(second))
