"""The fraud review queue over the API (issue 6): flagged leads of offers with fraud_review wait
for a moderator with nothing reserved; a clear reserves and delivers them (or lets them wait for
funds), a rejection moves no money; each verdict once, audited, told to both parties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from billing.models import Transfer
from exchange.delivery.leads.models import LeadDelivery
from exchange.extensions import db
from exchange.leads.models import Lead, LeadEvent
from exchange.moderation.audit.models import ModerationAction
from tests.advertiser_endpoint import Endpoint
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
WINDOW = 3 * 86400  # the offers' review window (tests/factories.py)
REVIEWS = "/api/v1/moderation/fraud-reviews"


class Market:
    """An advertiser's offer, a webmaster who joined it, and a moderator."""

    def __init__(self, client, frozen_clock, *, funds: int = FUNDS, **settings):
        self.client, self.clock = client, frozen_clock
        self.advertiser, self.webmaster = make_user("advertiser"), make_user("webmaster")
        settings = {"fraud_review": True, **settings}
        self.offer = make_offer(self.advertiser, rate_minor=RATE, payout_minor=PAYOUT, **settings)
        if funds:
            fund(self.advertiser, funds)
        self.link = make_join(self.webmaster, self.offer)
        self.adv_key, self.wm_key = make_key(self.advertiser), make_key(self.webmaster)
        self.moderator = make_user("moderator")
        self.mod_key = make_key(self.moderator)

    def lead(self, seconds_after_click: int, **fields) -> dict:
        """A lead ``seconds_after_click`` after its click: under the offer's minimum of 3 s,
        it is flagged click_too_fast; a minute after, nothing is flagged."""
        click = make_click(self.link)
        self.clock.advance(seconds=seconds_after_click)
        response = self.client.post(
            "/api/v1/leads",
            json={"click_id": click.click_id, "fields": lead_fields() | fields},
            headers=auth(self.wm_key),
        )
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    def flagged_lead(self, **fields) -> int:
        lead = self.lead(1, **fields)
        assert lead["status"] == "review", lead
        return lead["id"]

    def verdict(self, lead_id: int, verdict: str, key: str | None = None, **body):
        body = body or {"reason": f"{verdict}: looked at the click trail"}
        return self.client.post(
            f"{REVIEWS}/{lead_id}/{verdict}", json=body, headers=auth(key or self.mod_key)
        )

    def available(self) -> int:
        return balance(self.client, self.adv_key, "available")["available_minor"]

    def notes(self, key: str) -> list[dict]:
        response = self.client.get("/api/v1/notifications", headers=auth(key))
        assert response.status_code == 200, response.get_json()
        return [note for note in response.get_json()["items"] if note["kind"].startswith("fraud_review")]


@pytest.fixture
def market(client, ctx, frozen_clock):
    return Market(client, frozen_clock)


def stored(lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    db.session.refresh(lead)
    return lead


def transfers_of(lead_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.lead_id == lead_id))


def audit_rows(lead_id: int) -> list[ModerationAction]:
    return list(
        db.session.scalars(
            select(ModerationAction)
            .where(ModerationAction.subject_type == "lead", ModerationAction.subject_id == lead_id)
            .order_by(ModerationAction.id)
        )
    )


def events_of(lead_id: int) -> list[tuple[str, str | None, str]]:
    rows = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id))
    return [(event.action, event.from_status, event.to_status) for event in rows]


# -- validation holds flagged leads ----------------------------------------------------------------


def test_a_flagged_lead_waits_in_review_with_its_prices_fixed_and_nothing_reserved(market, billing_check):
    lead_id = market.flagged_lead()

    lead = stored(lead_id)
    assert (lead.currency, lead.rate_minor, lead.payout_minor) == ("USD", RATE, PAYOUT)
    assert lead.accepted_at == market.clock.now and lead.pricing["model"] == "cpl"
    assert lead.review_deadline is None and lead.reason_codes == []
    assert [f["code"] for f in lead.findings if f["severity"] == "flag"] == ["click_too_fast"]
    assert events_of(lead_id)[-1] == ("hold_for_review", "received", "review")
    last = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id.desc())
    )
    assert last.first().reason == "flagged for fraud review: Too fast after the click"
    assert transfers_of(lead_id) == 0
    assert market.available() == FUNDS  # nothing reserved
    assert balance(market.client, market.wm_key, "hold")["pending_in_minor"] == 0


