"""The seller's catalog page (/webmaster/listings) and staff's view of the catalog
(/admin/catalog), on real data: verticals, leads submitted by two sellers, an auction's
sale, the catalog swept and bought from through the API, a purchase rejected.

The seller sees its own leads that were in the catalog, those for sale first, with the
payout GET /api/v1/catalog/mine gives, never the buyer's price, a buyer or another
seller's lead. Staff see the catalog's size, sell-through and revenue by vertical and by
the age step each sale was made at, equal to the figures worked out by hand below
(docs/exchange.md, "The catalog")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update

from exchange.buying.decisions import reject_sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.db import commit
from exchange.extensions import db
from tests.api.test_advertiser_pages import page, signed_in
from tests.api.test_catalog_pages import rows
from tests.api.test_exchange_flow import solar_lead, submit
from tests.api.test_web_portal import request
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

AGEING = {
    "steps": [{"after_hours": 0, "percent": 100}, {"after_hours": 24, "percent": 50}],
    "gone_after_hours": 240,
}
FLOOR = 1000  # every listing's: 10.00 USD at 100 %, 5.00 USD at 50 %; the seller earns 80 %
PERSONAL = ("Ann Smith", "202 555", "@example.com", "73301")


@dataclass
class Market:
    """Vertical A (two slots, 20 % margin) and B; sellers one and two; what each lead is."""

    a: object
    b: object
    one: object
    two: object
    buyers: list
    lead: dict[str, int]


def set_facts(lead_id: int, **facts) -> None:
    db.session.execute(update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(**facts))
    db.session.commit()


def buy(client, key: str, lead_id: int, **body) -> dict:
    response = client.post(f"/api/v1/catalog/{lead_id}/buy", json=body, headers=auth(key))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def market(client, ctx, frozen_clock) -> Market:
    """On vertical A, seller one's leads:
      - ``fresh`` (captured 2 h before the purchases): one slot bought by buyer x, 10.00 USD;
      - ``old`` (30 h): both slots bought, by x and by y, 5.00 USD each: sold out;
      - ``waiting`` (30 h): never bought, for sale at 50 %;
      - ``rejected`` (1 h): a slot bought by x, then rejected by x: no live sale;
      - ``no_floor`` (a Canadian lead, the vertical prices only the US): never listed.
    Seller two's on A: ``alone`` (30 h), bought exclusively by y (both slots, 10.00 USD);
    ``auctioned``, a slot sold to z at its auction (not a catalog sale), one left listed.
    On vertical B, seller one's ``other`` (captured now): listed, never bought."""
    a = make_vertical(slots=2, ageing=AGEING, floors={"US": {"cold": 500, "warm": 800, "hot": 1200}})
    b = make_vertical(slots=2, ageing=AGEING)
    one, two = make_user("webmaster"), make_user("webmaster")
    for seller, vertical in ((one, a), (one, b), (two, a)):
        make_seller(seller, vertical)
    one_key, two_key = make_key(one), make_key(two)
    lead = {}
    for n, name in enumerate(("fresh", "old", "waiting", "rejected")):
        lead[name] = submit(client, one_key, a.id, solar_lead(300 + n)).get_json()["id"]
    lead["no_floor"] = submit(client, one_key, a.id, solar_lead(310, country="CA")).get_json()["id"]
    lead["alone"] = submit(client, two_key, a.id, solar_lead(320)).get_json()["id"]
    lead["other"] = submit(client, one_key, b.id, solar_lead(330)).get_json()["id"]
    z = make_user("advertiser")
    fund(z, 50_000)
    make_buy_order(z, a, bid_minor=900)  # after the others: only "auctioned" meets it
    lead["auctioned"] = submit(client, two_key, a.id, solar_lead(340)).get_json()["id"]
    sweep_catalog()
    now = frozen_clock.now
    ages = {"fresh": 2, "old": 30, "waiting": 30, "rejected": 1, "alone": 30, "auctioned": 0, "other": 0}
    for name, hours in ages.items():
        set_facts(lead[name], floor_minor=FLOOR, captured_at=now - timedelta(hours=hours))
    x, y = make_user("advertiser"), make_user("advertiser")
    fund(x, 50_000)
    fund(y, 50_000)
    x_key, y_key = make_key(x), make_key(y)
    buy(client, x_key, lead["fresh"])
    buy(client, x_key, lead["old"])
    buy(client, y_key, lead["old"])
    buy(client, y_key, lead["alone"], exclusive=True)
    taken_back = buy(client, x_key, lead["rejected"])
    reject_sale(taken_back["id"], x.id, "not for us")
    commit()
    sweep_catalog()  # the rejected sale's slot is free again
    return Market(a, b, one, two, [x, y, z], lead)


