"""Money over the API: payouts, admin credits and settlements, own transfers (DESIGN §5, §6)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from billing.models import Transfer
from billing.payouts.models import Payout
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import release_hold
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user

EARNED = 3000  # the payout of one approved lead, released from hold


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def end_of_request() -> None:
    """Do what Flask-SQLAlchemy's teardown does after a request: drop what it did not commit.

    Requests in these tests share the fixture's application context, so the
    teardown that ends a real request's session does not run between them.
    """
    db.session.rollback()


class Earner:
    """A webmaster with EARNED available to withdraw (a lead approved, its hold over)."""

    def __init__(self, client):
        self.client = client
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, rate_minor=EARNED + 1000, payout_minor=EARNED, hold_seconds=0)
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        self.webmaster_id, self.advertiser_id = webmaster.id, advertiser.id
        self.adv_key, self.wm_key = make_key(advertiser), make_key(webmaster)
        lead = client.post(
            "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(self.wm_key)
        )
        assert lead.get_json()["status"] == "pending", lead.get_json()
        approved = client.post(
            f"/api/v1/leads/{lead.get_json()['id']}/approve", json={}, headers=auth(self.adv_key)
        )
        assert approved.status_code == 200, approved.get_json()
        assert release_hold(lead.get_json()["id"])
        commit()
        assert balance(client, self.wm_key, "available")["available_minor"] == EARNED

    def request_payout(self, amount_minor: int, currency: str = "USD", idempotency_key: str | None = None):
        headers = auth(self.wm_key) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
        return self.client.post(
            "/api/v1/payouts", json={"currency": currency, "amount_minor": amount_minor}, headers=headers
        )

    def payouts(self) -> int:
        return count(Payout, Payout.webmaster_id == self.webmaster_id)


def admin_key() -> str:
    return make_key(make_user("admin"))


# --- payouts -------------------------------------------------------------------------------------


def test_a_payout_below_the_minimum_is_refused(client, ctx):
    earner = Earner(client)
    minimum = current_app.config["PAYOUT_MINIMUM_MINOR"]["default"]
    assert minimum <= EARNED  # so that only the minimum can refuse it

    response = earner.request_payout(minimum - 1)

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "below_minimum"
    assert "amount_minor" in error["fields"]
    end_of_request()
    assert earner.payouts() == 0
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED


def test_a_payout_of_exactly_the_minimum_is_accepted(client, ctx):
    earner = Earner(client)
    minimum = current_app.config["PAYOUT_MINIMUM_MINOR"]["default"]
    response = earner.request_payout(minimum)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "requested"
    assert response.get_json()["amount_minor"] == minimum
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED - minimum


def test_a_payout_above_the_available_balance_is_refused_and_leaves_no_payout(client, ctx):
    earner = Earner(client)

    response = earner.request_payout(EARNED + 1)

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_funds"
    assert "amount_minor" in error["fields"]
    end_of_request()
    assert earner.payouts() == 0
    available = balance(client, earner.wm_key, "available")
    assert available["available_minor"] == EARNED
    assert available["pending_out_minor"] == 0
    # and what is there can still be withdrawn in full
    assert earner.request_payout(EARNED).status_code == 201
    assert earner.payouts() == 1


def test_a_payout_beyond_any_possible_amount_is_refused_with_a_field_message_not_a_500(client, ctx):
    earner = Earner(client)

    response = earner.request_payout(2**63)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert "amount_minor" in response.get_json()["error"]["fields"]
    end_of_request()
    assert earner.payouts() == 0
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED


def test_a_webmaster_without_earnings_cannot_request_a_payout(client, ctx):
    webmaster = make_user("webmaster")
    response = client.post(
        "/api/v1/payouts", json={"currency": "USD", "amount_minor": 5000}, headers=auth(make_key(webmaster))
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "insufficient_funds"
    end_of_request()
    assert count(Payout, Payout.webmaster_id == webmaster.id) == 0


def test_payouts_are_listed_to_their_own_webmaster_only(client, ctx):
    earner, other = Earner(client), Earner(client)
    mine = earner.request_payout(2000).get_json()["id"]
    theirs = other.request_payout(1500).get_json()["id"]
    listed = client.get("/api/v1/payouts", headers=auth(earner.wm_key)).get_json()
    assert [p["id"] for p in listed["items"]] == [mine]
    assert theirs != mine


# --- admin credits -------------------------------------------------------------------------------


def credit(client, key: str, advertiser_id: int, amount_minor: int, reference: str, currency: str = "USD"):
    return client.post(
        "/api/v1/admin/credits",
        json={
            "advertiser_id": advertiser_id,
            "currency": currency,
            "amount_minor": amount_minor,
            "reference": reference,
        },
        headers=auth(key),
    )


def test_an_admin_credits_an_advertiser(client, ctx):
    advertiser = make_user("advertiser")
    adv_key = make_key(advertiser)

    response = credit(client, admin_key(), advertiser.id, 25_000, "wire-2026-001")

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_minor"] == 25_000
    assert response.get_json()["credit"] == f"advertiser:{advertiser.id}:available:USD"
    row = balance(client, adv_key, "available")
    assert row["available_minor"] == 25_000
    assert row["posted_minor"] == 25_000


def test_the_same_credit_twice_is_credited_once(client, ctx):
    advertiser = make_user("advertiser")
    adv_key, key = make_key(advertiser), admin_key()

    first = credit(client, key, advertiser.id, 25_000, "wire-2026-002")
    second = credit(client, key, advertiser.id, 25_000, "wire-2026-002")

    assert first.status_code == 201, first.get_json()
    assert second.status_code in (200, 201), second.get_json()
    assert second.get_json()["id"] == first.get_json()["id"]
    assert balance(client, adv_key, "available")["available_minor"] == 25_000
    assert count(Transfer, Transfer.id == first.get_json()["id"]) == 1
    # a new reference is a new credit
    assert credit(client, key, advertiser.id, 5_000, "wire-2026-003").status_code == 201
    assert balance(client, adv_key, "available")["available_minor"] == 30_000


def test_a_reference_reused_for_another_amount_is_a_conflict(client, ctx):
    """DESIGN §5: the same transfer id with other content is an error (a client one, not a 500)."""
    advertiser = make_user("advertiser")
    adv_key, key = make_key(advertiser), admin_key()
    assert credit(client, key, advertiser.id, 25_000, "wire-2026-004").status_code == 201

    response = credit(client, key, advertiser.id, 26_000, "wire-2026-004")

    assert response.status_code == 409, response.get_data(as_text=True)
    end_of_request()
    assert balance(client, adv_key, "available")["available_minor"] == 25_000


def test_only_admins_credit(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    adv_key = make_key(advertiser)
    for key in (adv_key, make_key(webmaster)):
        response = credit(client, key, advertiser.id, 25_000, f"self-credit-{key[-6:]}")
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "wrong_role"
    assert balance(client, adv_key, "available")["available_minor"] == 0


def test_crediting_an_unknown_advertiser_is_not_found(client, ctx):
    """404, as for any id that names nothing: the body is well formed (issue 17)."""
    webmaster = make_user("webmaster")
    key = admin_key()
    before = count(Transfer)
    for advertiser_id in (webmaster.id, webmaster.id + 10_000):
        response = credit(client, key, advertiser_id, 25_000, f"nobody-{advertiser_id}")
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"
        assert "advertiser_id" in response.get_json()["error"]["fields"]
    end_of_request()
    assert count(Transfer) == before


def test_a_credit_funds_leads_that_were_waiting_for_money(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    wm_key = make_key(webmaster)
    waiting = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(wm_key)
    )
    assert waiting.get_json()["status"] == "awaiting_funds"

    assert credit(client, admin_key(), advertiser.id, 10_000, "wire-2026-005").status_code == 201

    lead = client.get(f"/api/v1/leads/{waiting.get_json()['id']}", headers=auth(wm_key)).get_json()
    assert lead["status"] == "pending"


# --- settlements ---------------------------------------------------------------------------------


def settle(client, key: str, payout_id: int, outcome: str):
    return client.post(
        f"/api/v1/admin/payouts/{payout_id}/settle", json={"outcome": outcome}, headers=auth(key)
    )


def test_a_paid_payout_is_settled_once(client, ctx):
    earner, key = Earner(client), admin_key()
    payout_id = earner.request_payout(2000).get_json()["id"]

    paid = settle(client, key, payout_id, "paid")

    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["status"] == "paid"
    assert paid.get_json()["settled_at"]
    available = balance(client, earner.wm_key, "available")
    assert available["posted_minor"] == EARNED - 2000
    assert available["available_minor"] == EARNED - 2000
    assert available["pending_out_minor"] == 0
    again = settle(client, key, payout_id, "paid")
    assert again.status_code == 200
    assert again.get_json()["status"] == "paid"
    conflict = settle(client, key, payout_id, "failed")
    assert conflict.status_code == 409, conflict.get_json()
    assert conflict.get_json()["error"]["code"] == "payout_settled"
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED - 2000
    assert db.session.get(Payout, payout_id, populate_existing=True).status == "paid"


def test_a_stripe_connect_payout_cannot_be_settled_by_hand(client, ctx):
    """Its transfer may be in flight at Stripe: only the job, by Stripe's answer, settles it."""
    earner, key = Earner(client), admin_key()
    payout_id = earner.request_payout(2000).get_json()["id"]
    db.session.execute(  # as if the webmaster's rail were Stripe Connect when it asked
        update(Payout)
        .where(Payout.id == payout_id)
        .values(rail="stripe_connect", stripe_account_id="acct_1TestConnected")
    )
    commit()

    for outcome in ("paid", "failed"):
        refused = settle(client, key, payout_id, outcome)
        assert refused.status_code == 409, refused.get_json()
        assert refused.get_json()["error"]["code"] == "settled_by_stripe"
    assert db.session.get(Payout, payout_id, populate_existing=True).status == "requested"
    assert count(Transfer, Transfer.pending_id == f"payout:{payout_id}") == 0


