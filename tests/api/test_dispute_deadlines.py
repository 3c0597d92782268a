"""Dispute windows and deadlines under a controlled clock, one second inside and one
second outside; escalation by the sweep; the moderators' queue; automatic return rules
at their cap (docs/disputes.md)."""

from __future__ import annotations

from datetime import datetime

import pytest

from exchange.periodic import sweep
from tests.api.test_disputes import FUNDS, RATE, Market
from tests.factories import balance

HOUR = 3600
pytestmark = pytest.mark.usefixtures("billing_check")


def two_rejected_leads(market: Market) -> tuple[int, int]:
    return market.rejected_lead(), market.rejected_lead()


def test_an_appeal_one_second_before_the_window_closes_is_taken(client, ctx, frozen_clock):
    market = Market(client, appeal_window_seconds=HOUR)
    lead_id = market.rejected_lead()
    frozen_clock.advance(seconds=HOUR - 1)

    assert market.appeal(lead_id)["status"] == "awaiting_answer"


def test_an_appeal_one_second_after_the_window_closed_is_refused(client, ctx, frozen_clock):
    market = Market(client, appeal_window_seconds=HOUR)
    lead_id = market.rejected_lead()
    frozen_clock.advance(seconds=HOUR + 1)

    body = {"lead_id": lead_id, "reason": "contact_valid", "statement": "late"}
    response = market.call(market.wm, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "appeal_window_closed"


def test_a_return_one_second_before_the_window_closes_is_taken(client, ctx, frozen_clock):
    market = Market(client, return_window_seconds=HOUR)
    lead_id = market.approved_lead()
    frozen_clock.advance(seconds=HOUR - 1)

    assert market.return_request(lead_id)["status"] == "awaiting_answer"


def test_a_return_one_second_after_the_window_closed_is_refused(client, ctx, frozen_clock):
    market = Market(client, return_window_seconds=HOUR)
    lead_id = market.approved_lead()
    frozen_clock.advance(seconds=HOUR + 1)

    body = {"lead_id": lead_id, "reason": "invalid_contact", "statement": "late"}
    response = market.call(market.adv, "/disputes", body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "return_window_closed"
    assert market.lead(lead_id)["status"] == "approved"


def test_an_unanswered_dispute_escalates_only_once_its_answer_is_due(client, ctx, frozen_clock):
    market = Market(client, dispute_answer_seconds=HOUR)
    dispute = market.appeal(market.rejected_lead())
    path = f"/disputes/{dispute['id']}"

    frozen_clock.advance(seconds=HOUR - 1)
    assert sweep().disputes_escalated == 0
    assert market.call(market.mod, path, method="get").get_json()["status"] == "awaiting_answer"

    frozen_clock.advance(seconds=2)
    assert sweep().disputes_escalated == 1
    escalated = market.call(market.mod, path, method="get").get_json()
    assert escalated["status"] == "escalated"
    assert escalated["escalated_because"] == "no_answer"
    assert sweep().disputes_escalated == 0  # once


def test_an_answer_one_second_before_it_is_due_is_taken(client, ctx, frozen_clock):
    market = Market(client, dispute_answer_seconds=HOUR)
    dispute = market.appeal(market.rejected_lead())
    frozen_clock.advance(seconds=HOUR - 1)

    answered = market.contest(market.adv, dispute["id"])

    assert answered["status"] == "escalated" and answered["escalated_because"] == "contested"


def test_an_answer_one_second_after_it_was_due_is_refused(client, ctx, frozen_clock):
    market = Market(client, dispute_answer_seconds=HOUR)
    dispute = market.appeal(market.rejected_lead())
    frozen_clock.advance(seconds=HOUR + 1)

    response = market.call(market.adv, f"/disputes/{dispute['id']}/answer", {"accept": True})

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "answer_deadline_passed"
    assert market.lead(dispute["lead_id"])["status"] == "rejected"


def test_the_moderators_queue_is_oldest_first_with_the_time_left(client, ctx, frozen_clock, app):
    market = Market(client, dispute_answer_seconds=HOUR)
    first = market.appeal(market.rejected_lead())
    frozen_clock.advance(minutes=10)
    second = market.appeal(market.rejected_lead())
    frozen_clock.advance(minutes=10)
    market.contest(market.adv, second["id"])  # escalated now
    frozen_clock.advance(seconds=HOUR)
    sweep()  # the first escalates now, after the second
    frozen_clock.advance(minutes=5)

    queue = market.call(market.mod, "/moderation/disputes", method="get").get_json()

    decision_time = app.config["MODERATION_DECISION_SECONDS"]
    assert [item["id"] for item in queue["items"]] == [second["id"], first["id"]]
    assert [item["seconds_left"] for item in queue["items"]] == [
        decision_time - HOUR - 5 * 60,
        decision_time - 5 * 60,
    ]
    assert market.call(market.wm, "/moderation/disputes", method="get").status_code == 403


def test_the_queue_of_disputes_awaiting_an_answer_shows_when_each_is_due(client, ctx, frozen_clock):
    market = Market(client, dispute_answer_seconds=HOUR)
    dispute = market.appeal(market.rejected_lead())
    frozen_clock.advance(minutes=15)

    queue = market.call(market.mod, "/moderation/disputes?status=awaiting_answer", method="get").get_json()

    assert [(item["id"], item["seconds_left"]) for item in queue["items"]] == [
        (dispute["id"], HOUR - 15 * 60)
    ]


# Automatic return rules


def test_returns_within_the_monthly_count_cap_are_accepted_automatically(client, ctx):
    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_count=2)
    leads = [market.approved_lead() for _ in range(3)]

    disputes = [market.return_request(lead_id) for lead_id in leads]

    assert [(d["status"], d["decided_by"]) for d in disputes] == [
        ("resolved", "rule"),
        ("resolved", "rule"),
        ("awaiting_answer", None),  # the third would pass the cap of two: the webmaster answers
    ]
    assert [market.lead(lead_id)["status"] for lead_id in leads] == ["returned", "returned", "approved"]
    assert balance(client, market.adv, "available")["available_minor"] == FUNDS - RATE


def test_a_return_for_a_reason_the_rule_does_not_list_is_not_automatic(client, ctx):
    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_count=5)
    lead_id = market.approved_lead()

    dispute = market.return_request(lead_id, reason="did_not_request")

    assert dispute["status"] == "awaiting_answer"
    assert market.lead(lead_id)["status"] == "approved"


