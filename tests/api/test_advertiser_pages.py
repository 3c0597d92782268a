"""The advertiser's pages (issue 7, point 2), driven with the test client: the dashboard's
spend, counts, approval rate and chart data; the lead inbox with its filters, bulk
decisions and returns; a lead's page with its buttons; offers created and edited through
the API's schema; delivery settings, the test lead and the attempt log; billing and API
keys. Every change is a CSRF-protected POST (checked with CSRF switched on), and nothing
of another advertiser's can be seen or touched (404)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.offers.services import participations_of
from exchange.reports.jobs import fold_job
from exchange.words import word
from tests.advertiser_endpoint import Answer, Endpoint
from tests.api.test_disputes import FUNDS, PAYOUT, RATE, Market
from tests.api.test_web_portal import login, request
from tests.factories import make_click, make_offer, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


def page(app, client, path: str, status: int = 200) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return unescape(response.get_data(as_text=True).split("<body", 1)[1])


def post(app, client, path: str, data: dict | None = None):
    return request(app, client, "POST", path, data=data or {})


def signed_in(app, client, user) -> None:
    client.delete_cookie("session", domain="exchange.test")
    assert login(app, client, user.email).status_code == 302


def spend_row(text: str, currency: str = "USD") -> list[str]:
    """The billing page's spend row: this month's charged, returned, net, then all time's."""
    table = text.split('<table id="spend">', 1)[1].split("</table>", 1)[0]
    row = re.search(rf"<td>{currency}</td>(.*?)</tr>", table, re.S).group(1)
    return re.findall(r"<td>(?:<strong>)?([^<]+)", row)


def status_of(lead_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Lead, lead_id).status


# -- the dashboard --------------------------------------------------------------------------------


def test_the_dashboard_shows_spend_counts_the_approval_rate_and_the_chart_data(
    app, client, ctx, frozen_clock
):
    market = Market(client)
    approved, rejected, pending = market.approved_lead(), market.rejected_lead(), market.pending_lead()
    rival = Market(client)
    rival.approved_lead()
    fold_job()  # what the periodic job does: the dashboard reads the report rollups
    signed_in(app, client, market.advertiser)

    body = page(app, client, "/advertiser/")

    assert "15.00 USD" in body  # one approved lead's rate, charged this month and all time
    assert re.search(r'id="approval-rate">50\.0 %<', body)
    counts = re.search(r"<caption>Leads by status</caption>.*?<tbody><tr>(.*?)</tr>", body, re.S).group(1)
    assert re.findall(r">(\d+)</a>", counts) == ["0", "1", "0", "1", "1", "0", "0"]  # STATES' order
    data = json.loads(re.search(r'id="decisions-data">(.*?)</script>', body, re.S).group(1))
    assert len(data) == 30 and data[-1] == {"day": "2026-01-15", "approved": 1, "rejected": 1}
    assert sum(row["approved"] for row in data) == 1  # the rival's approval is not counted
    assert "<caption>Decisions per day</caption>" in body  # the table without JavaScript
    assert "chart.umd.min.js" in body and "advertiser.js" in body
    latest = re.findall(r'href="/advertiser/leads/(\d+)"', body)
    assert sorted(int(n) for n in latest) == sorted([approved, rejected, pending])  # its own only


def test_the_dashboard_nets_returns_out_of_the_spend(app, client, ctx):
    market = Market(client, auto_return_reasons=["invalid_contact"], auto_return_cap_count=5)
    market.approved_lead()
    returned = market.approved_lead()
    market.return_request(returned)  # the automatic rule accepts it at once
    signed_in(app, client, market.advertiser)

    body = page(app, client, "/advertiser/billing")

    # charged, returned, net: this month, then all time
    assert spend_row(body) == ["30.00 USD", "15.00 USD", "15.00 USD"] * 2
    assert "Top up by card" in body and "Statements" in body and "Invoices" in body