def test_the_webmaster_sees_its_lead_in_review_and_the_advertiser_gets_no_delivery(
    client, ctx, frozen_clock, billing_check
):
    with Endpoint() as endpoint:
        market = Market(client, frozen_clock)
        put = client.put(
            "/api/v1/delivery-settings", json={"url": endpoint.url}, headers=auth(market.adv_key)
        )
        assert put.status_code == 200, put.get_json()
        lead_id = market.flagged_lead()

        shown = client.get(f"/api/v1/leads/{lead_id}", headers=auth(market.wm_key)).get_json()
        assert (shown["status"], shown["reason_codes"]) == ("review", [])
        assert "findings" not in shown and "rate_minor" not in shown
        assert db.session.scalar(select(func.count()).select_from(LeadDelivery)) == 0
        assert endpoint.received == []

        assert market.verdict(lead_id, "clear").status_code == 200
        assert db.session.scalar(select(LeadDelivery.lead_id)) == lead_id  # delivered once cleared
        assert [received.json()["lead"]["id"] for received in endpoint.received] == [lead_id]
        shown = client.get(f"/api/v1/leads/{lead_id}", headers=auth(market.wm_key)).get_json()
        assert shown["status"] == "pending"


def test_the_same_lead_on_an_offer_without_fraud_review_is_pending_as_before(
    client, ctx, frozen_clock, billing_check
):
    market = Market(client, frozen_clock, fraud_review=False)
    lead = market.lead(1)
    assert lead["status"] == "pending"
    assert [f["code"] for f in stored(lead["id"]).findings if f["severity"] == "flag"] == ["click_too_fast"]
    assert market.available() == FUNDS - RATE


def test_a_lead_with_no_flag_on_an_offer_with_fraud_review_is_pending(market, billing_check):
    lead = market.lead(60)
    assert lead["status"] == "pending"
    assert market.available() == FUNDS - RATE


def test_a_lead_a_finding_rejects_is_rejected_not_reviewed(market, billing_check):
    lead = market.lead(1, country="FR")  # flagged too fast, and outside the offer's countries
    assert (lead["status"], lead["reason_codes"]) == ("rejected", ["geo_mismatch"])
    assert stored(lead["id"]).rejected_at == market.clock.now


def test_a_lead_in_review_blocks_its_duplicate_and_takes_its_cap_place_until_rejected(
    client, ctx, frozen_clock, billing_check
):
    market = Market(client, frozen_clock, daily_cap=2)
    same = lead_fields()
    held = market.flagged_lead(**same)
    duplicate = market.lead(60, **same)
    assert (duplicate["status"], duplicate["reason_codes"]) == ("rejected", ["duplicate"])

    assert market.lead(60)["status"] == "pending"  # the cap's second place
    assert market.lead(60)["reason_codes"] == ["cap_reached"]  # the held lead has the first
    assert market.verdict(held, "reject").status_code == 200
    assert market.lead(60)["status"] == "pending"  # its place is free again


# -- the queue ----------------------------------------------------------------------------------------


def test_the_queue_lists_flagged_leads_the_longest_waiting_first_with_their_evidence(market):
    first = market.flagged_lead()
    market.lead(60)  # not flagged: not in the queue
    second = market.flagged_lead()
    market.clock.advance(minutes=10)

    page = market.client.get(REVIEWS, headers=auth(market.mod_key)).get_json()
    assert (page["total"], [item["id"] for item in page["items"]]) == (2, [first, second])
    item = page["items"][0]
    assert item["status"] == "review" and item["flags"] == ["click_too_fast"]
    assert {"code", "severity", "detail", "points"} <= set(item["findings"][0])
    assert isinstance(item["score"], int) and item["temperature"] in ("cold", "warm", "hot")
    assert item["offer"] == {
        "id": market.offer.id,
        "name": "Solar quotes",
        "advertiser_id": market.advertiser.id,
    }
    assert item["webmaster"]["id"] == market.webmaster.id and item["webmaster"]["status"] == "active"
    assert (item["rate_minor"], item["payout_minor"], item["currency"]) == (RATE, PAYOUT, "USD")
    assert item["waiting_seconds"] == 60 + 1 + 10 * 60  # held before the two later leads' clicks
    assert page["items"][1]["waiting_seconds"] == 10 * 60

    paged = market.client.get(f"{REVIEWS}?page=2&per_page=1", headers=auth(market.mod_key)).get_json()
    assert (paged["total"], [item["id"] for item in paged["items"]]) == (2, [second])
    market.verdict(first, "clear")
    after = market.client.get(REVIEWS, headers=auth(market.mod_key)).get_json()
    assert [item["id"] for item in after["items"]] == [second]


