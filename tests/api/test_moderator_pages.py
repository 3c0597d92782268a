"""The moderators' pages (issue 7, point 4), driven with the test client: the dispute queue
with the time left, the evidence page and a decision that moves the money, partner
approvals and bans, the fraud review queue, reputation, the audit log and its export.
Every action is a CSRF-protected POST (checked with CSRF switched on)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from exchange.accounts.models import User
from exchange.accounts.services import create_user
from exchange.db import commit
from exchange.extensions import db
from tests.api.test_disputes import FUNDS, MARGIN, PAYOUT, RATE, Market
from tests.api.test_web_portal import login, request

pytestmark = pytest.mark.usefixtures("billing_check")


def page(app, client, path: str) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True).split("<body", 1)[1]


def signed_in_moderator(app, client, market: Market) -> None:
    assert login(app, client, market.moderator.email).status_code == 302


def escalated_appeal(market: Market) -> tuple[int, int]:
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])
    return dispute["id"], lead_id


def test_the_queue_lists_escalated_disputes_oldest_first_with_the_time_left(app, client, ctx, frozen_clock):
    market = Market(client)
    first, _ = escalated_appeal(market)
    frozen_clock.advance(hours=5)
    second, _ = escalated_appeal(market)
    signed_in_moderator(app, client, market)

    body = page(app, client, "/moderator/")

    rows = re.findall(r'<tr><td>(\d+)</td><td><abbr [^>]*data-code="appeal">', body)
    assert [int(row) for row in rows[:2]] == [first, second]
    assert re.findall(r'class="time-left">([^<]+)<', body) == ["1 d 19 h", "2 d 0 h"]


def test_the_evidence_page_shows_the_lead_the_thread_and_both_records(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = escalated_appeal(market)
    signed_in_moderator(app, client, market)

    body = page(app, client, f"/moderator/disputes/{dispute_id}")

    assert f"Appeal {dispute_id} on lead {lead_id}" in body
    assert "The person answered our call." in body and "We disagree." in body  # both sides
    assert "Validation findings" in body and "Person" in body  # the lead's fields
    # each party by its name, its id beside it
    assert f"{market.webmaster.name} <small>(webmaster #{market.webmaster.id})</small>" in body
    assert f"{market.advertiser.name} <small>(advertiser #{market.advertiser.id})</small>" in body
    assert 'name="decision" value="overturn"' in body


def test_deciding_on_the_page_moves_the_money_once(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = escalated_appeal(market)
    signed_in_moderator(app, client, market)
    form = {"decision": "overturn", "reason": "The consent is on record."}

    first = request(app, client, "POST", f"/moderator/disputes/{dispute_id}/decide", data=form)
    again = request(app, client, "POST", f"/moderator/disputes/{dispute_id}/decide", data=form)

    assert first.status_code == 303 and again.status_code == 303
    assert market.lead(lead_id)["status"] == "approved"
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)
    body = page(app, client, f"/moderator/disputes/{dispute_id}")
    assert "overturned" in body and "The consent is on record." in body


def test_a_decision_without_a_reason_is_refused_on_the_page(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = escalated_appeal(market)
    signed_in_moderator(app, client, market)

    response = request(
        app,
        client,
        "POST",
        f"/moderator/disputes/{dispute_id}/decide",
        data={"decision": "overturn", "reason": " "},
    )

    assert response.status_code == 303
    assert "write the reason" in page(app, client, f"/moderator/disputes/{dispute_id}")
    assert market.lead(lead_id)["status"] == "rejected"


def test_a_decision_without_the_csrf_token_is_refused(app, client, ctx, monkeypatch):
    market = Market(client)
    dispute_id, lead_id = escalated_appeal(market)
    signed_in_moderator(app, client, market)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off

    refused = request(
        app,
        client,
        "POST",
        f"/moderator/disputes/{dispute_id}/decide",
        data={"decision": "overturn", "reason": "x"},
    )

    assert refused.status_code == 400
    assert market.lead(lead_id)["status"] == "rejected"


def test_partners_are_approved_and_banned_on_the_page(app, client, ctx):
    market = Market(client)
    newcomer = create_user(
        "new@example.test", "New Co", "webmaster", "correct-horse-battery", status="pending"
    )
    commit()
    signed_in_moderator(app, client, market)
    assert "new@example.test" in page(app, client, "/moderator/partners")

    request(app, client, "POST", f"/moderator/partners/{newcomer.id}/approve", data={})
    no_reason = request(
        app, client, "POST", f"/moderator/partners/{market.webmaster.id}/ban", data={"reason": ""}
    )
    banned = request(
        app, client, "POST", f"/moderator/partners/{market.webmaster.id}/ban", data={"reason": "bots"}
    )

    assert no_reason.status_code == 303 and banned.status_code == 303
    statuses = dict(db.session.execute(select(User.id, User.status).where(User.role == "webmaster")).all())
    assert statuses[newcomer.id] == "active" and statuses[market.webmaster.id] == "banned"
    body = page(app, client, "/moderator/partners")
    assert "bots" in body and "Nobody is waiting." in body


def test_the_audit_page_and_its_csv_show_what_moderators_did(app, client, ctx):
    market = Market(client)
    dispute_id, _ = escalated_appeal(market)
    signed_in_moderator(app, client, market)
    request(
        app,
        client,
        "POST",
        f"/moderator/disputes/{dispute_id}/decide",
        data={"decision": "uphold", "reason": "Fake"},
    )

    body = page(app, client, "/moderator/audit")
    export = request(app, client, "GET", "/moderator/audit.csv")

    assert "decide_dispute" in body and f"dispute {dispute_id}" in body
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("id,created_at,actor_kind")
    assert len(lines) == 2 and ",decide_dispute,dispute," in lines[1]


def test_the_reputation_and_fraud_pages_render(app, client, ctx):
    market = Market(client)
    market.rejected_lead()
    signed_in_moderator(app, client, market)

    reputation = page(app, client, "/moderator/reputation")
    fraud = page(app, client, "/moderator/fraud-reviews")

    assert f"<td>{market.webmaster.id}</td>" in reputation and "0.0 %" in reputation  # 0 of 1 approved
    assert "No lead is waiting for a verdict." in fraud


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_parties_cannot_open_the_moderators_pages(app, client, ctx, role):
    market = Market(client)
    user = market.advertiser if role == "advertiser" else market.webmaster
    assert login(app, client, user.email).status_code == 302

    for path in ("/moderator/", "/moderator/partners", "/moderator/audit", "/moderator/audit.csv"):
        assert request(app, client, "GET", path).status_code == 403
    assert request(app, client, "POST", f"/moderator/partners/{user.id}/approve", data={}).status_code == 403
