"""Advertiser decisions on pending leads and the money they move (DESIGN §4, §5)."""

from __future__ import annotations

from sqlalchemy import func, select

from billing.models import Transfer
from exchange.extensions import db
from exchange.leads.models import Lead
from tests.factories import (
    auth,
    balance,
    fund,
    lead_fields,
    make_click,
    make_join,
    make_key,
    make_offer,
    make_user,
)

RATE, PAYOUT, FUNDS = 1500, 1000, 10_000


def lead_transfers(lead_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.lead_id == lead_id))


class Market:
    def __init__(self, client):
        self.client = client
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=PAYOUT)
        fund(advertiser, FUNDS)
        make_join(webmaster, offer)
        self.offer_id = offer.id
        self.adv_key, self.wm_key = make_key(advertiser), make_key(webmaster)

    def pending_lead(self) -> int:
        response = self.client.post(
            "/api/v1/leads",
            json={"offer_id": self.offer_id, "fields": lead_fields()},
            headers=auth(self.wm_key),
        )
        assert response.status_code == 202, response.get_json()
        assert response.get_json()["status"] == "pending"
        return response.get_json()["id"]

    def decide(self, lead_id: int, decision: str, **body):
        return self.client.post(f"/api/v1/leads/{lead_id}/{decision}", json=body, headers=auth(self.adv_key))


def test_a_pending_lead_reserves_its_rate(client, ctx):
    market = Market(client)
    market.pending_lead()
    advertiser = balance(client, market.adv_key, "available")
    assert advertiser["available_minor"] == FUNDS - RATE
    assert advertiser["posted_minor"] == FUNDS  # reserved, not yet charged
    hold = balance(client, market.wm_key, "hold")
    assert hold["posted_minor"] == 0
    assert hold["pending_in_minor"] == PAYOUT


def test_approving_a_pending_lead_charges_the_advertiser_once(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()

    first = market.decide(lead_id, "approve", reason="good lead")
    after_first = lead_transfers(lead_id)
    second = market.decide(lead_id, "approve")

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "approved"
    assert first.get_json()["approved_at"]
    assert second.status_code == 200, second.get_json()
    assert second.get_json()["status"] == "approved"
    assert second.get_json()["approved_at"] == first.get_json()["approved_at"]
    assert lead_transfers(lead_id) == after_first  # the second approval recorded nothing
    advertiser = balance(client, market.adv_key, "available")
    assert advertiser["available_minor"] == FUNDS - RATE
    assert advertiser["posted_minor"] == FUNDS - RATE
    assert advertiser["pending_out_minor"] == 0
    hold = balance(client, market.wm_key, "hold")
    assert hold["posted_minor"] == PAYOUT
    assert hold["pending_in_minor"] == 0
    assert balance(client, market.wm_key, "available")["posted_minor"] == 0  # still on hold
    lead = db.session.get(Lead, lead_id, populate_existing=True)
    assert lead.status == "approved"
    assert lead.hold_until is not None


def test_rejecting_a_pending_lead_returns_the_reservation(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()

    response = market.decide(lead_id, "reject", reason="wrong number")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "rejected"
    assert body["reason_codes"] == ["advertiser_rejected"]
    assert body["decision_note"] == "wrong number"
    advertiser = balance(client, market.adv_key, "available")
    assert advertiser["available_minor"] == FUNDS
    assert advertiser["posted_minor"] == FUNDS
    assert advertiser["pending_out_minor"] == 0
    hold = balance(client, market.wm_key, "hold")
    assert hold["posted_minor"] == 0
    assert hold["pending_in_minor"] == 0
    # the webmaster sees the rejection and its reason
    seen = client.get(f"/api/v1/leads/{lead_id}", headers=auth(market.wm_key)).get_json()
    assert seen["status"] == "rejected"
    assert seen["reason_codes"] == ["advertiser_rejected"]


def test_rejecting_twice_is_idempotent(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    assert market.decide(lead_id, "reject").status_code == 200
    transfers = lead_transfers(lead_id)
    again = market.decide(lead_id, "reject")
    assert again.status_code == 200
    assert again.get_json()["status"] == "rejected"
    assert lead_transfers(lead_id) == transfers
    assert balance(client, market.adv_key, "available")["available_minor"] == FUNDS


def test_approving_a_rejected_lead_is_a_conflict(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    assert market.decide(lead_id, "reject").status_code == 200

    response = market.decide(lead_id, "approve")

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "lead_not_pending"
    assert db.session.get(Lead, lead_id, populate_existing=True).status == "rejected"
    advertiser = balance(client, market.adv_key, "available")
    assert advertiser["available_minor"] == FUNDS
    assert advertiser["posted_minor"] == FUNDS


def test_rejecting_an_approved_lead_is_a_conflict(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    assert market.decide(lead_id, "approve").status_code == 200

    response = market.decide(lead_id, "reject")

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "lead_not_pending"
    assert db.session.get(Lead, lead_id, populate_existing=True).status == "approved"
    assert balance(client, market.wm_key, "hold")["posted_minor"] == PAYOUT


def test_a_webmaster_cannot_decide_leads(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    response = client.post(f"/api/v1/leads/{lead_id}/approve", json={}, headers=auth(market.wm_key))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_role"
    assert db.session.get(Lead, lead_id, populate_existing=True).status == "pending"


def test_a_decision_reason_that_is_too_long_is_refused(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    response = market.decide(lead_id, "reject", reason="x" * 501)
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]
    assert db.session.get(Lead, lead_id, populate_existing=True).status == "pending"


def test_a_rejection_after_the_review_window_closed_is_refused_and_moves_no_money(client, ctx, frozen_clock):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, review_window_seconds=3600)
    fund(advertiser, 10_000)
    click = make_click(make_join(webmaster, offer))
    submitted = client.post(
        "/api/v1/leads",
        json={"click_id": click.click_id, "fields": lead_fields()},
        headers=auth(make_key(webmaster)),
    ).get_json()
    advertiser_key = make_key(advertiser)

    frozen_clock.advance(seconds=3600)  # the deadline itself: silence has meant approval
    late = client.post(f"/api/v1/leads/{submitted['id']}/reject", json={}, headers=auth(advertiser_key))

    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "review_window_closed"
    assert ctx.get(Lead, submitted["id"]).status == "pending"
    frozen_clock.advance(seconds=-1)  # one second inside the window it is still the advertiser's call
    in_time = client.post(f"/api/v1/leads/{submitted['id']}/reject", json={}, headers=auth(advertiser_key))
    assert in_time.status_code == 200 and in_time.get_json()["status"] == "rejected"