def test_the_dashboard_counts_come_from_the_rollups_after_the_fold(app, client, ctx):
    market = Market(client)
    (participation,) = participations_of(market.webmaster.id)
    for _ in range(3):
        make_click(participation)
    market.approved_lead()
    signed_in(app, client, market.advertiser)

    before = page(app, client, "/advertiser/")
    fold_job()
    after = page(app, client, "/advertiser/")

    assert "No clicks yet." in before and re.search(r'id="approval-rate">–<', before)
    assert re.search(r"\b\d+ changes? waiting", before)  # the page says the figures lag
    assert re.search(r'id="clicks-USD">3<', after) and re.search(r'id="leads-USD">1<', after)
    assert re.search(r'id="spend-USD">15\.00 USD<', after) and "EPC 5.00 USD per click" in after
    assert re.search(r'id="approval-rate">100\.0 %<', after) and not re.search(r"\bchanges? waiting", after)


# -- the lead inbox -------------------------------------------------------------------------------


def test_the_inbox_filters_by_status_and_offer_and_shows_only_own_leads(app, client, ctx):
    market = Market(client)
    approved, pending = market.approved_lead(), market.pending_lead()
    rival = Market(client)
    rival_lead = rival.pending_lead()
    signed_in(app, client, market.advertiser)

    everything = page(app, client, "/advertiser/leads")
    only_pending = page(app, client, f"/advertiser/leads?status=pending&offer_id={market.offer_id}")
    other_offer = page(app, client, f"/advertiser/leads?offer_id={rival.offer_id}")

    listed = lambda body: [int(n) for n in re.findall(r'name="lead_id" value="(\d+)"', body)]  # noqa: E731
    assert listed(everything) == [pending, approved]
    assert listed(only_pending) == [pending]
    assert listed(other_offer) == [] and rival_lead not in listed(everything)
    assert "Leads 2 in all" in everything


def test_the_inbox_filters_by_day_and_pages(app, client, ctx, frozen_clock):
    market = Market(client, funds=100_000)
    first = market.pending_lead()
    frozen_clock.advance(days=2)
    later = [market.pending_lead() for _ in range(2)]
    signed_in(app, client, market.advertiser)

    body = page(app, client, "/advertiser/leads?since=2026-01-16")
    until = page(app, client, "/advertiser/leads?until=2026-01-15")

    assert [int(n) for n in re.findall(r'name="lead_id" value="(\d+)"', body)] == later[::-1]
    assert [int(n) for n in re.findall(r'name="lead_id" value="(\d+)"', until)] == [first]


def test_a_bad_filter_is_said_next_to_its_field(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.advertiser)

    body = page(app, client, "/advertiser/leads?status=lost&since=yesterday", status=422)

    assert 'id="status-error">Must be one of' in body
    assert 'id="since-error">Not a valid date.' in body


def test_bulk_approve_decides_each_own_lead_and_refuses_the_others(app, client, ctx):
    market = Market(client)
    first, second, decided = market.pending_lead(), market.pending_lead(), market.approved_lead()
    rival = Market(client)
    strangers = rival.pending_lead()
    signed_in(app, client, market.advertiser)

    response = post(
        app,
        client,
        "/advertiser/leads/decide",
        {"action": "approve", "lead_id": [first, second, decided, strangers], "query": "status=pending"},
    )

    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/advertiser/leads?status=pending"
    )
    assert [status_of(lead) for lead in (first, second, decided)] == ["approved"] * 3
    assert status_of(strangers) == "pending"
    body = page(app, client, "/advertiser/leads")
    assert "Approve: 3 of 4 done." in body and f"lead {strangers}: No such lead." in body
    assert market.money()[1] == FUNDS - 3 * RATE


def test_bulk_reject_keeps_the_note_and_bulk_return_opens_return_disputes(app, client, ctx):
    market = Market(client)
    pending, approved = market.pending_lead(), market.approved_lead()
    signed_in(app, client, market.advertiser)

    post(
        app,
        client,
        "/advertiser/leads/decide",
        {"action": "reject", "lead_id": [pending], "reason": "no answer"},
    )
    refused = post(app, client, "/advertiser/leads/decide", {"action": "return", "lead_id": [approved]})
    post(
        app,
        client,
        "/advertiser/leads/decide",
        {
            "action": "return",
            "lead_id": [approved],
            "reason": "invalid_contact",
            "statement": "Disconnected.",
        },
    )

    assert status_of(pending) == "rejected" and db.session.get(Lead, pending).decision_note == "no answer"
    assert refused.status_code == 303
    (dispute,) = db.session.scalars(select(Dispute).where(Dispute.lead_id == approved)).all()
    assert (dispute.kind, dispute.reason, dispute.status) == ("return", "invalid_contact", "awaiting_answer")