# -- the seller's page --------------------------------------------------------------------------------


def test_a_seller_sees_its_listed_leads_first_with_their_step_and_payout_never_a_price(app, client, market):
    lead = market.lead
    signed_in(app, client, market.one)

    body = page(app, client, "/webmaster/listings")

    shown = rows(body)
    fresh = db.session.get(CatalogListing, lead["fresh"])
    assert list(shown) == [lead["other"], lead["rejected"], lead["fresh"], lead["waiting"], lead["old"]]
    assert "5 leads" in body  # not "no_floor": never in the catalog
    assert shown[lead["fresh"]] == [
        str(lead["fresh"]),
        market.a.name,
        "US",
        "TX",
        fresh.temperature,  # as validation scored the lead
        str(fresh.score),
        "2 h",
        "1 of 2",
        "for sale",
        "100 % of the floor from capture",
        "8.00 USD",  # 80 % of 10.00
    ]
    assert shown[lead["waiting"]][6:] == [
        "30 h",
        "0 of 2",
        "for sale",
        "50 % of the floor after 24 h",
        "4.00 USD",
    ]
    assert shown[lead["rejected"]][7:] == [
        "0 of 2",
        "for sale",
        "100 % of the floor from capture",
        "8.00 USD",
    ]
    assert shown[lead["old"]][7:] == ["2 of 2", "sold out", "–", "–"]
    assert "10.00 USD" not in body and "5.00 USD" not in body and "20.00 USD" not in body  # no price
    for personal in PERSONAL:
        assert personal not in body
    for buyer in market.buyers:
        assert buyer.email not in body


def test_the_page_shows_the_payout_of_the_sellers_api(app, client, market):
    """The page and GET /api/v1/catalog/mine are one search: the same leads for sale, the
    same payout."""
    api = client.get("/api/v1/catalog/mine", headers=auth(make_key(market.one))).get_json()
    signed_in(app, client, market.one)

    shown = rows(page(app, client, "/webmaster/listings?listed=true"))

    assert set(shown) == {item["lead_id"] for item in api["items"]}
    for item in api["items"]:
        assert shown[item["lead_id"]][-1] == f"{item['payout_minor'] / 100:.2f} USD"


def test_a_seller_never_sees_another_sellers_leads(app, client, market):
    signed_in(app, client, market.two)

    shown = rows(page(app, client, "/webmaster/listings"))

    assert list(shown) == [market.lead["auctioned"], market.lead["alone"]]
    assert shown[market.lead["auctioned"]][7:] == [
        "1 of 2",
        "for sale",
        "100 % of the floor from capture",
        "8.00 USD",
    ]
    assert shown[market.lead["alone"]][7:] == ["2 of 2", "sold out", "–", "–"]


def test_the_seller_filters_by_listed_and_by_vertical_and_pages(app, client, market):
    lead = market.lead
    signed_in(app, client, market.one)

    not_listed = rows(page(app, client, "/webmaster/listings?listed=false"))
    on_b = rows(page(app, client, f"/webmaster/listings?vertical_id={market.b.id}"))
    first = page(app, client, "/webmaster/listings?per_page=2")
    third = rows(page(app, client, "/webmaster/listings?per_page=2&page=3"))
    refused = page(app, client, "/webmaster/listings?listed=maybe", status=422)

    assert list(not_listed) == [lead["old"]]
    assert list(on_b) == [lead["other"]]
    assert list(rows(first)) == [lead["other"], lead["rejected"]]
    assert "Page 1 of 3 (5 in all)" in first and "per_page=2" in first
    assert list(third) == [lead["old"]]
    assert "Your listings were not searched" in refused


