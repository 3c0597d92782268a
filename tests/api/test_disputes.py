"""Disputes end to end over the API (docs/disputes.md): appeals and returns, answered,
escalated and decided, with the money after each decision and the real
``flask billing check`` after each test (the ``billing_check`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing.models import Account, Transfer
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.moderation.audit.models import ModerationAction
from exchange.notifications.models import Notification
from exchange.periodic import sweep
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user

RATE, PAYOUT, FUNDS = 1500, 1000, 10_000
MARGIN = RATE - PAYOUT
DAY = 86400

pytestmark = pytest.mark.usefixtures("billing_check")


class Market:
    """One advertiser, one webmaster on its offer, one moderator, and API calls between them."""

    def __init__(self, client, funds: int = FUNDS, **offer_settings):
        self.client = client
        self.advertiser, self.webmaster = make_user("advertiser"), make_user("webmaster")
        self.moderator = make_user("moderator")
        offer = make_offer(self.advertiser, rate_minor=RATE, payout_minor=PAYOUT, **offer_settings)
        if funds:
            fund(self.advertiser, funds)
        make_join(self.webmaster, offer)
        self.offer_id = offer.id
        self.adv = make_key(self.advertiser)
        self.wm = make_key(self.webmaster)
        self.mod = make_key(self.moderator)

    def call(self, key: str, path: str, body: dict | None = None, method: str = "post"):
        return getattr(self.client, method)(f"/api/v1{path}", json=body, headers=auth(key))

    def ok(self, key: str, path: str, body: dict | None = None, status: int = 200) -> dict:
        response = self.call(key, path, body)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def pending_lead(self) -> int:
        lead = self.ok(self.wm, "/leads", {"offer_id": self.offer_id, "fields": lead_fields()}, status=202)
        assert lead["status"] == "pending"
        return lead["id"]

    def rejected_lead(self) -> int:
        lead_id = self.pending_lead()
        self.ok(self.adv, f"/leads/{lead_id}/reject", {"reason": "nobody answers"})
        return lead_id

    def approved_lead(self) -> int:
        lead_id = self.pending_lead()
        self.ok(self.adv, f"/leads/{lead_id}/approve", {})
        return lead_id

    def appeal(self, lead_id: int, reason: str = "contact_valid") -> dict:
        body = {"lead_id": lead_id, "reason": reason, "statement": "The person answered our call."}
        return self.ok(self.wm, "/disputes", body, status=201)

    def return_request(self, lead_id: int, reason: str = "invalid_contact") -> dict:
        body = {"lead_id": lead_id, "reason": reason, "statement": "The number is disconnected."}
        return self.ok(self.adv, "/disputes", body, status=201)

    def contest(self, key: str, dispute_id: int) -> dict:
        return self.ok(key, f"/disputes/{dispute_id}/answer", {"accept": False, "statement": "We disagree."})

    def decide(self, dispute_id: int, decision: str) -> dict:
        body = {"decision": decision, "reason": "Evidence weighed."}
        return self.ok(self.mod, f"/disputes/{dispute_id}/resolve", body)

    def lead(self, lead_id: int) -> dict:
        response = self.call(self.adv, f"/leads/{lead_id}", method="get")
        assert response.status_code == 200
        return response.get_json()

    def money(self) -> tuple[int, int, int, int]:
        """Advertiser available, advertiser posted, webmaster hold, platform revenue."""
        advertiser = balance(self.client, self.adv, "available")
        hold = balance(self.client, self.wm, "hold")
        return advertiser["available_minor"], advertiser["posted_minor"], hold["posted_minor"], revenue()


def revenue() -> int:
    account = db.session.scalar(
        select(Account).where(Account.owner == "platform", Account.purpose == "revenue")
    )
    return (account.credits_posted - account.debits_posted) if account else 0


def transfers_of(lead_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Transfer.id).where(Transfer.lead_id == lead_id)))


def notifications_of(user_id: int, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
    )


# Appeals


def test_an_appeal_contested_and_overturned_approves_the_lead_and_charges_the_advertiser(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    assert market.money() == (FUNDS, FUNDS, 0, 0)  # the rejection voided the reservation
    dispute = market.appeal(lead_id)
    assert dispute["kind"] == "appeal" and dispute["status"] == "awaiting_answer"
    assert market.contest(market.adv, dispute["id"])["status"] == "escalated"

    decided = market.decide(dispute["id"], "overturn")

    assert decided["status"] == "resolved" and decided["outcome"] == "overturned"
    assert decided["winner"] == "webmaster"
    assert market.lead(lead_id)["status"] == "approved"
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)
    assert transfers_of(lead_id) == sorted(
        [
            f"lead:{lead_id}:reserve:payout",
            f"lead:{lead_id}:reserve:margin",
            f"lead:{lead_id}:void:payout",
            f"lead:{lead_id}:void:margin",
            f"lead:{lead_id}:reinstated:reserve:payout",
            f"lead:{lead_id}:reinstated:reserve:margin",
            f"lead:{lead_id}:reinstated:approve:payout",
            f"lead:{lead_id}:reinstated:approve:margin",
        ]
    )


def test_an_appeal_upheld_leaves_the_lead_rejected_and_the_money_where_it_was(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])

    decided = market.decide(dispute["id"], "uphold")

    assert decided["outcome"] == "upheld" and decided["winner"] == "advertiser"
    assert market.lead(lead_id)["status"] == "rejected"
    assert market.money() == (FUNDS, FUNDS, 0, 0)


def test_an_advertiser_conceding_an_appeal_approves_the_lead_without_a_moderator(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)

    answered = market.ok(market.adv, f"/disputes/{dispute['id']}/answer", {"accept": True})

    assert answered["status"] == "resolved" and answered["decided_by"] == "party"
    assert answered["outcome"] == "overturned"
    assert market.lead(lead_id)["status"] == "approved"
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 0  # no moderator acted


def test_an_appeal_overturned_without_funds_waits_for_them_and_is_approved_when_they_come(client, ctx):
    market = Market(client, funds=RATE)
    lead_id = market.rejected_lead()
    market.pending_lead()  # takes the only lead's worth of money
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])

    market.decide(dispute["id"], "overturn")

    assert market.lead(lead_id)["status"] == "awaiting_funds"
    fund(market.advertiser, RATE)
    sweep()  # funds waiting leads (as money arriving does)
    assert market.lead(lead_id)["status"] == "approved"
    available, posted, hold, _ = market.money()
    assert (available, posted) == (0, 2 * RATE - RATE)  # one lead charged, the other reserved
    assert hold == PAYOUT


# Returns


def test_a_return_contested_and_upheld_reverses_the_charge(client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)
    dispute = market.return_request(lead_id)
    assert dispute["kind"] == "return"
    market.contest(market.wm, dispute["id"])

    decided = market.decide(dispute["id"], "uphold")

    assert decided["winner"] == "advertiser"
    assert market.lead(lead_id)["status"] == "returned"
    assert market.money() == (FUNDS, FUNDS, 0, 0)


def test_a_return_overturned_keeps_the_lead_approved_and_charged(client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    dispute = market.return_request(lead_id)
    market.contest(market.wm, dispute["id"])

    decided = market.decide(dispute["id"], "overturn")

    assert decided["winner"] == "webmaster"
    assert market.lead(lead_id)["status"] == "approved"
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)


def test_a_webmaster_conceding_a_return_returns_the_lead_at_once(client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    dispute = market.return_request(lead_id)

    answered = market.ok(
        market.wm, f"/disputes/{dispute['id']}/answer", {"accept": True, "statement": "Fair."}
    )

    assert answered["status"] == "resolved" and answered["outcome"] == "upheld"
    assert market.lead(lead_id)["status"] == "returned"
    assert market.money() == (FUNDS, FUNDS, 0, 0)


def test_a_payout_under_a_return_dispute_stays_on_hold_until_the_decision(client, ctx, frozen_clock):
    market = Market(client, hold_seconds=10 * DAY, return_window_seconds=10 * DAY)
    lead_id = market.approved_lead()
    dispute = market.return_request(lead_id)
    market.contest(market.wm, dispute["id"])
    frozen_clock.advance(days=11)  # the hold has ended

    sweep()
    assert balance(client, market.wm, "available")["posted_minor"] == 0  # not released: disputed

    market.decide(dispute["id"], "overturn")
    sweep()
    assert balance(client, market.wm, "available")["posted_minor"] == PAYOUT
    assert balance(client, market.wm, "hold")["posted_minor"] == 0


def test_a_return_upheld_after_the_hold_ended_still_takes_the_payout_back_from_hold(
    client, ctx, frozen_clock
):
    market = Market(client, hold_seconds=10 * DAY, return_window_seconds=10 * DAY)
    lead_id = market.approved_lead()
    dispute = market.return_request(lead_id)
    market.contest(market.wm, dispute["id"])
    frozen_clock.advance(days=12)
    sweep()

    market.decide(dispute["id"], "uphold")

    assert market.lead(lead_id)["status"] == "returned"
    assert market.money() == (FUNDS, FUNDS, 0, 0)


# Decisions: once, by moderators, on escalated disputes


def test_the_same_decision_twice_has_one_effect(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])
    market.decide(dispute["id"], "overturn")
    transfers, money = transfers_of(lead_id), market.money()

    again = market.decide(dispute["id"], "overturn")

    assert again["outcome"] == "overturned"
    assert transfers_of(lead_id) == transfers
    assert market.money() == money
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 1


def test_a_contrary_second_decision_is_refused(client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    dispute = market.return_request(lead_id)
    market.contest(market.wm, dispute["id"])
    market.decide(dispute["id"], "uphold")

    response = market.call(
        market.mod, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn", "reason": "x"}
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dispute_already_decided"
    assert market.lead(lead_id)["status"] == "returned"


def test_moderators_decide_only_escalated_disputes(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())

    response = market.call(
        market.mod, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn", "reason": "x"}
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dispute_awaiting_answer"


def test_only_moderators_decide(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    market.contest(market.adv, dispute["id"])

    for key in (market.adv, market.wm):
        response = market.call(
            key, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn", "reason": "x"}
        )
        assert response.status_code == 403


def test_a_decision_is_audited_and_both_parties_are_notified(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    market.contest(market.adv, dispute["id"])

    market.decide(dispute["id"], "overturn")

    (entry,) = db.session.scalars(select(ModerationAction)).all()
    assert (entry.actor_user_id, entry.action, entry.subject_type, entry.subject_id) == (
        market.moderator.id,
        "decide_dispute",
        "dispute",
        dispute["id"],
    )
    assert entry.reason == "Evidence weighed." and entry.data["outcome"] == "overturned"
    (to_webmaster,) = notifications_of(market.webmaster.id, "dispute_resolved")
    (to_advertiser,) = notifications_of(market.advertiser.id, "dispute_resolved")
    assert to_webmaster.data["result"] == "won" and to_advertiser.data["result"] == "lost"


def test_an_overturned_rejection_is_posted_back_to_the_webmasters_tracker(client, ctx):
    from exchange.delivery.postbacks.models import PostbackDelivery

    market = Market(client)
    put = client.put(
        "/api/v1/postback-url",
        json={"url_template": "https://tracker.example/pb?cid={click_id}&status={status}"},
        headers=auth(market.wm),
    )
    assert put.status_code in (200, 201), put.get_json()
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])

    market.decide(dispute["id"], "overturn")

    statuses = db.session.scalars(
        select(PostbackDelivery.lead_status)
        .where(PostbackDelivery.lead_id == lead_id)
        .order_by(PostbackDelivery.id)
    ).all()
    assert statuses[-2:] == ["pending", "approved"]  # reinstated, then approved


# Who may dispute what


def test_a_webmaster_cannot_appeal_another_webmasters_lead(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    stranger = make_key(make_user("webmaster"))

    body = {"lead_id": lead_id, "reason": "contact_valid", "statement": "mine?"}
    response = market.call(stranger, "/disputes", body)

    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_an_advertiser_cannot_return_another_advertisers_lead(client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    stranger = make_key(make_user("advertiser"))

    body = {"lead_id": lead_id, "reason": "invalid_contact", "statement": "not mine"}
    assert market.call(stranger, "/disputes", body).status_code == 404


def test_a_stranger_sees_nothing_of_a_dispute(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    stranger = make_key(make_user("webmaster"))

    assert market.call(stranger, f"/disputes/{dispute['id']}", method="get").status_code == 404
    assert market.call(stranger, f"/disputes/{dispute['id']}/messages", {"body": "hi"}).status_code == 404
    listed = market.call(stranger, "/disputes", method="get").get_json()
    assert listed["total"] == 0


def test_the_claimant_cannot_answer_its_own_dispute(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())

    response = market.call(market.wm, f"/disputes/{dispute['id']}/answer", {"accept": True})

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_the_counterparty"


def test_a_lead_gets_one_appeal(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    market.appeal(lead_id)

    body = {"lead_id": lead_id, "reason": "not_duplicate", "statement": "again"}
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dispute_exists"


def test_only_a_lead_its_advertiser_rejected_can_be_appealed(client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()

    body = {"lead_id": lead_id, "reason": "contact_valid", "statement": "?"}
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "lead_not_appealable"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "contact_valid", "statement": "x"}, "lead_id"),
        ({"lead_id": 1, "statement": "x"}, "reason"),
        ({"lead_id": 1, "reason": "contact_valid"}, "statement"),
        ({"lead_id": 1, "reason": "contact_valid", "statement": ""}, "statement"),
        ({"lead_id": 1, "reason": "because", "statement": "x"}, "reason"),
        ({"lead_id": "one", "reason": "contact_valid", "statement": "x"}, "lead_id"),
    ],
)
def test_a_malformed_dispute_is_a_422_naming_the_field(client, ctx, body, field):
    market = Market(client)

    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_a_reason_from_the_other_kinds_list_is_refused(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()

    body = {"lead_id": lead_id, "reason": "underage", "statement": "x"}  # a return reason
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_a_decision_needs_a_written_reason(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    market.contest(market.adv, dispute["id"])

    response = market.call(market.mod, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn"})

    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]


# The thread, withdrawal


def test_both_parties_and_moderators_write_in_the_thread_until_it_closes(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    path = f"/disputes/{dispute['id']}/messages"
    market.ok(market.adv, path, {"body": "Recording attached?"}, status=201)
    market.ok(market.mod, path, {"body": "Please both send the call logs."}, status=201)
    market.ok(market.wm, path, {"body": "Here they are."}, status=201)

    thread = market.call(market.wm, path, method="get").get_json()

    assert [(m["author_role"], m["body"]) for m in thread] == [
        ("webmaster", "The person answered our call."),
        ("advertiser", "Recording attached?"),
        ("moderator", "Please both send the call logs."),
        ("webmaster", "Here they are."),
    ]
    assert (
        len(notifications_of(market.advertiser.id, "dispute_message")) == 2
    )  # the webmaster's and the moderator's
    market.ok(market.wm, f"/disputes/{dispute['id']}/withdraw")
    closed = market.call(market.adv, path, {"body": "late"})
    assert closed.status_code == 409
    assert closed.get_json()["error"]["code"] == "dispute_closed"


def test_a_withdrawn_appeal_changes_nothing_and_cannot_be_decided(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])

    withdrawn = market.ok(market.wm, f"/disputes/{dispute['id']}/withdraw")

    assert withdrawn["status"] == "withdrawn"
    assert market.lead(lead_id)["status"] == "rejected"
    response = market.call(
        market.mod, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn", "reason": "x"}
    )
    assert response.status_code == 409
    assert market.money() == (FUNDS, FUNDS, 0, 0)


def test_the_evidence_gathers_the_lead_its_findings_events_thread_and_both_histories(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)

    response = market.call(market.mod, f"/moderation/disputes/{dispute['id']}/evidence", method="get")

    assert response.status_code == 200
    evidence = response.get_json()
    assert evidence["lead"]["id"] == lead_id
    assert evidence["lead"]["fields"]["name"].startswith("Person")
    assert evidence["lead"]["temperature"] in ("cold", "warm", "hot")
    assert all({"code", "points"} <= set(finding) for finding in evidence["lead"]["findings"])
    assert [e["to_status"] for e in evidence["lead_events"]] == ["received", "pending", "rejected"]
    assert evidence["thread"][0]["body"] == "The person answered our call."
    assert evidence["dispute"]["id"] == dispute["id"]
    history = evidence["history"]
    # this webmaster's one lead was decided once, by a rejection: 0 % approved
    assert (history["webmaster"]["leads_decided"], history["webmaster"]["approval_rate"]) == (1, 0)
    # this advertiser reviewed one lead and rejected it: 100 % rejected
    assert (history["advertiser"]["leads_reviewed"], history["advertiser"]["rejection_rate"]) == (1, 100)
    assert (
        market.call(market.wm, f"/moderation/disputes/{dispute['id']}/evidence", method="get").status_code
        == 403
    )


# Moves a dispute's state refuses, and what the review found


@pytest.mark.parametrize(
    ("setup", "caller", "action", "code"),
    [
        ("escalated", "adv", "answer", "dispute_escalated"),
        ("withdrawn", "adv", "answer", "dispute_not_open"),
        ("resolved", "wm", "withdraw", "dispute_not_open"),
    ],
)
def test_a_move_the_disputes_state_refuses_is_a_409_naming_why(client, ctx, setup, caller, action, code):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    path = f"/disputes/{dispute['id']}"
    if setup == "escalated":
        market.contest(market.adv, dispute["id"])
    elif setup == "withdrawn":
        market.ok(market.wm, f"{path}/withdraw")
    else:
        market.ok(market.adv, f"{path}/answer", {"accept": True})

    response = market.call(getattr(market, caller), f"{path}/{action}", {"accept": False, "statement": "no"})

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == code


def test_a_statement_of_blanks_is_not_a_statement(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()

    response = market.call(
        market.wm, "/disputes", {"lead_id": lead_id, "reason": "other", "statement": "   "}
    )

    assert response.status_code == 422
    assert "statement" in response.get_json()["error"]["fields"]


def test_a_lead_won_on_appeal_cannot_then_be_returned(client, ctx):
    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_count=10)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])
    market.decide(dispute["id"], "overturn")

    body = {"lead_id": lead_id, "reason": "invalid_contact", "statement": "still bad"}
    response = market.call(market.adv, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "lead_won_on_appeal"
    assert market.lead(lead_id)["status"] == "approved"


def test_a_moderator_cannot_redecide_a_dispute_a_party_conceded(client, ctx):
    market = Market(client)
    dispute = market.appeal(market.rejected_lead())
    market.ok(market.adv, f"/disputes/{dispute['id']}/answer", {"accept": True})

    response = market.call(
        market.mod, f"/disputes/{dispute['id']}/resolve", {"decision": "overturn", "reason": "x"}
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dispute_already_decided"
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 0


def test_a_banned_webmaster_cannot_appeal(client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    banned = market.call(
        market.mod, f"/moderation/webmasters/{market.webmaster.id}/ban", {"reason": "fake leads"}
    )
    assert banned.status_code == 200, banned.get_json()

    body = {"lead_id": lead_id, "reason": "contact_valid", "statement": "let me earn"}
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_banned"


def test_a_lead_rejected_by_validation_cannot_be_appealed(client, ctx):
    market = Market(client)
    first = market.pending_lead()
    fields = market.lead(first)["fields"]
    duplicate = market.ok(market.wm, "/leads", {"offer_id": market.offer_id, "fields": fields}, status=202)
    assert duplicate["status"] == "rejected"

    body = {"lead_id": duplicate["id"], "reason": "not_duplicate", "statement": "a different person"}
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "lead_not_appealable"


def test_an_offer_edited_after_a_rejection_keeps_that_leads_appeal_window(client, ctx, frozen_clock):
    market = Market(client, appeal_window_seconds=2 * DAY)
    lead_id = market.rejected_lead()
    patched = market.call(
        market.adv, f"/offers/{market.offer_id}", {"appeal_window_seconds": 3600}, method="patch"
    )
    assert patched.status_code == 200, patched.get_json()
    frozen_clock.advance(hours=2)

    assert market.appeal(lead_id)["status"] == "awaiting_answer"  # the window it was rejected under


def test_an_offer_edited_after_an_approval_keeps_that_leads_return_window(client, ctx, frozen_clock):
    market = Market(client, hold_seconds=2 * DAY, return_window_seconds=DAY)
    lead_id = market.approved_lead()
    patched = market.call(
        market.adv, f"/offers/{market.offer_id}", {"return_window_seconds": 2 * DAY}, method="patch"
    )
    assert patched.status_code == 200, patched.get_json()
    frozen_clock.advance(days=1, seconds=1)

    body = {"lead_id": lead_id, "reason": "invalid_contact", "statement": "late"}
    response = market.call(market.adv, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "return_window_closed"


def test_an_automatic_return_rule_without_a_cap_is_refused(client, ctx):
    market = Market(client)

    patch = {"auto_return_reasons": ["other"]}
    response = market.call(market.adv, f"/offers/{market.offer_id}", patch, method="patch")

    assert response.status_code == 422
    assert "auto_return_reasons" in response.get_json()["error"]["fields"]
