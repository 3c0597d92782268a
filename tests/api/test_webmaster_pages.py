"""The webmaster's pages (issue 7, point 3), driven with the test client: the dashboard
with its figures and chart data, the catalog (payouts, never rates), an offer's page with
the link builder, leads with appeals, postback settings with a test postback, payouts.
Every action is a CSRF-protected POST (checked with CSRF switched on); another
webmaster's data is never shown."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from billing.payouts.models import Payout
from exchange.delivery.postbacks.models import PostbackUrl
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.offers.services import participations_of
from exchange.reports.jobs import fold_job
from tests.api.test_disputes import Market
from tests.api.test_payouts import Webmaster as Earner
from tests.api.test_web_portal import login, request
from tests.factories import make_click, make_join, make_offer, make_user
from tests.tracker_server import Tracker

pytestmark = pytest.mark.usefixtures("billing_check")


def page(app, client, path: str) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True).split("<body", 1)[1]


def signed_in(app, client, user) -> None:
    assert login(app, client, user.email).status_code == 302


def csrf_token_in(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def flashes(app, client, path: str) -> str:
    return " ".join(re.findall(r'class="(?:flash|notice)">([^<]*)<', page(app, client, path)))


# -- dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_shows_clicks_leads_cr_epc_and_earnings_with_the_chart_data(app, client, ctx):
    market = Market(client)
    (participation,) = participations_of(market.webmaster.id)
    for n in range(4):
        make_click(participation, sub1=f"s{n}")
    market.approved_lead()
    market.pending_lead()
    fold_job()  # what the periodic job does: the dashboard reads the report rollups
    signed_in(app, client, market.webmaster)

    body = page(app, client, "/webmaster/")

    totals = re.search(r'<table id="totals">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", totals) == ["4", "2", "50.0 %", "1"]
    earnings = re.search(r'<table id="earnings">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", earnings)
    assert cells[0] == "USD" and cells[1:3] == ["10.00 USD", "2.50 USD"]  # 10.00 approved over 4 clicks
    assert cells[3] == "10.00 USD" and cells[4] == "0.00 USD"  # the payout is on hold
    days = json.loads(re.search(r'id="daily-data">(.*?)</script>', body, re.S).group(1))
    assert len(days) == 30 and days[-1]["clicks"] == 4 and days[-1]["leads"] == 2
    assert sum(day["clicks"] for day in days) == 4
    assert "<canvas" in body and "webmaster.js" in body and "chart.umd.min.js" in body
    assert re.search(r'<table id="daily">', body)  # the figures stay readable without the chart


def test_the_dashboard_counts_only_its_own_traffic(app, client, ctx):
    market = Market(client)
    (participation,) = participations_of(market.webmaster.id)
    make_click(participation)
    market.pending_lead()
    fold_job()
    stranger = make_user("webmaster")
    signed_in(app, client, stranger)

    body = page(app, client, "/webmaster/")

    totals = re.search(r'<table id="totals">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", totals) == ["0", "0", "–", "0"]
    assert "No earnings yet." in body and "You have not joined an offer yet" in body


def test_the_dashboard_counts_come_from_the_rollups_after_the_fold(app, client, ctx):
    market = Market(client)
    (participation,) = participations_of(market.webmaster.id)
    for _ in range(3):
        make_click(participation)
    market.approved_lead()
    signed_in(app, client, market.webmaster)

    before = page(app, client, "/webmaster/")
    fold_job()
    after = page(app, client, "/webmaster/")

    def totals(body: str) -> list[str]:
        return re.findall(
            r"<td>([^<]*)</td>", re.search(r'<table id="totals">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
        )

    assert totals(before) == ["0", "0", "–", "0"]  # the raw clicks and lead are not read
    assert "next fold (every 30 seconds)" in before  # the page says the figures lag
    # and gives no count: markers are per offer, a count would tell of others' traffic
    assert not re.search(r"\bchanges? waiting", before)
    assert totals(after) == ["3", "1", f"{100 / 3:.2f} %", "1"]
    earnings = re.findall(
        r"<td>([^<]*)</td>", re.search(r'<table id="earnings">.*?<tbody>(.*?)</tbody>', after, re.S).group(1)
    )
    assert earnings[1:3] == ["10.00 USD", "3.3333 USD"]  # 10.00 over 3 clicks: dollars per click, 4 places


# -- catalog and offer page ---------------------------------------------------------------------


def test_the_catalog_shows_payouts_and_never_the_rate(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    make_offer(advertiser, name="Roofing leads", rate_minor=4321, payout_minor=1234)
    signed_in(app, client, webmaster)

    body = page(app, client, "/webmaster/offers")

    assert "Roofing leads" in body and "12.34 USD" in body
    assert "43.21" not in body and "4321" not in body and "30.87" not in body  # nor the margin


def test_the_catalog_searches_and_filters(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    make_offer(advertiser, name="Solar US", description="Panels for homes", allowed_countries=["US"])
    make_offer(advertiser, name="Insurance CA", allowed_countries=["CA"], traffic_sources=["email"])
    make_offer(advertiser, name="Hidden", status="draft")
    signed_in(app, client, webmaster)

    def names(query: str) -> list[str]:
        body = page(app, client, "/webmaster/offers" + query)
        return re.findall(r'/webmaster/offers/\d+">([^<]+)</a>', body)

    assert names("") == ["Solar US", "Insurance CA"]
    assert names("?q=panels") == ["Solar US"]
    assert names("?country=ca") == ["Insurance CA"]
    assert names("?source=email") == ["Solar US", "Insurance CA"]  # an offer naming none takes any
    assert names("?source=push") == ["Solar US"]
    assert names("?model=cpl&q=nothing-like-this") == []


def test_joining_and_applying_from_the_catalog(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    free = make_offer(advertiser, name="Free offer")
    approval = make_offer(advertiser, name="Approval offer", visibility="approval")
    ids = free.id, approval.id
    signed_in(app, client, webmaster)
    body = page(app, client, "/webmaster/offers")
    assert ">Join</button>" in body and ">Apply</button>" in body

    joined = request(app, client, "POST", f"/webmaster/offers/{ids[0]}/join")
    applied = request(app, client, "POST", f"/webmaster/offers/{ids[1]}/join")

    assert joined.status_code == 303 and applied.status_code == 303
    statuses = {p.offer_id: p.status for p in participations_of(webmaster.id)}
    assert statuses == {ids[0]: "active", ids[1]: "pending"}
    assert "Applied: waiting for approval" in flashes(app, client, f"/webmaster/offers/{ids[1]}")
    body = page(app, client, "/webmaster/offers")
    assert "Joined" in body and "Applied: waiting for approval" in body and ">Join</button>" not in body


def test_the_offer_page_shows_terms_windows_links_and_builds_the_link(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(
        advertiser,
        name="Solar",
        rate_minor=4321,
        terms="No incentive traffic.",
        appeal_window_seconds=2 * 86400,
    )
    participation = make_join(webmaster, offer)
    token, offer_id = participation.token, offer.id
    signed_in(app, client, webmaster)

    body = unescape(page(app, client, f"/webmaster/offers/{offer_id}?sub1=camp%201%26x&sub3=z"))

    assert "No incentive traffic." in body and "US, CA" in body and "10.00 USD" in body
    assert "Appeal window (after a rejection)</th><td>2 d" in body
    assert "Time to answer a dispute</th><td>3 d" in body and "43.21" not in body
    assert f"/c/{token}" in body and f"/c/{token}/form?sub1=camp+1%26x&sub3=z" in body  # and the form
    assert f"/c/{token}?sub1=camp+1%26x&sub3=z" in body  # built on the server, each value encoded
    assert 'id="link-builder"' in body and "webmaster.js" in body


def test_an_offer_page_before_joining_offers_the_join_form_and_no_link(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer_id = make_offer(advertiser, traffic_sources=["search", "email"]).id
    signed_in(app, client, webmaster)

    body = page(app, client, f"/webmaster/offers/{offer_id}")

    assert 'name="traffic_sources" value="email"' in body and ">Join</button>" in body
    assert "/c/" not in body and 'id="link-builder"' not in body


def test_another_webmasters_private_offer_is_not_found(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer_id = make_offer(advertiser, visibility="private").id
    signed_in(app, client, webmaster)

    assert request(app, client, "GET", f"/webmaster/offers/{offer_id}").status_code == 404
    assert request(app, client, "GET", "/webmaster/offers/999999").status_code == 404
    request(app, client, "POST", f"/webmaster/offers/{offer_id}/join")
    assert participations_of(webmaster.id) == []


def test_the_pages_are_for_webmasters_only(app, client, ctx):
    signed_in(app, client, make_user("advertiser"))
    for path in (
        "/webmaster/",
        "/webmaster/offers",
        "/webmaster/leads",
        "/webmaster/postbacks",
        "/webmaster/payouts",
    ):
        assert request(app, client, "GET", path).status_code == 403


def test_a_join_without_the_csrf_token_is_refused(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer_id = make_offer(advertiser).id
    signed_in_with_csrf(app, client, webmaster)

    refused = request(app, client, "POST", f"/webmaster/offers/{offer_id}/join")
    assert refused.status_code == 400 and participations_of(webmaster.id) == []
    token = csrf_token_in(page(app, client, "/webmaster/offers"))
    joined = request(app, client, "POST", f"/webmaster/offers/{offer_id}/join", data={"csrf_token": token})
    assert joined.status_code == 303 and len(participations_of(webmaster.id)) == 1


def signed_in_with_csrf(app, client, user) -> None:
    token = csrf_token_in(request(app, client, "GET", "/login").get_data(as_text=True))
    form = {"email": user.email, "password": "correct-horse-battery", "csrf_token": token}
    assert request(app, client, "POST", "/login", data=form).status_code == 302


# -- leads and appeals --------------------------------------------------------------------------


def test_the_leads_page_shows_statuses_reasons_and_filters(app, client, ctx):
    market = Market(client)
    rejected, pending = market.rejected_lead(), market.pending_lead()
    Market(client).pending_lead()  # another webmaster's
    signed_in(app, client, market.webmaster)

    body = page(app, client, "/webmaster/leads")
    only_rejected = page(app, client, "/webmaster/leads?status=rejected")

    assert re.findall(r"<tr><td>(\d+)</td>", body) == [str(pending), str(rejected)]
    meaning = "The advertiser rejected the lead during its review window."
    words = "Rejected by the advertiser"
    assert f'<abbr title="{meaning}" data-code="advertiser_rejected">{words}</abbr>' in body
    assert "<dt><code>advertiser_rejected</code></dt>" in body
    assert re.findall(r"<tr><td>(\d+)</td>", only_rejected) == [str(rejected)]
    assert "1 of 1 (2 in all)" in body


def test_an_appeal_from_the_leads_page_opens_the_dispute_once(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    signed_in(app, client, market.webmaster)
    body = page(app, client, "/webmaster/leads")
    assert f'action="/webmaster/leads/{lead_id}/appeal"' in body and 'value="contact_valid"' in body
    form = {"reason": "contact_valid", "statement": "The person answered our call."}

    first = request(app, client, "POST", f"/webmaster/leads/{lead_id}/appeal", data=form)
    assert "appeal" in flashes(app, client, "/webmaster/leads")
    again = request(app, client, "POST", f"/webmaster/leads/{lead_id}/appeal", data=form)

    assert first.status_code == 303 and again.status_code == 303
    assert "Not done: This lead already has appeal dispute" in flashes(app, client, "/webmaster/leads")
    (dispute,) = db.session.scalars(select(Dispute).where(Dispute.lead_id == lead_id)).all()
    assert dispute.reason == "contact_valid" and dispute.webmaster_id == market.webmaster.id
    assert f'action="/webmaster/leads/{lead_id}/appeal"' not in page(app, client, "/webmaster/leads")


def test_an_appeal_needs_a_reason_from_the_list_and_a_statement(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    signed_in(app, client, market.webmaster)

    for form in ({"reason": "because", "statement": "x"}, {"reason": "other", "statement": "  "}):
        assert (
            request(app, client, "POST", f"/webmaster/leads/{lead_id}/appeal", data=form).status_code == 303
        )

    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_another_webmasters_lead_cannot_be_appealed(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    signed_in(app, client, make_user("webmaster"))

    assert f"<td>{lead_id}</td>" not in page(app, client, "/webmaster/leads")
    form = {"reason": "contact_valid", "statement": "Mine."}
    request(app, client, "POST", f"/webmaster/leads/{lead_id}/appeal", data=form)

    assert "Not done: No such lead." in flashes(app, client, "/webmaster/leads")
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


# -- postbacks ----------------------------------------------------------------------------------


def test_the_postback_url_is_saved_tested_and_its_attempts_listed(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.webmaster)
    with Tracker([200]) as tracker:
        template = tracker.base + "/pb?s={status}&lead={lead_id}&s1={sub1}"
        form = {"url_template": template, "status_approved": "sale"}

        saved = request(app, client, "POST", "/webmaster/postbacks", data=form)
        tested = request(app, client, "POST", "/webmaster/postbacks/test")
        lead_id = market.pending_lead()
        queries = tracker.queries()

    assert saved.status_code == 303 and tested.status_code == 303
    setting = db.session.scalar(select(PostbackUrl).where(PostbackUrl.webmaster_id == market.webmaster.id))
    assert (setting.url_template, setting.status_map) == (template, {"approved": "sale"})
    assert queries[0] == {"s": ["sale"], "lead": ["0"], "s1": ["test-sub1"]}  # the test postback
    assert [q["s"] for q in queries[1:]] == [["received"], ["pending"]]
    body = page(app, client, "/webmaster/postbacks")
    assert 'class="notice">Test postback queued: its answer appears in the attempt log below.' in body
    attempts = re.search(r'<table id="attempts">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    rows = re.findall(r"<tr><td>[^<]*</td><td>(\d+)</td><td>(\w+)</td><td>1</td>\s*<td>200</td>", attempts)
    assert sorted(rows) == [(str(lead_id), "pending"), (str(lead_id), "received")]
    assert re.search(
        r'<tr class="test"[^>]*><td>[^<]*</td><td>test</td><td>approved</td><td>1</td>\s*<td>200</td>',
        attempts,
    )
    assert f'value="{template.replace("&", "&amp;")}"' in body and 'value="sale"' in body


def test_the_test_postback_says_what_the_tracker_answered(app, client, ctx):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)
    assert "Send a test postback" not in page(app, client, "/webmaster/postbacks")
    with Tracker([500]) as tracker:
        request(app, client, "POST", "/webmaster/postbacks", data={"url_template": tracker.base + "/pb"})
        request(app, client, "POST", "/webmaster/postbacks/test")
        body = page(app, client, "/webmaster/postbacks")

    test_row = re.search(r'<tr class="test".*?</tr>', body, re.S).group(0)
    assert "<td>500</td>" in test_row and "HTTP 500" in test_row


def test_an_unsavable_postback_url_is_shown_again_with_the_reason(app, client, ctx):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)

    response = request(
        app,
        client,
        "POST",
        "/webmaster/postbacks",
        data={"url_template": "https://t.example.com/?c={clickid}"},
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "unknown: {clickid}" in body and 'aria-invalid="true"' in body
    assert 'value="https://t.example.com/?c={clickid}"' in body
    assert db.session.scalar(select(func.count()).select_from(PostbackUrl)) == 0


# -- payouts ------------------------------------------------------------------------------------


def test_a_payout_is_requested_from_the_available_balance(app, client, ctx):
    earner = Earner(client)
    earner.earn(2500)
    signed_in(app, client, earner.user)
    assert "manual" in page(app, client, "/webmaster/payouts")

    asked = request(app, client, "POST", "/webmaster/payouts", data={"amount": "15.00", "currency": "USD"})

    assert asked.status_code == 303
    (payout,) = db.session.scalars(select(Payout).where(Payout.webmaster_id == earner.id)).all()
    assert (payout.amount_minor, payout.status) == (1500, "requested")
    assert earner.available() == 1000
    body = page(app, client, "/webmaster/payouts")
    assert "Payout" in body and "15.00 USD" in body and "requested" in body


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "Write the amount like 120.00"),
        ("1.234", "USD has 2 decimal places"),
        ("5.00", "smallest payout"),
        ("99.00", "does not cover"),
        ("0.00", "above zero"),
        ("99999999999999999999999999", "at most 10000000000.00"),  # the API's bound, not a 500
    ],
)
def test_a_payout_that_cannot_be_made_is_shown_again_with_the_reason(app, client, ctx, amount, message):
    earner = Earner(client)
    earner.earn(2500)
    signed_in(app, client, earner.user)

    response = request(app, client, "POST", "/webmaster/payouts", data={"amount": amount, "currency": "USD"})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 0
    assert earner.available() == 2500


def test_another_webmasters_payouts_are_not_shown(app, client, ctx):
    earner = Earner(client)
    earner.earn(2500)
    earner.request_payout(1200)
    signed_in(app, client, make_user("webmaster"))

    body = page(app, client, "/webmaster/payouts")

    assert "12.00 USD" not in body and "No payouts yet." in body