# -- clear ---------------------------------------------------------------------------------------------


def test_clearing_reserves_the_price_and_makes_the_lead_pending(market, billing_check):
    lead_id = market.flagged_lead()
    cleared_at = market.clock.advance(hours=2)

    response = market.verdict(lead_id, "clear", reason="A real person: the call centre reached them.")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["waiting_seconds"]) == ("pending", None)
    lead = stored(lead_id)
    assert lead.review_deadline == cleared_at + timedelta(seconds=WINDOW)
    assert events_of(lead_id)[-1] == ("clear", "review", "pending")
    assert market.available() == FUNDS - RATE
    hold = balance(market.client, market.wm_key, "hold")
    assert (hold["pending_in_minor"], hold["posted_minor"]) == (PAYOUT, 0)
    approved = market.client.post(f"/api/v1/leads/{lead_id}/approve", json={}, headers=auth(market.adv_key))
    assert approved.get_json()["status"] == "approved"  # the advertiser reviews it as any lead


def test_clearing_without_funds_waits_for_them_and_a_top_up_funds_it(
    client, ctx, frozen_clock, billing_check
):
    market = Market(client, frozen_clock, funds=0)
    lead_id = market.flagged_lead()

    cleared = market.verdict(lead_id, "clear")

    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["status"] == "awaiting_funds"
    assert events_of(lead_id)[-1] == ("wait_for_funds", "review", "awaiting_funds")
    assert transfers_of(lead_id) == 0
    [note] = market.notes(market.wm_key)
    assert "waiting for the advertiser's funds" in note["message"]

    admin_key = make_key(make_user("admin"))
    credit = {
        "advertiser_id": market.advertiser.id,
        "currency": "USD",
        "amount_minor": FUNDS,
        "reference": "wire-1",
    }
    assert client.post("/api/v1/admin/credits", json=credit, headers=auth(admin_key)).status_code == 201

    assert stored(lead_id).status == "pending"
    assert events_of(lead_id)[-1] == ("fund", "awaiting_funds", "pending")
    assert market.available() == FUNDS - RATE
    assert market.verdict(lead_id, "clear").get_json()["status"] == "pending"  # still the one verdict


def test_clearing_on_an_offer_that_auto_approves_approves_at_once(client, ctx, frozen_clock, billing_check):
    market = Market(client, frozen_clock, auto_approve="all")
    lead_id = market.flagged_lead()

    assert market.verdict(lead_id, "clear").get_json()["status"] == "approved"
    assert events_of(lead_id)[-2:] == [("clear", "review", "pending"), ("approve", "pending", "approved")]
    approver = db.session.scalar(select(LeadEvent.actor_label).order_by(LeadEvent.id.desc()).limit(1))
    assert approver == "auto-approval"
    assert market.available() == FUNDS - RATE
    assert balance(client, market.adv_key, "available")["posted_minor"] == FUNDS - RATE  # charged
    assert audit_rows(lead_id)[0].data["status"] == "pending"  # the verdict's own outcome


# -- reject --------------------------------------------------------------------------------------------


def test_rejecting_rejects_with_the_flags_and_moves_no_money(market, billing_check):
    lead_id = market.flagged_lead()
    rejected_at = market.clock.advance(minutes=5)

    response = market.verdict(lead_id, "reject", reason="Same device as 40 leads this hour.")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected"
    lead = stored(lead_id)
    assert lead.reason_codes == ["click_too_fast", "fraud_review_rejected"]
    assert lead.rejected_at == rejected_at
    assert events_of(lead_id)[-1] == ("reject_fraud", "review", "rejected")
    assert transfers_of(lead_id) == 0
    assert market.available() == FUNDS
    shown = market.client.get(f"/api/v1/leads/{lead_id}", headers=auth(market.wm_key)).get_json()
    assert (shown["status"], shown["reason_codes"]) == (
        "rejected",
        ["click_too_fast", "fraud_review_rejected"],
    )


