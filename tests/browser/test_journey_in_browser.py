"""Each role's main journey in a real browser, one browser context per role, CSRF on and
Stripe as localstripe: the advertiser creates an offer and tops up by card; the webmaster
joins it, builds a link with sub1, clicks it and sends a lead through the hosted form's link
(a click, then the form); the advertiser rejects the lead; the webmaster appeals; the
advertiser contests on the dispute's page; a moderator overturns; then each one's pages
show the outcome, and the ledger's invariants hold.

No request leaves 127.0.0.1: the click is asked for without following its redirect (the
landing is on the internet), and localstripe runs on this machine."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from billing.check import run_checks
from billing.services import balances_of
from exchange.db import commit
from tests.browser.conftest import STEP_TIMEOUT_MS
from tests.browser.test_topup_in_browser import CARD_ASKING_FOR_3DS, SUCCESS, type_card
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer, available_over_http, wait_for
from tests.stripe_server import LocalStripe

PASSWORD = "correct-horse-battery"  # what the factories give every user
OFFER_NAME = "Solar quotes in the browser"
LEAD_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": True},
    {"name": "country", "type": "country", "required": True},
]
LANDING = "https://landing.example/solar?click={click_id}&s1={sub1}"  # never loaded


@dataclass
class Site:
    base_url: str
    port: int
    app: object
    emails: dict
    ids: dict
    advertiser_key: str


@pytest.fixture
def stripe_server():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def site(live_app_factory, stripe_server):
    """The app on localstripe over HTTP with CSRF on, and one user of each role."""
    app = live_app_factory(
        **stripe_server.app_config(),
        STRIPE_JS_URL=stripe_server.url + "/js.stripe.com/v3/",
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,  # links the pages show (tracking, hosted form) name the host they were asked on
    )
    with app.app_context():
        users = {role: make_user(role) for role in ("advertiser", "webmaster", "moderator")}
        key = make_key(users["advertiser"])
        emails = {role: user.email for role, user in users.items()}
        ids = {role: user.id for role, user in users.items()}
        commit()
    with LiveServer(app) as server:
        stripe_server.send_webhooks_to(f"http://127.0.0.1:{server.port}/webhooks/stripe")
        yield Site(f"http://127.0.0.1:{server.port}", server.port, app, emails, ids, key)


@pytest.fixture
def tabs(browser, page):
    """A page of its own, in its own browser context, for each role; the advertiser's is
    the conftest's ``page`` (screenshot on failure); every request must stay on 127.0.0.1."""
    # The webmaster's visitor clicks and fills the form: headless Chromium's own user agent
    # ("HeadlessChrome") is one the lead checks reject as a bot, so it goes as desktop Chrome.
    visitor = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{browser.version} Safari/537.36"
    )
    contexts = [browser.new_context(user_agent=visitor), browser.new_context()]
    pages = {"advertiser": page}
    for role, context in zip(("webmaster", "moderator"), contexts, strict=True):
        context.set_default_timeout(STEP_TIMEOUT_MS)
        pages[role] = context.new_page()
    outside: list[str] = []
    for tab in pages.values():
        tab.context.on(
            "request", lambda sent: urlsplit(sent.url).hostname != "127.0.0.1" and outside.append(sent.url)
        )
    try:
        yield pages
    finally:
        for context in contexts:
            context.close()
    assert outside == [], "a page asked for something outside 127.0.0.1"


def sign_in(page, site: Site, role: str, home: str) -> None:
    page.goto(site.base_url + "/login")
    page.get_by_label("Email").fill(site.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.base_url + home)


def cells(row) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def create_offer(page, site: Site) -> int:
    page.goto(site.base_url + "/advertiser/offers")
    page.get_by_role("button", name="New offer").click()  # a link styled as a button
    page.wait_for_url("**/advertiser/offers/new")
    page.locator("#name").fill(OFFER_NAME)
    page.locator("#model").select_option("cpl")
    page.locator("#currency").fill("USD")
    page.locator("#rate_minor").fill("15.00")
    page.locator("#payout_minor").fill("10.00")
    page.locator("#fields").fill(json.dumps(LEAD_FIELDS))
    page.locator("#landing_url").fill(LANDING)
    page.get_by_role("button", name="Create the offer").click()
    page.get_by_text("The offer is created.").wait_for()
    return int(re.search(r"/advertiser/offers/(\d+)", page.url).group(1))


