"""Buying from the catalog in a real browser, CSRF on and under the Content-Security-Policy: a
buyer signs in, opens the catalog from the Exchange section, filters it down to the hot
lead, buys a slot at the price shown and lands on its sale on Purchases; the price is
reserved from its available balance, and the ledger's invariants hold. A buyer ticks two
leads and buys them as one order with the basket's button. Then the whole
journey: the buyer approves, returns the lead, its seller concedes, and both see the money
move back."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from billing.check import run_checks
from billing.services import balances_of
from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.db import commit
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import fund, make_key, make_user
from tests.http_harness import LiveServer, call

PASSWORD = "correct-horse-battery"  # what the factories give every user
FUNDS, FLOOR = 5000, 800
AGEING = {"steps": [{"after_hours": 0, "percent": 100}], "gone_after_hours": 72}
PERSONAL = ("Ann Smith", "202 555", "@example.com", "73301")  # the leads' name, phone, email, postcode


@dataclass
class Catalog:
    base_url: str
    app: object
    email: str
    buyer_id: int
    vertical: str
    hot: int
    cold: int


@pytest.fixture
def catalog(live_app_factory):
    """Two unsold leads of a two-slot vertical, listed at a floor of 8.00 USD, one hot and one
    cold; a buyer with 50.00 USD; the app served over HTTP. The leads are sent over HTTP too:
    their auctions run in the server's thread, away from Playwright's event loop."""
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        vertical = make_vertical(slots=2, ageing=AGEING, personal_fields=["name"])
        seller = make_user("webmaster")
        make_seller(seller, vertical)
        key = make_key(seller)
        buyer = make_user("advertiser")
        fund(buyer, FUNDS)
        email, buyer_id, vertical_id, name = buyer.email, buyer.id, vertical.id, vertical.name
    with LiveServer(app) as server:
        sent = [
            call(server.port, "POST", f"/api/v1/verticals/{vertical_id}/leads", key, solar_lead(80 + n))
            for n in range(2)
        ]
        assert [reply.status for reply in sent] == [202, 202], [reply.body for reply in sent]
        hot, cold = (reply.body["id"] for reply in sent)
        with app.app_context():
            assert sweep_catalog()["leads_listed"] == 2  # validated and auctioned (unsold) already
            for lead_id, temperature in ((hot, "hot"), (cold, "cold")):
                db.session.execute(
                    update(CatalogListing)
                    .where(CatalogListing.lead_id == lead_id)
                    .values(temperature=temperature, floor_minor=FLOOR)
                )
            commit()
        yield Catalog(f"http://127.0.0.1:{server.port}", app, email, buyer_id, name, hot, cold)


def test_a_buyer_filters_the_catalog_buys_a_lead_and_sees_the_sale(catalog, page):
    page.goto(catalog.base_url + "/login")
    page.get_by_label("Email").fill(catalog.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/advertiser/")
    page.get_by_role("link", name="Exchange").click()
    page.get_by_role("navigation", name="Exchange").get_by_role("link", name="Catalog").click()
    page.wait_for_url("**/advertiser/catalog")
    assert page.locator("#catalog-count").inner_text() == "2 leads for sale"

    page.get_by_label("Vertical").select_option(label=catalog.vertical)
    page.get_by_label("Temperature").select_option("hot")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/advertiser/catalog?*temperature=hot*")

    assert page.locator("#catalog-count").inner_text() == "1 lead for sale"
    assert page.locator("#catalog tbody tr").count() == 1
    row = page.locator(f"#lead-{catalog.hot}")
    assert "hot" in row.inner_text() and "8.00 USD" in row.inner_text()
    assert "50.00 USD" in page.locator("#available").inner_text()
    html = page.content()
    assert all(personal not in html for personal in PERSONAL)

    row.get_by_role("button", name=f"Buy (lead {catalog.hot}, 8.00 USD)", exact=True).click()
    page.wait_for_url("**/advertiser/purchases#sale-*")

    with catalog.app.app_context():
        sale = db.session.scalar(select(Sale).where(Sale.lead_id == catalog.hot))
        assert (sale.buyer_id, sale.price_minor, sale.status) == (catalog.buyer_id, FLOOR, "pending")
        [available] = [b for b in balances_of(catalog.buyer_id) if b.purpose == "available"]
        assert available.available_minor == FUNDS - FLOOR
        assert {name: problems for name, problems in run_checks().items() if problems} == {}
    notice = page.get_by_role("status")
    assert f"Lead {catalog.hot} is yours: sale {sale.id}, 8.00 USD reserved" in notice.inner_text()
    bought = page.locator(f"#sale-{sale.id}")
    assert "8.00 USD" in bought.inner_text() and "pending" in bought.inner_text()
    assert "Ann Smith 80" in bought.inner_text()  # bought: now the lead is the buyer's, whole
    page.get_by_role("navigation", name="Exchange").get_by_role("link", name="Catalog").click()
    assert "1 of 2" in page.locator(f"#lead-{catalog.hot}").inner_text()


def test_a_buyer_selects_two_leads_and_buys_them_as_one_order(catalog, page):
    """The basket without a line of script: two boxes ticked, one button, two sales."""
    sign_in(page, catalog.base_url, catalog.email, "/advertiser/")
    page.goto(catalog.base_url + "/advertiser/catalog")
    page.get_by_role("checkbox", name=f"Select (lead {catalog.hot}, 8.00 USD)", exact=True).check()
    page.get_by_role("checkbox", name=f"Select exclusively: 16.00 USD (lead {catalog.cold})").check()
    page.get_by_role("button", name="Buy the selected leads").click()
    page.wait_for_url("**/advertiser/purchases")

    with catalog.app.app_context():
        sales = {
            sale.lead_id: sale
            for sale in db.session.scalars(select(Sale).where(Sale.buyer_id == catalog.buyer_id))
        }
        assert {lead_id: (s.price_minor, s.exclusive) for lead_id, s in sales.items()} == {
            catalog.hot: (FLOOR, False),
            catalog.cold: (2 * FLOOR, True),
        }
        [available] = [b for b in balances_of(catalog.buyer_id) if b.purpose == "available"]
        assert available.available_minor == FUNDS - 3 * FLOOR
        assert {name: problems for name, problems in run_checks().items() if problems} == {}
    notice = page.get_by_role("status").inner_text()
    leads = {f"{catalog.hot}", f"{catalog.cold} (exclusively)"}
    named = re.match(r"Leads (.+) are yours: sales .*, 24\.00 USD reserved", notice)
    assert named and set(named.group(1).split(", ")) == leads, notice  # in the page's order
    for sale in sales.values():
        assert "pending" in page.locator(f"#sale-{sale.id}").inner_text()


def sign_in(page, base_url: str, email: str, lands_on: str) -> None:
    page.context.clear_cookies()
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{lands_on}")


def hold_posted(page) -> str:
    """The seller's hold account's Posted cell on its payouts page (Account, Currency, Posted, ...)."""
    row = page.locator("table", has_text="Balances").locator("tbody tr", has_text="hold")
    return row.locator("td").nth(2).inner_text()


def test_a_buyer_buys_from_the_catalog_returns_the_lead_and_the_seller_concedes(catalog, page):
    """The whole journey on the pages: filter, buy, read the lead, approve; return it with a
    reason and evidence; the seller concedes on its Disputes page; the money moves back."""
    sign_in(page, catalog.base_url, catalog.email, "/advertiser/")
    page.goto(catalog.base_url + "/advertiser/catalog")
    page.get_by_label("Temperature").select_option("hot")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**temperature=hot*")
    page.locator(f"#lead-{catalog.hot}").get_by_role(
        "button", name=f"Buy (lead {catalog.hot}, 8.00 USD)"
    ).click()
    page.wait_for_url("**/advertiser/purchases#sale-*")
    with catalog.app.app_context():
        sale = db.session.scalar(select(Sale).where(Sale.lead_id == catalog.hot))
        sale_id, payout, seller_email = sale.id, sale.payout_minor, db.session.get(User, sale.seller_id).email
    bought = page.locator(f"#sale-{sale_id}")
    assert "Ann Smith 80" in bought.inner_text(), "delivered: the lead whole, on Purchases"
    bought.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/advertiser/purchases")
    assert "approved" in page.locator(f"#sale-{sale_id}").inner_text()

    bought = page.locator(f"#sale-{sale_id}")
    bought.locator("summary", has_text="Return").click()
    bought.get_by_label("Reason").select_option("wrong_number")
    bought.get_by_label("What shows it").fill("Called twice on Monday: the number is not in service.")
    bought.get_by_role("button", name="Return this lead").click()
    page.wait_for_url(f"**/advertiser/purchases#sale-{sale_id}")
    assert f"Return asked of sale {sale_id}" in page.get_by_role("status").inner_text()
    assert page.locator(f"#sale-{sale_id}").get_by_role("link", name="return").count() == 1
    page.goto(catalog.base_url + "/advertiser/catalog")
    assert "42.00 USD" in page.locator("#available").inner_text(), "charged while the seller answers"

    sign_in(page, catalog.base_url, seller_email, "/webmaster/")
    page.goto(catalog.base_url + "/webmaster/payouts")
    assert hold_posted(page) == f"{payout / 100:.2f} USD"
    page.goto(catalog.base_url + "/webmaster/disputes")
    page.locator("a[href*='/webmaster/disputes/']").first.click()
    page.wait_for_url("**/webmaster/disputes/*")
    assert "The buyer asks to return its purchase of this lead" in page.content()
    assert "the number is not in service" in page.content()
    page.get_by_role("button", name="Concede").click()
    page.wait_for_url("**/webmaster/disputes/*")
    assert "Outcome: upheld" in page.content()
    page.goto(catalog.base_url + "/webmaster/payouts")
    assert hold_posted(page) == "0.00 USD", "the payout went back with the lead"

    sign_in(page, catalog.base_url, catalog.email, "/advertiser/")
    page.goto(catalog.base_url + "/advertiser/catalog")
    assert "50.00 USD" in page.locator("#available").inner_text(), "the price came back"
    page.goto(catalog.base_url + "/advertiser/purchases")
    assert "returned" in page.locator(f"#sale-{sale_id}").inner_text()
    with catalog.app.app_context():
        assert db.session.get(Sale, sale_id).status == "returned"
        assert {name: problems for name, problems in run_checks().items() if problems} == {}