def test_a_lead_past_its_last_step_is_off_the_catalog_with_no_payout(app, client, market, frozen_clock):
    frozen_clock.advance(hours=215)  # "waiting" is 245 h old: past the last step (240 h)
    signed_in(app, client, market.one)

    shown = rows(page(app, client, "/webmaster/listings"))

    assert shown[market.lead["waiting"]][7:] == ["0 of 2", "off the catalog", "–", "–"]
    assert shown[market.lead["fresh"]][7:] == [
        "1 of 2",
        "for sale",
        "50 % of the floor after 24 h",
        "4.00 USD",
    ]


def test_only_webmasters_see_the_sellers_page_and_its_nav_entry(app, client, market):
    signed_in(app, client, market.one)
    body = page(app, client, "/webmaster/verticals")
    section = re.search(r'<nav aria-label="Exchange".*?</nav>', body, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", section) == ["Verticals", "Submissions", "Catalog"]

    signed_in(app, client, market.buyers[0])
    assert request(app, client, "GET", "/webmaster/listings").status_code == 403


# -- staff's view ---------------------------------------------------------------------------------------


def cells(body: str, table: str) -> list[list[str]]:
    """One table's body and foot rows, each as its cells' text."""
    found = re.search(rf'<table id="{table}">(.*?)</table>', body, re.S).group(1)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.split("</thead>")[-1], re.S)
    ]


def test_staff_see_size_sell_through_and_revenue_by_vertical_and_step_at_sale(
    app, client, market, frozen_clock
):
    """By hand, vertical A: for sale now "fresh", "waiting", "rejected" and "auctioned" (4);
    ever listed all but "no_floor" (6); with a live catalog sale "fresh", "old" and "alone"
    (3): 50 %. Sales: "fresh" at 100 % (10.00, margin 2.00); "old" twice and "alone" (both
    slots) at 50 % (5.00 + 5.00 + 10.00, margin 4.00). The rejected sale and the auction's
    sale do not count. Vertical B: one for sale, none sold. Thirty hours later "fresh" is
    at the 50 % step, but its sale was made at 100 %: that is where it counts."""
    frozen_clock.advance(hours=30)
    signed_in(app, client, make_user("admin"))

    body = page(app, client, "/admin/catalog")

    a, b = market.a.name, market.b.name
    assert cells(body, "catalog-verticals") == [
        [a, "active", "4", "6", "3", "50 %", "4", "30.00 USD", "6.00 USD"],
        [b, "active", "1", "1", "0", "0 %", "0", "0.00 USD", "0.00 USD"],
        ["Total (USD)", "", "", "", "", "", "4", "30.00 USD", "6.00 USD"],
    ]
    assert cells(body, "catalog-steps") == [
        [a, "100 % of the floor from capture", "1", "10.00 USD", "8.00 USD", "2.00 USD"],
        [a, "50 % of the floor after 24 h", "3", "20.00 USD", "16.00 USD", "4.00 USD"],
    ]
    chart = json.loads(re.search(r'id="catalog-chart-data">(.*?)</script>', body, re.S).group(1))
    assert chart == {
        "labels": ["100 % of the floor from capture", "50 % of the floor after 24 h"],
        "series": [{"label": f"{a} (USD)", "data": [2.0, 4.0]}],
    }
    assert "catalog_figures.js" in body and "chart.umd.min.js" in body


def test_a_paused_vertical_has_nothing_for_sale_but_keeps_its_figures(app, client, market):
    market.a.status = "paused"
    db.session.commit()
    signed_in(app, client, make_user("moderator"))

    first = cells(page(app, client, "/admin/catalog"), "catalog-verticals")[0]

    assert first == [market.a.name, "paused", "0", "6", "3", "50 %", "4", "30.00 USD", "6.00 USD"]


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_buyers_and_sellers_may_not_see_staffs_view(app, client, ctx, role):
    signed_in(app, client, make_user(role))

    assert request(app, client, "GET", "/admin/catalog").status_code == 403


def test_staffs_view_asks_a_visitor_to_sign_in_and_is_in_the_admins_exchange_section(app, client, ctx):
    assert request(app, client, "GET", "/admin/catalog").status_code == 302
    signed_in(app, client, make_user("admin"))

    body = page(app, client, "/admin/catalog")

    section = re.search(r'<nav aria-label="Exchange".*?</nav>', body, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", section) == ["Verticals", "Auction log", "Catalog"]
    assert "No catalog sale yet." in body