def top_up_by_card(page, site: Site, stripe_server) -> None:
    """As tests/browser/test_topup_in_browser.py does: the card attached through
    localstripe's API (what real Stripe.js does inside confirmCardPayment), then the page
    confirms and localstripe's 3-D Secure modal is answered."""
    page.goto(site.base_url + "/advertiser/")
    page.get_by_role("link", name="Top up", exact=True).first.click()
    page.wait_for_url("**/advertiser/topup")
    page.get_by_label("Amount").fill("120.00")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_role("button", name="Continue to card payment").click()
    page.get_by_role("button", name="Pay 120.00 USD").wait_for()
    intent_id = page.locator("#card-form").get_attribute("data-client-secret").split("_secret_")[0]
    type_card(page, CARD_ASKING_FOR_3DS)
    element = page.locator("#card-element")
    typed = {
        part: element.locator(f"input[placeholder={part}]").input_value() for part in CARD_ASKING_FOR_3DS
    }
    client = stripe_server.client()
    method = client.v1.payment_methods.create(params={"type": "card", "card": typed})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    assert client.v1.payment_intents.confirm(intent_id).status == "requires_action"

    page.get_by_role("button", name="Pay 120.00 USD").click()
    page.get_by_role("button", name="Complete authentication").click()  # localstripe's 3-D Secure
    page.locator("#card-result").filter(has_text=SUCCESS).wait_for()
    wait_for(
        lambda: available_over_http(site.port, site.advertiser_key) == 12_000,
        "localstripe's signed webhook credits 120.00 USD",
    )
    page.get_by_role("link", name="Back to your balance").click()
    page.wait_for_url("**/advertiser/")


def available_row(page):
    return page.get_by_role("table", name="Balances").locator("tbody tr").filter(has_text="available")


