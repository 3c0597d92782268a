"""The parties' dispute pages (issue 7), driven with the test client: each party's list and
thread, conceding and contesting, writing in the thread, withdrawing; the wrong side, a
passed deadline and a closed dispute refused on the page; another party's dispute a 404;
every action a CSRF-protected POST (checked with CSRF switched on)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from exchange.disputes.models import Dispute
from exchange.extensions import db
from tests.api.test_disputes import FUNDS, MARGIN, PAYOUT, RATE, Market
from tests.api.test_web_portal import login, request
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("billing_check")
ANSWER_DAYS = 3  # the offers' default dispute_answer_seconds (docs/disputes.md)


def page(app, client, path: str, status: int = 200) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return unescape(response.get_data(as_text=True).split("<body", 1)[1])


def post(app, client, path: str, data: dict | None = None):
    return request(app, client, "POST", path, data=data or {})


def signed_in(app, client, user) -> None:
    client.delete_cookie("session", domain="exchange.test")
    assert login(app, client, user.email).status_code == 302


def flashes(app, client, path: str) -> str:
    return " ".join(re.findall(r'class="(?:flash|notice)">([^<]*)<', page(app, client, path)))


def status_of(dispute_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Dispute, dispute_id).status


def appeal(market: Market) -> tuple[int, int]:
    lead_id = market.rejected_lead()
    return market.appeal(lead_id)["id"], lead_id


def return_request(market: Market) -> tuple[int, int]:
    lead_id = market.approved_lead()
    return market.return_request(lead_id)["id"], lead_id


def thread(role: str, dispute_id: int) -> str:
    return f"/{role}/disputes/{dispute_id}"


# -- the list and the thread --------------------------------------------------------------------


def test_each_party_lists_its_disputes_with_what_they_wait_for_and_the_time_left(
    app, client, ctx, frozen_clock
):
    market = Market(client)
    dispute_id, lead_id = appeal(market)
    other = Market(client)
    others_dispute, _ = appeal(other)
    frozen_clock.advance(hours=5)

    lists = {}
    for user, role in ((market.advertiser, "advertiser"), (market.webmaster, "webmaster")):
        signed_in(app, client, user)
        lists[role] = page(app, client, f"/{role}/disputes")

    for role, body in lists.items():
        assert f'<a href="/{role}/disputes/{dispute_id}">{dispute_id}</a></td><td>{lead_id}</td>' in body
        assert f"/disputes/{others_dispute}" not in body
        assert re.findall(r'class="time-left">([^<]+)<', body) == [f"{ANSWER_DAYS - 1} d 19 h"]
    assert "your answer" in lists["advertiser"] and "you answer it" in lists["advertiser"]
    assert "the other party's answer" in lists["webmaster"] and "you opened it" in lists["webmaster"]


def test_the_thread_shows_the_lead_the_claim_the_deadline_and_the_messages_oldest_first(
    app, client, ctx, frozen_clock
):
    market = Market(client)
    dispute_id, lead_id = appeal(market)  # its opening statement: "The person answered our call."
    frozen_clock.advance(hours=1)
    market.ok(market.mod, f"/disputes/{dispute_id}/messages", {"body": "Both of you: the call log?"}, 201)
    signed_in(app, client, market.advertiser)

    body = page(app, client, thread("advertiser", dispute_id))

    assert f"<h1>Appeal {dispute_id} on lead {lead_id}</h1>" in body
    assert f'href="/advertiser/leads/{lead_id}">{lead_id}</a>' in body and "rejected" in body
    assert "The contact is real: The phone or email reaches the person" in body
    assert (
        'id="dispute-status"><abbr title="The other party has until the deadline to concede or contest." '
        'data-code="awaiting_answer">Waiting for an answer</abbr><'
    ) in body
    assert re.search(r'class="time-left">2 d 23 h<', body)
    authors = re.findall(r'class="dispute-message"><header><strong>([^<]+)</strong>', body)
    assert authors == ["The webmaster", "A moderator"]
    assert body.index("The person answered our call.") < body.index("Both of you: the call log?")
    assert market.webmaster.email not in body and market.moderator.email not in body
    assert 'value="contest"' in body and 'value="concede"' in body  # the advertiser answers
    assert "/withdraw" not in body  # the webmaster opened it: only it may withdraw


def test_the_claimant_sees_no_answer_form_but_may_write_and_withdraw(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.webmaster)

    body = page(app, client, thread("webmaster", dispute_id))

    assert 'value="contest"' not in body and 'value="concede"' not in body
    assert f'action="/webmaster/disputes/{dispute_id}/messages"' in body
    assert f'action="/webmaster/disputes/{dispute_id}/withdraw"' in body
    assert re.search(r"<strong>You</strong> \(webmaster\)", body)


# -- answering ----------------------------------------------------------------------------------


def test_the_advertiser_contests_an_appeal_with_a_statement_and_it_goes_to_the_moderators(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.advertiser)

    response = post(
        app,
        client,
        f"/advertiser/disputes/{dispute_id}/answer",
        {"answer": "contest", "statement": "The number is disconnected."},
    )

    assert response.status_code == 303 and response.headers["Location"].endswith(
        thread("advertiser", dispute_id)
    )
    assert status_of(dispute_id) == "escalated"
    body = page(app, client, thread("advertiser", dispute_id))
    assert "You contested" in body and "The number is disconnected." in body
    assert "moderators' decision" in body and 'value="contest"' not in body


def test_a_contest_without_a_statement_comes_back_with_the_field_message(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.advertiser)

    response = post(app, client, f"/advertiser/disputes/{dispute_id}/answer", {"answer": "contest"})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="statement-error"' in body and 'aria-invalid="true"' in body
    assert status_of(dispute_id) == "awaiting_answer"


def test_the_advertiser_concedes_an_appeal_and_the_lead_is_approved_and_charged(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = appeal(market)
    signed_in(app, client, market.advertiser)

    response = post(app, client, f"/advertiser/disputes/{dispute_id}/answer", {"answer": "concede"})

    assert response.status_code == 303
    assert status_of(dispute_id) == "resolved"
    assert market.lead(lead_id)["status"] == "approved"
    assert market.money() == (FUNDS - RATE, FUNDS - RATE, PAYOUT, MARGIN)
    body = page(app, client, thread("advertiser", dispute_id))
    assert "Outcome: overturned, you lost" in body and "you, conceding" in body


def test_the_webmaster_concedes_a_return_and_the_lead_is_returned(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = return_request(market)
    signed_in(app, client, market.webmaster)

    post(app, client, f"/webmaster/disputes/{dispute_id}/answer", {"answer": "concede", "statement": "Fair."})

    assert status_of(dispute_id) == "resolved"
    assert market.lead(lead_id)["status"] == "returned"
    assert market.money() == (FUNDS, FUNDS, 0, 0)
    assert "Fair." in page(app, client, thread("webmaster", dispute_id))


def test_the_webmaster_contests_a_return(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = return_request(market)
    signed_in(app, client, market.webmaster)

    post(
        app, client, f"/webmaster/disputes/{dispute_id}/answer", {"answer": "contest", "statement": "Valid."}
    )

    assert status_of(dispute_id) == "escalated"
    assert market.lead(lead_id)["status"] == "approved"


@pytest.mark.parametrize("kind", ["appeal", "return"])
def test_the_claimant_may_not_answer_its_own_dispute(app, client, ctx, kind):
    market = Market(client)
    dispute_id, _ = appeal(market) if kind == "appeal" else return_request(market)
    claimant = market.webmaster if kind == "appeal" else market.advertiser
    role = claimant.role
    signed_in(app, client, claimant)

    response = post(app, client, f"/{role}/disputes/{dispute_id}/answer", {"answer": "concede"})

    assert response.status_code == 303
    assert "Not done: Only the other party answers a dispute." in flashes(
        app, client, thread(role, dispute_id)
    )
    assert status_of(dispute_id) == "awaiting_answer"


def test_an_answer_after_the_deadline_is_refused_with_a_flash(app, client, ctx, frozen_clock):
    market = Market(client)
    dispute_id, _ = appeal(market)
    frozen_clock.advance(days=ANSWER_DAYS, seconds=1)
    signed_in(app, client, market.advertiser)
    assert 'value="contest"' not in page(app, client, thread("advertiser", dispute_id))

    response = post(
        app, client, f"/advertiser/disputes/{dispute_id}/answer", {"answer": "contest", "statement": "Late."}
    )

    assert response.status_code == 303
    body = page(app, client, thread("advertiser", dispute_id))
    assert "Not done: The time to answer has passed" in body
    assert re.search(r'class="time-left">overdue 0 min<', body)
    assert status_of(dispute_id) == "awaiting_answer"


def test_a_second_answer_is_refused_with_a_flash(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.advertiser)
    post(app, client, f"/advertiser/disputes/{dispute_id}/answer", {"answer": "contest", "statement": "No."})

    again = post(app, client, f"/advertiser/disputes/{dispute_id}/answer", {"answer": "concede"})

    assert again.status_code == 303
    assert "Not done: A dispute that is escalated" in flashes(app, client, thread("advertiser", dispute_id))
    assert status_of(dispute_id) == "escalated"


# -- the thread ---------------------------------------------------------------------------------


def test_both_parties_write_in_the_thread_and_each_sees_the_other_by_role(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    for user, words in ((market.advertiser, "Which number did you call?"), (market.webmaster, "The mobile.")):
        signed_in(app, client, user)
        response = post(app, client, f"/{user.role}/disputes/{dispute_id}/messages", {"body": words})
        assert response.status_code == 303

    body = page(app, client, thread("webmaster", dispute_id))

    authors = re.findall(r'class="dispute-message"><header><strong>([^<]+)</strong>', body)
    assert authors == ["You", "The advertiser", "You"]  # the opening statement, then the two
    assert body.index("Which number did you call?") < body.index("The mobile.")
    assert market.advertiser.email not in body


@pytest.mark.parametrize(("words", "message"), [("   ", "Write your message first."), ("x" * 4001, "4000")])
def test_an_empty_or_too_long_message_comes_back_with_the_field_message(app, client, ctx, words, message):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.advertiser)

    response = post(app, client, f"/advertiser/disputes/{dispute_id}/messages", {"body": words})

    assert response.status_code == 422
    error = re.search(r'id="body-error">([^<]*)<', response.get_data(as_text=True)).group(1)
    assert message in error
    db.session.expire_all()
    assert len(db.session.get(Dispute, dispute_id).messages) == 1  # the opening statement only


def test_a_closed_dispute_takes_no_message_and_shows_no_form(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    market.ok(market.wm, f"/disputes/{dispute_id}/withdraw")
    signed_in(app, client, market.advertiser)
    assert "/messages" not in page(app, client, thread("advertiser", dispute_id))

    post(app, client, f"/advertiser/disputes/{dispute_id}/messages", {"body": "Anyone?"})

    assert "Not done: The dispute is withdrawn; its thread is closed." in flashes(
        app, client, thread("advertiser", dispute_id)
    )


# -- withdrawing --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["appeal", "return"])
def test_the_claimant_withdraws_its_claim_and_nothing_changes_on_the_lead(app, client, ctx, kind):
    market = Market(client)
    dispute_id, lead_id = appeal(market) if kind == "appeal" else return_request(market)
    claimant = market.webmaster if kind == "appeal" else market.advertiser
    before = market.lead(lead_id)["status"]
    signed_in(app, client, claimant)

    response = post(app, client, f"/{claimant.role}/disputes/{dispute_id}/withdraw")

    assert response.status_code == 303
    assert status_of(dispute_id) == "withdrawn"
    assert market.lead(lead_id)["status"] == before
    body = page(app, client, thread(claimant.role, dispute_id))
    assert "You withdrew your claim" in body and "/withdraw" not in body


def test_the_counterparty_may_not_withdraw(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.advertiser)

    post(app, client, f"/advertiser/disputes/{dispute_id}/withdraw")

    assert "Not done: Only the party that opened a dispute can withdraw it." in flashes(
        app, client, thread("advertiser", dispute_id)
    )
    assert status_of(dispute_id) == "awaiting_answer"


# -- the outcome, strangers, CSRF, roles --------------------------------------------------------


def test_the_webmasters_thread_shows_the_moderators_decision(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    market.contest(market.adv, dispute_id)
    market.decide(dispute_id, "overturn")  # reason: "Evidence weighed."
    signed_in(app, client, market.webmaster)

    body = page(app, client, thread("webmaster", dispute_id))

    assert "Outcome: overturned, you won" in body and "Decided by a moderator" in body
    assert "Evidence weighed." in body and "the lead is approved and charged" in body
    assert "/messages" not in body and "/withdraw" not in body


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_another_party_gets_404_and_changes_nothing(app, client, ctx, role):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, make_user(role))

    assert request(app, client, "GET", thread(role, dispute_id)).status_code == 404
    for action, form in (
        ("answer", {"answer": "concede"}),
        ("messages", {"body": "Hello"}),
        ("withdraw", {}),
    ):
        assert post(app, client, f"{thread(role, dispute_id)}/{action}", form).status_code == 404
    assert status_of(dispute_id) == "awaiting_answer"
    db.session.expire_all()
    assert len(db.session.get(Dispute, dispute_id).messages) == 1


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("answer", {"answer": "concede"}),
        ("messages", {"body": "Hello"}),
        ("withdraw", {}),
    ],
)
def test_every_action_needs_the_csrf_token(app, client, ctx, monkeypatch, action, form):
    market = Market(client)
    dispute_id, _ = return_request(market)  # the advertiser opened it: it may withdraw, not answer
    user = market.webmaster if action == "answer" else market.advertiser
    signed_in(app, client, user)
    body = page(app, client, thread(user.role, dispute_id))
    forms = re.findall(r'<form method="post".*?</form>', body, re.S)
    assert forms and all('name="csrf_token"' in f for f in forms)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off

    refused = post(app, client, f"{thread(user.role, dispute_id)}/{action}", form)

    assert refused.status_code == 400
    assert status_of(dispute_id) == "awaiting_answer"
    db.session.expire_all()
    assert len(db.session.get(Dispute, dispute_id).messages) == 1


def test_a_webmaster_may_not_open_the_advertisers_dispute_pages(app, client, ctx):
    market = Market(client)
    dispute_id, _ = appeal(market)
    signed_in(app, client, market.webmaster)

    assert request(app, client, "GET", "/advertiser/disputes").status_code == 403
    assert request(app, client, "GET", thread("advertiser", dispute_id)).status_code == 403


# -- links to the thread ------------------------------------------------------------------------


def test_the_lead_pages_the_leads_lists_and_the_dashboards_link_to_the_thread(app, client, ctx):
    market = Market(client)
    dispute_id, lead_id = appeal(market)
    undisputed = market.pending_lead()

    signed_in(app, client, market.advertiser)
    link = f'href="/advertiser/disputes/{dispute_id}"'
    assert link in page(app, client, f"/advertiser/leads/{lead_id}")
    assert link in page(app, client, "/advertiser/")
    inbox = page(app, client, "/advertiser/leads")
    assert inbox.count("/advertiser/disputes/") == 1
    assert f"Appeal {dispute_id}: waiting for an answer" in inbox
    assert "/advertiser/disputes/" not in page(app, client, f"/advertiser/leads/{undisputed}")

    signed_in(app, client, market.webmaster)
    link = f'href="/webmaster/disputes/{dispute_id}"'
    assert link in page(app, client, "/webmaster/")
    leads = page(app, client, "/webmaster/leads")
    assert leads.count("/webmaster/disputes/") == 1 and link in leads
