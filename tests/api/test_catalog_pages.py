"""The buyer's catalog page (/advertiser/catalog), driven with the test client: the table of
listed leads with their price now, age and slots, never a personal field; the filters read
by the API's schema (a bad one: the form again with its message, 422); buying a slot or
every slot at the price shown, paid from the available balance; each refusal shown on the
catalog with why (the new price for a price that moved) and nothing moved; CSRF; buyers
only (docs/exchange.md, "The catalog")."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from billing.models import Transfer
from exchange import clock
from exchange.buying.models import Sale
from exchange.catalog.domain import age_in_words as age_text
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from tests.api.test_advertiser_pages import page, post, signed_in
from tests.api.test_exchange_flow import solar_lead, submit
from tests.api.test_web_portal import request
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

AGEING = {
    "steps": [{"after_hours": 0, "percent": 100}, {"after_hours": 24, "percent": 50}],
    "gone_after_hours": 240,
}
FLOOR = 800
PERSONAL = ("Ann Smith", "202 555", "@example.com", "73301")  # the leads' name, phone, email, postcode


@pytest.fixture
def catalog(client, ctx):
    """Four unsold leads of a two-slot vertical (no buyer), listed at a floor of 8.00 USD. The
    vertical calls only the name personal, so the listings hold the postcode: the page must
    still never show it."""
    vertical = make_vertical(slots=2, ageing=AGEING, personal_fields=["name"])
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)
    ids = [submit(client, key, vertical.id, solar_lead(70 + n)).get_json()["id"] for n in range(4)]
    sweep_catalog()
    db.session.execute(
        update(CatalogListing).where(CatalogListing.lead_id.in_(ids)).values(floor_minor=FLOOR)
    )
    db.session.commit()
    return vertical, ids


def set_facts(lead_id: int, **facts) -> None:
    db.session.execute(update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(**facts))
    db.session.commit()


def buyer(app, client, funds: int = 5000):
    user = make_user("advertiser")
    if funds:
        fund(user, funds)
    signed_in(app, client, user)
    return user


def rows(body: str) -> dict[int, list[str]]:
    """The catalog table's rows by lead id, each as its cells' text."""
    found = {}
    for lead_id, row in re.findall(r'<tr id="lead-(\d+)">(.*?)</tr>', body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        found[int(lead_id)] = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    return found


def sales_of(lead_id: int) -> list[Sale]:
    db.session.expire_all()
    return list(db.session.scalars(select(Sale).where(Sale.lead_id == lead_id).order_by(Sale.id)))


def transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def problem_of(body: str) -> str:
    return " ".join(re.search(r'id="catalog-problem">(.*?)</p>', body, re.S).group(1).split())


# -- the table --------------------------------------------------------------------------------------


def test_a_buyer_sees_each_leads_facts_price_age_and_slots_and_never_a_personal_field(app, client, catalog):
    vertical, ids = catalog
    now = clock.now()
    ages = [timedelta(minutes=40), timedelta(hours=5), timedelta(hours=30), timedelta(days=3, hours=2)]
    for lead_id, age in zip(ids, ages, strict=True):
        set_facts(lead_id, captured_at=now - age, temperature="warm", score=64)
    set_facts(ids[1], sold=1, consent=False)
    buyer(app, client)

    body = page(app, client, f"/advertiser/catalog?vertical_id={vertical.id}")

    assert "4 leads for sale" in body
    shown = rows(body)
    assert shown[ids[0]] == [
        str(ids[0]),
        vertical.name,
        "US",
        "TX",
        "warm",
        "64",
        "40 min",
        "100 %",
        "0 of 2",
        "yes",
        "8.00 USD",
        "Buy Buy exclusively: 16.00 USD",
        "Select Select exclusively",  # the basket's boxes (tests/api/test_catalog_basket_page.py)
    ]
    assert shown[ids[1]][6:] == [
        "5 h",
        "100 %",
        "1 of 2",
        "no",
        "8.00 USD",
        "Buy",
        "Select",
    ]  # a slot sold: shared only
    assert shown[ids[2]][6:9] == ["30 h", "50 %", "0 of 2"] and shown[ids[2]][10] == "4.00 USD"
    assert shown[ids[3]][6] == "3 d"
    assert 'name="expected_price_minor" value="400"' in body  # the price the page shows is the one sent
    assert 'name="expected_price_minor" value="1600"' in body  # exclusive: both slots
    for personal in PERSONAL:
        assert personal not in body


def test_the_advertisers_exchange_section_links_the_catalog_next_to_buy_orders(app, client, ctx):
    buyer(app, client, funds=0)

    body = page(app, client, "/advertiser/buy-orders")

    section = re.search(r'<nav aria-label="Exchange".*?</nav>', body, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", section) == ["Buy orders", "Catalog", "Purchases"]
    empty = page(app, client, "/advertiser/catalog")
    assert "0 leads for sale" in empty and "No lead for sale matches these filters." in empty
    assert "Available to spend: nothing yet" in " ".join(empty.split())


# -- the filters ------------------------------------------------------------------------------------


def test_the_filters_narrow_and_sort_the_catalog_and_the_pages_keep_them(app, client, catalog):
    vertical, ids = catalog
    now = clock.now()
    facts = [  # temperature, score, region, postcode, hours old, slots sold
        ("hot", 90, "TX", "73301", 1, 0),
        ("hot", 50, "CA", "90210", 2, 0),
        ("warm", 80, "TX", "73999", 30, 0),
        ("hot", 95, "TX", "73302", 3, 1),
    ]
    for lead_id, (temperature, score, region, postcode, hours, sold) in zip(ids, facts, strict=True):
        set_facts(
            lead_id,
            temperature=temperature,
            score=score,
            region=region,
            postcode=postcode,
            captured_at=now - timedelta(hours=hours),
            sold=sold,
        )
    buyer(app, client)

    def found(**query) -> list[int]:
        query = {"vertical_id": vertical.id, **query}
        body = page(app, client, "/advertiser/catalog?" + "&".join(f"{k}={v}" for k, v in query.items()))
        return list(rows(body))

    assert sorted(found(temperature="hot")) == sorted([ids[0], ids[1], ids[3]])
    assert sorted(found(min_score=85, region="tx", postcode_prefix="733")) == sorted([ids[0], ids[3]])
    assert sorted(found(max_age_hours=24, exclusive_only="true")) == sorted([ids[0], ids[1]])
    assert found(country="ca") == []  # typed in lower case: the API's upper case
    assert found(sort="newest") == [ids[0], ids[1], ids[3], ids[2]]
    assert found(sort="cheapest") == [ids[2], ids[0], ids[1], ids[3]]  # 30 h old: half price
    assert found(sort="hottest") == [ids[3], ids[0], ids[1], ids[2]]

    body = page(app, client, f"/advertiser/catalog?vertical_id={vertical.id}&sort=cheapest&per_page=3&page=2")
    assert list(rows(body)) == [ids[3]] and "Page 2 of 2 (4 in all)" in body
    previous = re.search(r'href="([^"]+)" rel="prev"', body).group(1)
    assert (
        "sort=cheapest" in previous and "per_page=3" in previous and f"vertical_id={vertical.id}" in previous
    )
    assert '<option value="cheapest" selected>' in body  # the form shows the filters it applied
    assert f'<option value="{vertical.id}" selected>' in body


def test_a_bad_filter_shows_the_form_again_with_the_message_at_its_field_and_no_leads(app, client, catalog):
    buyer(app, client)

    response = request(
        app, client, "GET", "/advertiser/catalog?min_score=101&country=USA&sort=priciest&temperature=hot"
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("min_score", "country", "sort"):
        assert f'id="{field}-error"' in body and f'aria-describedby="{field}-error"' in body, field
    assert re.search(
        r'id="min_score-error">Must be greater than or equal to 0 and less than or equal to 100', body
    )
    assert 'value="101"' in body and '<option value="hot" selected>' in body  # the form as it was sent
    assert 'id="catalog"' not in body and "The catalog was not searched" in body


# -- buying -----------------------------------------------------------------------------------------


def test_a_buyer_buys_a_slot_at_the_price_shown_and_pays_it_from_its_available_balance(app, client, catalog):
    _, ids = catalog
    user = buyer(app, client, funds=5000)
    key = make_key(user)

    response = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": str(FLOOR)})

    assert response.status_code == 303
    [sale] = sales_of(ids[0])
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.fragment) == ("/advertiser/purchases", f"sale-{sale.id}")
    assert (sale.buyer_id, sale.price_minor, sale.exclusive, sale.status) == (
        user.id,
        FLOOR,
        False,
        "pending",
    )
    assert balance(client, key, "available")["available_minor"] == 5000 - FLOOR
    purchases = page(app, client, "/advertiser/purchases")
    assert f"Lead {ids[0]} is yours: sale {sale.id}, 8.00 USD reserved from your balance." in purchases
    assert f'id="sale-{sale.id}"' in purchases
    after = page(app, client, "/advertiser/catalog")
    assert rows(after)[ids[0]][8:11] == ["1 of 2", "yes", "8.00 USD"]
    assert "Buy exclusively" not in rows(after)[ids[0]][11]  # a slot is sold: no exclusive any more
    assert "Available to spend: 42.00 USD" in " ".join(after.split())


def test_buying_exclusively_takes_every_slot_at_the_exclusive_price(app, client, catalog):
    _, ids = catalog
    user = buyer(app, client, funds=5000)

    response = post(
        app,
        client,
        f"/advertiser/catalog/{ids[1]}/buy",
        {"exclusive": "true", "expected_price_minor": str(2 * FLOOR)},
    )

    assert response.status_code == 303
    [sale] = sales_of(ids[1])
    assert (sale.price_minor, sale.exclusive) == (2 * FLOOR, True)
    assert balance(client, make_key(user), "available")["available_minor"] == 5000 - 2 * FLOOR
    assert ids[1] not in rows(page(app, client, "/advertiser/catalog"))  # every slot sold: off the catalog


def test_a_price_that_moved_shows_the_catalog_again_with_the_new_price_and_charges_nothing(
    app, client, catalog, frozen_clock
):
    vertical, ids = catalog
    user = buyer(app, client, funds=5000)
    before = transfers()
    frozen_clock.set(
        db.session.get(CatalogListing, ids[0]).captured_at + timedelta(hours=25)
    )  # the 50 % step

    response = post(
        app,
        client,
        f"/advertiser/catalog/{ids[0]}/buy?vertical_id={vertical.id}&sort=cheapest",
        {"expected_price_minor": str(FLOOR)},
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert problem_of(body) == (
        f"Lead {ids[0]} was not bought: its price is now 4.00 USD (the page showed 8.00 USD). "
        "Its row below has the new price: buy it again if you want it."
    )
    assert rows(body)[ids[0]][10] == "4.00 USD" and '<option value="cheapest" selected>' in body
    assert (sales_of(ids[0]), transfers()) == ([], before)
    assert balance(client, make_key(user), "available")["available_minor"] == 5000
    again = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": "400"})
    assert again.status_code == 303 and sales_of(ids[0])[0].price_minor == 400


@pytest.mark.parametrize(
    "case, message",
    [
        ("sold_out", "Sold out: exclusive only while no slot is sold."),
        ("already_bought", "You bought this consumer already."),
        ("insufficient_funds", "Your available balance does not cover the price."),
        ("gone", "This lead is too old for the catalog now."),
    ],
)
def test_a_purchase_that_cannot_be_made_says_why_on_the_catalog_and_moves_nothing(
    app, client, catalog, frozen_clock, case, message
):
    _, ids = catalog
    lead_id = ids[0]
    captured = db.session.get(CatalogListing, lead_id).captured_at
    frozen_clock.set(captured + timedelta(hours=1))
    form = {"expected_price_minor": str(FLOOR)}
    if case in ("sold_out", "already_bought"):
        buyer(app, client)
        assert post(app, client, f"/advertiser/catalog/{lead_id}/buy", form).status_code == 303
        if case == "sold_out":
            form = {"exclusive": "true", "expected_price_minor": str(2 * FLOOR)}
    if case != "already_bought":
        buyer(app, client, funds=FLOOR - 1 if case == "insufficient_funds" else 5000)
    if case == "gone":
        frozen_clock.set(captured + timedelta(hours=240))
    sales, before = len(sales_of(lead_id)), transfers()

    response = post(app, client, f"/advertiser/catalog/{lead_id}/buy", form)

    assert response.status_code == 409
    assert problem_of(response.get_data(as_text=True)) == f"Lead {lead_id} was not bought: {message}"
    assert (len(sales_of(lead_id)), transfers()) == (sales, before)


def test_a_purchase_without_the_price_shown_or_of_no_listed_lead_is_refused(app, client, catalog):
    _, ids = catalog
    buyer(app, client)
    form = {"expected_price_minor": str(FLOOR)}

    missing = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {})
    negative = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": "-5"})
    endless = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": "9" * 5000})
    unknown = post(app, client, f"/advertiser/catalog/{ids[-1] + 1000}/buy", form)
    huge = post(app, client, f"/advertiser/catalog/{10**30}/buy", form)

    assert missing.status_code == negative.status_code == endless.status_code == 422
    assert "The price shown is missing" in problem_of(missing.get_data(as_text=True))
    assert unknown.status_code == 404 and huge.status_code == 404
    assert problem_of(unknown.get_data(as_text=True)).endswith("was not bought: No such lead in the catalog.")
    assert sales_of(ids[0]) == []


# -- CSRF and roles ---------------------------------------------------------------------------------


def test_a_purchase_without_the_csrf_token_is_refused_and_one_with_it_goes_through(
    app, client, catalog, monkeypatch
):
    _, ids = catalog
    buyer(app, client)
    body = page(app, client, "/advertiser/catalog")
    forms = re.findall(r'<form method="post".*?</form>', body, re.S)
    assert forms and all('name="csrf_token"' in form for form in forms)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off

    refused = post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": str(FLOOR)})
    assert refused.status_code == 400 and sales_of(ids[0]) == []

    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    done = post(
        app,
        client,
        f"/advertiser/catalog/{ids[0]}/buy",
        {"expected_price_minor": str(FLOOR), "csrf_token": token},
    )
    assert done.status_code == 303 and len(sales_of(ids[0])) == 1


def test_only_a_buyer_opens_the_catalog_page_or_buys_from_it(app, client, catalog):
    _, ids = catalog
    assert urlsplit(request(app, client, "GET", "/advertiser/catalog").headers["Location"]).path == "/login"
    signed_in(app, client, make_user("webmaster"))

    assert request(app, client, "GET", "/advertiser/catalog").status_code == 403
    assert (
        post(app, client, f"/advertiser/catalog/{ids[0]}/buy", {"expected_price_minor": "800"}).status_code
        == 403
    )
    assert sales_of(ids[0]) == []


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0 min"), (59, "0 min"), (2400, "40 min"), (3600, "1 h"), (5 * 3600 + 59, "5 h"),
     (47 * 3600, "47 h"), (48 * 3600, "2 d"), (3 * 86400 + 7200, "3 d"), (-5, "0 min")],
)  # fmt: skip
def test_a_leads_age_reads_as_people_say_it(seconds, text):
    assert age_text(seconds) == text