def test_a_failed_payout_returns_the_money_to_available(client, ctx):
    earner, key = Earner(client), admin_key()
    payout_id = earner.request_payout(2000).get_json()["id"]
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED - 2000

    failed = settle(client, key, payout_id, "failed")

    assert failed.status_code == 200, failed.get_json()
    assert failed.get_json()["status"] == "failed"
    available = balance(client, earner.wm_key, "available")
    assert available["available_minor"] == EARNED
    assert available["posted_minor"] == EARNED
    assert available["pending_out_minor"] == 0
    conflict = settle(client, key, payout_id, "paid")
    assert conflict.status_code == 409, conflict.get_json()
    assert conflict.get_json()["error"]["code"] == "payout_settled"
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED


def test_only_admins_settle_payouts(client, ctx):
    earner = Earner(client)
    payout_id = earner.request_payout(2000).get_json()["id"]
    for key in (earner.wm_key, earner.adv_key):
        response = settle(client, key, payout_id, "paid")
        assert response.status_code == 403
    assert db.session.get(Payout, payout_id, populate_existing=True).status == "requested"


def test_a_payout_asked_again_with_its_idempotency_key_is_the_same_payout_reserved_once(client, ctx):
    earner = Earner(client)

    first = earner.request_payout(2000, idempotency_key="withdraw-2026-11-30")
    again = earner.request_payout(2000, idempotency_key="withdraw-2026-11-30")  # a retry after a timeout

    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert (first.headers.get("Idempotent-Replayed"), again.headers["Idempotent-Replayed"]) == (None, "true")
    assert earner.payouts() == 1
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED - 2000
    other = earner.request_payout(1000, idempotency_key="withdraw-2026-11-30")  # the key, reused otherwise
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert earner.request_payout(1000, idempotency_key="withdraw-2026-12-01").status_code == 201
    assert earner.payouts() == 2
    assert balance(client, earner.wm_key, "available")["available_minor"] == EARNED - 3000