def test_returns_within_the_monthly_percentage_cap_are_accepted_automatically(client, ctx):
    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_percent=50)
    leads = [market.approved_lead() for _ in range(4)]

    statuses = [market.return_request(lead_id)["status"] for lead_id in leads[:3]]

    # 1 of 4 approved (25%), 2 of 4 (50%: at the cap), 3 of 4 (75%: over it)
    assert statuses == ["resolved", "resolved", "awaiting_answer"]


def test_the_monthly_cap_starts_again_with_the_month(client, ctx, frozen_clock):
    frozen_clock.set(datetime(2026, 1, 31, 23, 0, 0))
    market = Market(
        client,
        auto_return_reasons=["invalid_contact"],
        auto_return_cap_count=1,
        hold_seconds=7 * 86400,
        return_window_seconds=7 * 86400,
    )
    january, over_the_cap, february = (market.approved_lead() for _ in range(3))
    assert market.return_request(january)["status"] == "resolved"
    assert market.return_request(over_the_cap)["status"] == "awaiting_answer"  # January's second

    frozen_clock.set(datetime(2026, 2, 1, 0, 0, 0))
    assert market.return_request(february)["status"] == "resolved"  # February's first


def test_the_automatic_rule_is_audited_as_acting_for_the_moderators(client, ctx):
    from sqlalchemy import select

    from exchange.extensions import db
    from exchange.moderation.audit.models import ModerationAction

    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_count=1)
    dispute = market.return_request(market.approved_lead())

    (entry,) = db.session.scalars(select(ModerationAction)).all()
    assert (entry.actor_kind, entry.action, entry.subject_id) == ("system", "decide_dispute", dispute["id"])
    assert entry.data["decided_by"] == "rule"