# -- once, and only from review ---------------------------------------------------------------------


@pytest.mark.parametrize(("verdict", "status"), [("clear", "pending"), ("reject", "rejected")])
def test_a_verdict_given_twice_has_one_effect(market, billing_check, verdict, status):
    lead_id = market.flagged_lead()
    first = market.verdict(lead_id, verdict)
    effects = (transfers_of(lead_id), events_of(lead_id), len(audit_rows(lead_id)), market.available())

    again = market.verdict(lead_id, verdict, reason="clicked twice")

    assert (first.status_code, again.status_code) == (200, 200), again.get_json()
    assert first.get_json()["status"] == again.get_json()["status"] == status
    assert (
        transfers_of(lead_id),
        events_of(lead_id),
        len(audit_rows(lead_id)),
        market.available(),
    ) == effects
    assert len(market.notes(market.wm_key)) == len(market.notes(market.adv_key)) == 1


@pytest.mark.parametrize(("first", "then"), [("clear", "reject"), ("reject", "clear")])
def test_the_other_verdict_after_one_is_refused(market, billing_check, first, then):
    lead_id = market.flagged_lead()
    assert market.verdict(lead_id, first).status_code == 200
    status = stored(lead_id).status

    response = market.verdict(lead_id, then)

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "lead_not_in_review"
    assert stored(lead_id).status == status
    assert len(audit_rows(lead_id)) == 1


@pytest.mark.parametrize("verdict", ["clear", "reject"])
def test_a_lead_never_held_is_a_409_and_an_unknown_one_a_404(market, billing_check, verdict):
    pending = market.lead(60)["id"]
    response = market.verdict(pending, verdict)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "lead_not_in_review")
    assert stored(pending).status == "pending"
    missing = market.verdict(999_999, verdict)
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "not_found")


# -- who, and why -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_only_moderators_and_admins_see_the_queue_and_decide(market, billing_check, role):
    lead_id = market.flagged_lead()
    key = market.adv_key if role == "advertiser" else market.wm_key
    assert market.client.get(REVIEWS, headers=auth(key)).status_code == 403
    for verdict in ("clear", "reject"):
        response = market.verdict(lead_id, verdict, key=key)
        assert (response.status_code, response.get_json()["error"]["code"]) == (403, "wrong_role")
    assert market.client.get(REVIEWS).status_code == 401
    assert stored(lead_id).status == "review"

    admin_key = make_key(make_user("admin"))
    assert market.client.get(REVIEWS, headers=auth(admin_key)).get_json()["total"] == 1
    assert market.verdict(lead_id, "reject", key=admin_key).status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"reason": "x" * 501}, {"reason": 7}]
)
@pytest.mark.parametrize("verdict", ["clear", "reject"])
def test_a_verdict_without_a_reason_is_a_422_naming_it(market, billing_check, verdict, body):
    lead_id = market.flagged_lead()
    response = market.client.post(f"{REVIEWS}/{lead_id}/{verdict}", json=body, headers=auth(market.mod_key))
    assert response.status_code == 422, response.get_json()
    assert "reason" in response.get_json()["error"]["fields"]
    assert stored(lead_id).status == "review"
    assert audit_rows(lead_id) == []


@pytest.mark.parametrize(
    ("verdict", "action"), [("clear", "clear_flagged_lead"), ("reject", "reject_flagged_lead")]
)
def test_each_verdict_is_audited_and_both_parties_are_told(market, billing_check, verdict, action):
    lead_id = market.flagged_lead()
    reason = "Checked the landing page's logs."

    assert market.verdict(lead_id, verdict, reason=reason).status_code == 200

    [row] = audit_rows(lead_id)
    assert (row.action, row.reason, row.actor_kind) == (action, reason, "api_key")
    assert row.actor_user_id == market.moderator.id
    assert row.data["findings"] == ["click_too_fast"]
    assert row.data["status"] == ("pending" if verdict == "clear" else "rejected")
    for key in (market.wm_key, market.adv_key):
        [note] = market.notes(key)
        assert note["kind"] == f"fraud_review_{'cleared' if verdict == 'clear' else 'rejected'}"
        assert note["data"]["lead_id"] == lead_id and reason in note["message"]
    assert "1500" not in market.notes(market.wm_key)[0]["message"]  # never the rate to the webmaster