def test_each_role_goes_through_its_journey_in_the_browser(site, tabs, stripe_server):
    advertiser, webmaster, moderator = tabs["advertiser"], tabs["webmaster"], tabs["moderator"]

    # 1. The advertiser: an offer, then 120.00 USD by card.
    sign_in(advertiser, site, "advertiser", "/advertiser/")
    offer_id = create_offer(advertiser, site)
    top_up_by_card(advertiser, site, stripe_server)
    assert cells(available_row(advertiser))[1:4] == ["USD", "120.00 USD", "120.00 USD"]

    # 2. The webmaster: the catalog, join, the link builder, a click, the hosted form.
    sign_in(webmaster, site, "webmaster", "/webmaster/")
    webmaster.goto(site.base_url + "/webmaster/offers")
    row = webmaster.locator("#catalog tbody tr").filter(has_text=OFFER_NAME)
    row.get_by_role("button", name="Join").click()
    webmaster.get_by_text(f"Offer {offer_id}: Joined.").wait_for()
    webmaster.goto(site.base_url + "/webmaster/offers")
    assert cells(webmaster.locator("#catalog tbody tr").filter(has_text=OFFER_NAME))[-1] == "Joined"
    webmaster.get_by_role("link", name=OFFER_NAME).click()
    webmaster.wait_for_url(f"**/webmaster/offers/{offer_id}")
    webmaster.get_by_label("sub1").fill("fb-campaign-7")
    webmaster.get_by_role("button", name="Build the link").click()
    built_link = webmaster.locator("#built-link")
    built_link.filter(has_text="sub1=fb-campaign-7").wait_for()
    link = built_link.inner_text().strip()
    assert link.startswith(site.base_url + "/c/")

    clicked = webmaster.request.get(link, max_redirects=0)  # the landing is never asked for
    assert clicked.status == 302
    landing = urlsplit(clicked.headers["location"])
    assert (landing.scheme, landing.hostname, landing.path) == ("https", "landing.example", "/solar")
    query = parse_qs(landing.query)
    assert query["s1"] == ["fb-campaign-7"]
    click_id = query["click"][0]
    assert click_id

    # The hosted form's link, with the same sub ids: a click of its own, then the form with
    # that click's id.
    form_link = webmaster.locator("#form-link").get_attribute("href")
    assert form_link == link.replace("?", "/form?", 1)
    webmaster.goto(form_link)
    webmaster.get_by_role("heading", name=OFFER_NAME).wait_for()
    form_click_id = webmaster.locator('input[name="click_id"]').input_value()
    assert form_click_id and form_click_id != click_id
    webmaster.get_by_label("Name (required)").fill("Ann Lee")
    webmaster.get_by_label("Phone (required)").fill("+1 202 555 0199")
    webmaster.get_by_label("Email (required)").fill("ann.lee@example.com")
    webmaster.get_by_label("Country (required)").fill("US")
    webmaster.get_by_label("I agree to be contacted", exact=False).check()
    # The honeypot ("website") stays empty, as a person leaves it; the form has no minimum
    # fill time (the offer's least seconds from click to lead only flags, never refuses).
    webmaster.get_by_role("button", name="Send").click()
    webmaster.get_by_role("heading", name="Thank you").wait_for()

    # 3. The advertiser: the lead pending in the inbox, rejected on its page.
    advertiser.goto(site.base_url + "/advertiser/leads")
    lead_row = advertiser.locator("tbody tr").filter(has=advertiser.locator('input[name="lead_id"]'))
    lead_row.first.wait_for()
    assert lead_row.count() == 1
    lead_cells = cells(lead_row)
    lead_id = int(lead_cells[1])
    assert lead_cells[2:4] == [OFFER_NAME, "Pending review"], lead_cells  # the offer by its name
    assert lead_cells[6] == "15.00 USD"
    lead_row.get_by_role("link", name=str(lead_id)).click()
    advertiser.get_by_role("heading", name=f"Lead {lead_id}: Pending review").wait_for()
    assert "fb-campaign-7" in advertiser.get_by_role("table", name="Fields").inner_text()
    advertiser.get_by_label("Why reject (the webmaster sees it)").fill("Nobody answered the phone.")
    advertiser.get_by_role("button", name="Reject").click()
    advertiser.get_by_role("heading", name=f"Lead {lead_id}: Rejected").wait_for()

    # 4. The webmaster: the lead rejected, appealed with a reason and a statement.
    webmaster.goto(site.base_url + "/webmaster/leads")
    row = webmaster.locator("#leads tbody tr").filter(has_text=str(lead_id)).first
    assert cells(row)[2] == "Rejected"
    assert "Rejected by the advertiser" in cells(row)[3]
    row.locator("summary").click()
    row.get_by_label("Reason").select_option("contact_valid")
    row.get_by_label("Your statement").fill("She answered our call the same day.")
    row.get_by_role("button", name="Appeal the rejection").click()
    opened = webmaster.get_by_text(re.compile(rf"Lead {lead_id}: appeal \d+ opened"))
    opened.wait_for()
    dispute_id = int(re.search(r"appeal (\d+) opened", opened.inner_text()).group(1))

    # 5. The advertiser contests on the dispute's page, from the lead's page.
    advertiser.reload()
    on_the_lead = advertiser.get_by_role("table", name="Disputes on this lead")
    on_the_lead.get_by_role("link", name=str(dispute_id), exact=True).click()
    advertiser.get_by_role("heading", name=f"Appeal {dispute_id} on lead {lead_id}").wait_for()
    assert advertiser.get_by_text("She answered our call the same day.").is_visible()
    advertiser.get_by_label("Your statement", exact=False).fill("The number was disconnected.")
    advertiser.get_by_role("button", name="Contest").click()
    advertiser.get_by_text("You contested", exact=False).wait_for()
    assert advertiser.locator("#dispute-status").inner_text().startswith("With the moderators")
    advertiser.goto(site.base_url + f"/advertiser/leads/{lead_id}")
    disputes = advertiser.get_by_role("table", name="Disputes on this lead")
    assert cells(disputes.locator("tbody tr").first)[:4] == [
        str(dispute_id),
        "Appeal",
        "The contact is real",
        "With the moderators",
    ]

    # 6. The moderator: the queue, the evidence, an overturn with its reason.
    sign_in(moderator, site, "moderator", "/moderator/")
    queued = moderator.get_by_role("table", name=re.compile("Escalated disputes")).locator("tbody tr")
    assert cells(queued.first)[:3] == [str(dispute_id), "Appeal", str(lead_id)]
    queued.first.get_by_role("link", name="Evidence and decision").click()
    moderator.get_by_role("heading", name=f"Appeal {dispute_id} on lead {lead_id}").wait_for()
    assert moderator.get_by_text("She answered our call the same day.").first.is_visible()
    moderator.get_by_label("Overturn").check()
    moderator.get_by_label("Reason (shown to both parties)").fill("The call log shows an answer.")
    moderator.get_by_role("button", name="Decide").click()
    moderator.get_by_text(f"Dispute {dispute_id}: overturned.").wait_for()

    # 7. The outcome, on each one's pages.
    webmaster.goto(site.base_url + "/webmaster/")
    webmaster.get_by_text("you won", exact=False).first.wait_for()
    earnings = webmaster.locator("#earnings tbody tr").filter(has_text="USD")
    assert cells(earnings)[3] == "10.00 USD"  # on hold until the offer's hold ends
    webmaster.get_by_role("link", name=f"Open appeal {dispute_id}").click()
    webmaster.get_by_role("heading", name="Outcome: overturned, you won").wait_for()
    assert webmaster.get_by_text("The call log shows an answer.", exact=True).is_visible()
    assert webmaster.get_by_text("The number was disconnected.").is_visible()

    advertiser.goto(site.base_url + f"/advertiser/leads/{lead_id}")
    advertiser.get_by_role("heading", name=f"Lead {lead_id}: Approved").wait_for()
    advertiser.goto(site.base_url + "/advertiser/")
    assert cells(available_row(advertiser))[3] == "105.00 USD"  # 120.00 - 15.00

    moderator.goto(site.base_url + "/moderator/")
    moderator.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    moderator.wait_for_url("**/moderator/audit")
    entry = moderator.locator("tbody tr").filter(has_text="Decided a dispute")
    assert f"dispute {dispute_id}" in entry.first.inner_text()

    # And in the database: the balances, and no invariant of the ledger broken.
    with site.app.app_context():
        accounts = {
            role: {(b.purpose, b.currency): b for b in balances_of(site.ids[role])}
            for role in ("advertiser", "webmaster")
        }
        assert accounts["advertiser"][("available", "USD")].available_minor == 10_500
        held = [b for (purpose, _), b in accounts["webmaster"].items() if purpose != "available"]
        assert [(b.currency, b.available_minor) for b in held] == [("USD", 1_000)]
        assert {name: problems for name, problems in run_checks().items() if problems} == {}