def test_a_return_without_a_reason_or_statement_is_refused(app, client, ctx):
    market = Market(client)
    approved = market.approved_lead()
    signed_in(app, client, market.advertiser)

    response = post(app, client, "/advertiser/leads/decide", {"action": "return", "lead_id": [approved]})

    assert response.status_code == 303
    assert "Not done: choose the reason for the return" in page(app, client, "/advertiser/leads")
    assert db.session.scalars(select(Dispute).where(Dispute.lead_id == approved)).all() == []


# -- one lead -------------------------------------------------------------------------------------


def test_a_lead_page_shows_fields_findings_events_and_the_decision_buttons(app, client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    signed_in(app, client, market.advertiser)

    body = page(app, client, f"/advertiser/leads/{lead_id}")

    assert f"Lead {lead_id}: <abbr" in body and 'data-code="pending">Pending review</abbr></h1>' in body
    lead = db.session.get(Lead, lead_id)
    assert f"<td>{lead.fields['email']}</td>" in body
    assert "<caption>Score:" in body and "<caption>Events</caption>" in body
    for finding in lead.findings:
        assert f'data-code="{finding["code"]}">{word("finding", finding["code"])}</abbr></td>' in body
    assert 'data-code="accept">Accepted</abbr></td>' in body  # validation's event
    assert f'action="/advertiser/leads/{lead_id}/approve"' in body
    assert "Ask to return" not in body


def test_approving_on_the_lead_page_moves_the_money_once(app, client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    signed_in(app, client, market.advertiser)

    first = post(app, client, f"/advertiser/leads/{lead_id}/approve")
    again = post(app, client, f"/advertiser/leads/{lead_id}/approve")

    assert first.status_code == again.status_code == 303
    assert status_of(lead_id) == "approved"
    assert market.money()[:3] == (FUNDS - RATE, FUNDS - RATE, PAYOUT)
    body = page(app, client, f"/advertiser/leads/{lead_id}")
    assert "Ask to return" in body and f'action="/advertiser/leads/{lead_id}/approve"' not in body


def test_rejecting_a_decided_lead_is_refused_on_the_page(app, client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    signed_in(app, client, market.advertiser)

    response = post(app, client, f"/advertiser/leads/{lead_id}/reject", {"note": "too late"})

    assert response.status_code == 303
    assert "Not done: Only a pending lead can be rejected" in page(
        app, client, f"/advertiser/leads/{lead_id}"
    )
    assert status_of(lead_id) == "approved"


def test_asking_to_return_on_the_lead_page_opens_a_return_dispute(app, client, ctx):
    market = Market(client)
    lead_id = market.approved_lead()
    signed_in(app, client, market.advertiser)

    response = post(
        app, client, f"/advertiser/leads/{lead_id}/return", {"reason": "duplicate", "statement": "Had them."}
    )

    assert response.status_code == 303
    body = page(app, client, f"/advertiser/leads/{lead_id}")
    assert (
        "return asked" in body
        and 'data-code="return">Return</abbr></td><td><abbr' in body
        and 'data-code="duplicate">Duplicate' in body
    )
    assert 'action="/advertiser/leads/{lead_id}/return"' not in body  # one return per lead


def test_another_advertisers_lead_is_not_found(app, client, ctx):
    market, rival = Market(client), Market(client)
    strangers = rival.approved_lead()
    signed_in(app, client, market.advertiser)

    assert request(app, client, "GET", f"/advertiser/leads/{strangers}").status_code == 404
    refused = post(
        app, client, f"/advertiser/leads/{strangers}/return", {"reason": "fraud", "statement": "x"}
    )
    assert refused.status_code == 303
    assert db.session.scalars(select(Dispute).where(Dispute.lead_id == strangers)).all() == []
    post(app, client, f"/advertiser/leads/{rival.pending_lead()}/reject")
    assert "No such lead." in page(app, client, "/advertiser/leads")


# -- offers ---------------------------------------------------------------------------------------

NEW_OFFER = {
    "name": "Roof quotes",
    "model": "cpl",
    "currency": "USD",
    "rate_minor": "20.00",
    "payout_minor": "12.50",
    "allowed_countries": "us, ca",
    "fields": json.dumps(
        [{"name": "phone", "type": "phone", "required": True}, {"name": "c", "type": "country"}]
    ),
    "landing_url": "https://roofs.example.com/?cid={click_id}",
    "status": "active",
    "visibility": "approval",
    "traffic_sources": ["search", "social"],
    "daily_cap": "50",
    "review_window_seconds": "86400",
    "hold_seconds": "604800",
    "return_window_seconds": "172800",
    "duplicate_scope": "advertiser",
    "auto_approve": "none",
    "fraud_review": "on",
}


def test_an_offer_is_created_from_the_form(app, client, ctx):
    advertiser = make_user("advertiser")
    signed_in(app, client, advertiser)
    assert 'name="rate_minor"' in page(app, client, "/advertiser/offers/new")

    response = post(app, client, "/advertiser/offers/new", NEW_OFFER)

    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    offer = db.session.scalars(select(Offer).where(Offer.advertiser_id == advertiser.id)).one()
    assert (offer.rate_minor, offer.payout_minor, offer.allowed_countries) == (2000, 1250, ["US", "CA"])
    assert (offer.visibility, offer.daily_cap, offer.hold_seconds, offer.fraud_review) == (
        "approval",
        50,
        604800,
        True,
    )
    assert offer.traffic_sources == ["search", "social"] and offer.duplicate_scope == "advertiser"
    assert offer.appeal_window_seconds == 7 * 86400  # left to the API's default
    assert "Roof quotes" in page(app, client, "/advertiser/offers")


def test_a_refused_offer_shows_the_schemas_messages_next_to_the_fields(app, client, ctx):
    advertiser = make_user("advertiser")
    signed_in(app, client, advertiser)
    form = {**NEW_OFFER, "payout_minor": "25.00", "fields": "[{", "daily_cap": "lots"}

    response = post(app, client, "/advertiser/offers/new", form)
    assert response.status_code == 422
    body = unescape(response.get_data(as_text=True))
    assert 'id="fields-error">Not JSON' in body and 'id="daily_cap-error">Write a whole number.' in body
    assert 'value="Roof quotes"' in body  # what was typed stays

    form["fields"], form["daily_cap"] = NEW_OFFER["fields"], "50"
    response = post(app, client, "/advertiser/offers/new", form)
    assert response.status_code == 422
    assert 'id="payout_minor-error">The payout may not exceed the rate.' in unescape(
        response.get_data(as_text=True)
    )
    assert db.session.scalars(select(Offer).where(Offer.advertiser_id == advertiser.id)).all() == []


def test_every_setting_is_edited_through_update_offer(app, client, ctx):
    advertiser = make_user("advertiser")
    offer_id = make_offer(advertiser, name="Solar").id
    signed_in(app, client, advertiser)
    body = page(app, client, f"/advertiser/offers/{offer_id}")
    assert 'value="15.00"' in body and 'value="US, CA"' in body and "never change" in body
    form = {name: value for name, value in NEW_OFFER.items() if name not in ("model", "currency")}
    form["fields"] = json.dumps(db.session.get(Offer, offer_id).fields)

    response = post(
        app, client, f"/advertiser/offers/{offer_id}", {**form, "name": "Solar 2", "status": "paused"}
    )

    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    offer = db.session.get(Offer, offer_id)
    assert (offer.name, offer.status, offer.rate_minor, offer.daily_cap) == ("Solar 2", "paused", 2000, 50)
    assert offer.currency == "USD" and offer.model == "cpl"


def test_an_edit_the_api_would_refuse_is_refused_on_the_page(app, client, ctx):
    advertiser = make_user("advertiser")
    offer_id = make_offer(advertiser).id
    signed_in(app, client, advertiser)
    form = {name: value for name, value in NEW_OFFER.items() if name not in ("model", "currency")}
    form.update(fields=json.dumps(db.session.get(Offer, offer_id).fields), return_window_seconds="9999999")

    response = post(app, client, f"/advertiser/offers/{offer_id}", form)

    assert response.status_code == 422
    assert 'id="return_window_seconds-error">The return window cannot be longer' in unescape(
        response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Offer, offer_id).rate_minor == 1500


def test_another_advertisers_offer_is_not_found(app, client, ctx):
    advertiser, rival = make_user("advertiser"), make_user("advertiser")
    strangers = make_offer(rival, name="Theirs").id
    signed_in(app, client, advertiser)

    assert request(app, client, "GET", f"/advertiser/offers/{strangers}").status_code == 404
    assert post(app, client, f"/advertiser/offers/{strangers}", {"name": "Mine"}).status_code == 404
    assert "Theirs" not in page(app, client, "/advertiser/offers")


# -- delivery -------------------------------------------------------------------------------------


def test_the_endpoint_is_saved_its_secret_shown_once_and_rotated(app, client, ctx):
    advertiser = make_user("advertiser")
    signed_in(app, client, advertiser)
    assert "Save an endpoint URL first" in page(app, client, "/advertiser/delivery")

    saved = post(app, client, "/advertiser/delivery/url", {"url": "https://crm.example.com/in"})
    secret = re.search(r'id="signing-secret">([^<]+)<', saved.get_data(as_text=True)).group(1)
    later = page(app, client, "/advertiser/delivery")
    rotated = post(app, client, "/advertiser/delivery/rotate-secret")
    new_secret = re.search(r'id="signing-secret">([^<]+)<', rotated.get_data(as_text=True)).group(1)

    assert saved.headers["Cache-Control"] == "no-store" and secret.startswith("whsec_")
    assert secret not in later and f"whsec_…{secret[-4:]}" in later
    assert new_secret != secret and new_secret.startswith("whsec_")
    bad = post(app, client, "/advertiser/delivery/url", {"url": "ftp://crm.example.com"})
    assert bad.status_code == 422 and 'id="url-error">Must be' in unescape(bad.get_data(as_text=True))


def test_a_test_lead_is_sent_and_the_attempt_log_lists_real_deliveries(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.advertiser)
    assert "disabled>Send a test lead" in page(app, client, "/advertiser/delivery")
    with Endpoint([Answer(503, b"down"), Answer()]) as endpoint:
        post(app, client, "/advertiser/delivery/url", {"url": endpoint.url})
        tested = post(app, client, "/advertiser/delivery/test")
        lead_id = market.pending_lead()
        received = list(endpoint.received)

    assert tested.status_code == 303  # queued; the job has sent it (in-process) before this answer
    assert received[0].json()["test"] is True and received[1].json()["lead"]["id"] == lead_id
    log = page(app, client, "/advertiser/delivery").split("<caption>Delivery attempts", 1)[1]
    assert re.search(rf">{lead_id}</a></td><td>1</td>\s*<td>200</td>", log)
    test_row = re.search(r'<tr class="test".*?</tr>', log, re.S).group(0)
    assert "<td>503</td>" in test_row and "HTTP 503" in test_row


# -- CSRF and roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/advertiser/leads/decide",
        "/advertiser/leads/{lead}/approve",
        "/advertiser/leads/{lead}/return",
        "/advertiser/offers/new",
        "/advertiser/offers/{offer}",
        "/advertiser/delivery/url",
        "/advertiser/delivery/test",
        "/advertiser/keys",
    ],
)
def test_every_change_needs_the_csrf_token(app, client, ctx, monkeypatch, path):
    market = Market(client)
    lead_id = market.pending_lead()
    signed_in(app, client, market.advertiser)
    form = page(app, client, f"/advertiser/leads/{lead_id}")
    assert 'name="csrf_token"' in form
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    refused = post(
        app,
        client,
        path.format(lead=lead_id, offer=market.offer_id),
        {"action": "approve", "lead_id": lead_id},
    )

    assert refused.status_code == 400
    assert status_of(lead_id) == "pending"


def test_a_webmaster_may_not_open_the_advertiser_pages(app, client, ctx):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)
    for path in ("/advertiser/leads", "/advertiser/offers", "/advertiser/delivery", "/advertiser/keys"):
        assert request(app, client, "GET", path).status_code == 403