def test_settling_an_unknown_payout_is_not_found(client, ctx):
    missing = (db.session.scalar(select(func.max(Payout.id))) or 0) + 1000
    response = settle(client, admin_key(), missing, "paid")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- transfers -----------------------------------------------------------------------------------


def test_transfers_list_only_the_callers_own(client, ctx):
    earner, other = Earner(client), Earner(client)
    lonely = make_user("advertiser")
    lonely_key = make_key(lonely)
    fund(lonely, 7_000)
    callers = {
        earner.wm_key: earner.webmaster_id,
        earner.adv_key: earner.advertiser_id,
        other.wm_key: other.webmaster_id,
        other.adv_key: other.advertiser_id,
        lonely_key: lonely.id,
    }

    for key, user_id in callers.items():
        response = client.get("/api/v1/transfers", headers=auth(key))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert page["items"], "everyone here has moved money"
        assert page["total"] == len(page["items"])
        for item in page["items"]:
            row = db.session.get(Transfer, item["id"])
            mine = row.debit_account if item["direction"] == "out" else row.credit_account
            assert (mine.owner_id, mine.purpose) == (user_id, item["account"]), item
            assert set(item) >= {"account", "direction", "counterparty"}
            assert "debit" not in item and "credit" not in item  # no other party's account or id
            assert item["counterparty"] in ("advertiser", "webmaster", "platform")

    lonely_ids = {
        t["id"] for t in client.get("/api/v1/transfers", headers=auth(lonely_key)).get_json()["items"]
    }
    earner_ids = {
        t["id"] for t in client.get("/api/v1/transfers", headers=auth(earner.adv_key)).get_json()["items"]
    }
    assert len(lonely_ids) == 1  # its top-up
    # the earner's advertiser: top-up, two reservations, two postings
    assert len(earner_ids) == 5
    assert not lonely_ids & earner_ids
