"""A dispute decided in a real browser: the webmaster's appeal of a rejected lead, contested
by the advertiser, sits in the moderators' queue; a moderator signs in, opens the evidence,
overturns the rejection with a written reason; the lead is approved and charged once, and
the webmaster's page says it won."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from exchange.extensions import db
from exchange.leads.models import Lead
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.http_harness import LiveServer

PASSWORD = "correct-horse-battery"  # what the factories give every user
RATE, PAYOUT = 1500, 1000


@dataclass
class Dispute:
    base_url: str
    app: object
    dispute_id: int
    lead_id: int
    moderator: str
    webmaster: str


@pytest.fixture
def contested_appeal(live_app_factory):
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        advertiser, webmaster, moderator = (
            make_user(role) for role in ("advertiser", "webmaster", "moderator")
        )
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=PAYOUT)
        fund(advertiser, 10 * RATE)
        make_join(webmaster, offer)
        adv, wm = auth(make_key(advertiser)), auth(make_key(webmaster))
        emails = moderator.email, webmaster.email
        offer_id = offer.id
    api = app.test_client()
    lead = api.post(
        "/api/v1/leads", json={"offer_id": offer_id, "fields": lead_fields()}, headers=wm
    ).get_json()
    assert (
        api.post(f"/api/v1/leads/{lead['id']}/reject", json={"reason": "no answer"}, headers=adv).status_code
        == 200
    )
    body = {"lead_id": lead["id"], "reason": "contact_valid", "statement": "She answered our call."}
    dispute = api.post("/api/v1/disputes", json=body, headers=wm).get_json()
    answer = {"accept": False, "statement": "Disconnected."}
    assert api.post(f"/api/v1/disputes/{dispute['id']}/answer", json=answer, headers=adv).status_code == 200
    with LiveServer(app) as server:
        yield Dispute(f"http://127.0.0.1:{server.port}", app, dispute["id"], lead["id"], *emails)


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')


def test_a_moderator_overturns_an_appeal_in_the_browser(contested_appeal, browser, page):
    site = contested_appeal
    sign_in(page, site.base_url, site.moderator)
    page.goto(site.base_url + "/moderator/")
    page.click(f'a[href="/moderator/disputes/{site.dispute_id}"]')
    assert page.locator("h1").inner_text() == f"Appeal {site.dispute_id} on lead {site.lead_id}"
    assert page.get_by_text("She answered our call.").is_visible()

    page.check('input[name="decision"][value="overturn"]')
    page.fill('textarea[name="reason"]', "The consent is on record and the call log shows an answer.")
    page.click('form[action$="/decide"] button[type="submit"]')

    assert page.get_by_text(f"Dispute {site.dispute_id}: overturned.").is_visible()
    with site.app.app_context():
        lead = db.session.get(Lead, site.lead_id)
        assert lead.status == "approved" and lead.reinstated_at is not None
    webmaster = browser.new_context()
    try:
        tab = webmaster.new_page()
        sign_in(tab, site.base_url, site.webmaster)
        tab.goto(site.base_url + "/webmaster/")
        assert tab.get_by_text("you won", exact=False).first.is_visible()
    finally:
        webmaster.close()
