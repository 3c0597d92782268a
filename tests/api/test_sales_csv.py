"""A buyer's purchases as CSV (``GET /api/v1/sales.csv`` and the Purchases page's
download): one row per sale, newest first, the lead bought in its columns as
``GET /api/v1/sales`` shows it, nothing of another buyer's, nothing for a seller, cells
a spreadsheet cannot run as formulas (docs/exchange.md, "Your purchases as CSV")."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.extensions import db
from tests.api.test_advertiser_pages import page, signed_in
from tests.api.test_exchange_flow import solar_lead, submit
from tests.api.test_sale_returns import answer, return_sale
from tests.api.test_web_portal import request
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

HOUR = 3600
WINDOWS = {"review_window_seconds": HOUR, "hold_seconds": 48 * HOUR, "return_window_seconds": 24 * HOUR}
CAR_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "country", "type": "country", "required": True},
    {"name": "car_make", "type": "string", "required": False},
    {"name": "car_year", "type": "integer", "required": False},
]
SALE_COLUMNS = [
    "sale_id", "lead_id", "vertical", "bought_at", "status", "post_status", "exclusive",
    "currency", "price", "score", "temperature", "country",
]  # fmt: skip
SOLAR_COLUMNS = [
    "field_name", "field_phone", "field_email", "field_country", "field_region", "field_postcode",
    "field_age", "field_homeowner",
]  # fmt: skip


@dataclass
class Market:
    """Two verticals (Solar in USD, shared by two buyers; Cars in JPY, the buyer's alone),
    one seller on both, the buyer and another buyer bidding on Solar."""

    client: object
    solar: object
    cars: object
    seller_key: str
    buyer: User
    buyer_key: str
    other_key: str

    def sell_solar(self, n: int, **fields) -> list[Sale]:
        lead_id = submit(self.client, self.seller_key, self.solar.id, solar_lead(n, **fields)).get_json()[
            "id"
        ]
        return db.session.scalars(select(Sale).where(Sale.lead_id == lead_id).order_by(Sale.id)).all()

    def sell_car(self, n: int) -> Sale:
        body = {
            "fields": {
                "name": f"Jan Kowalski {n}",
                "phone": f"+49 30 1234 {n:04d}",
                "country": "DE",
                "car_make": "Volkswagen",
                "car_year": 2019,
            },
            "consent": solar_lead()["consent"],
        }
        answered = submit(self.client, self.seller_key, self.cars.id, body)
        assert answered.status_code == 202, answered.get_json()
        return db.session.scalar(select(Sale).where(Sale.lead_id == answered.get_json()["id"]))

    def csv(self, key: str | None = None, **query) -> list[dict]:
        response = self.download(key, **query)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/csv"
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    def download(self, key: str | None = None, **query):
        return self.client.get("/api/v1/sales.csv", query_string=query, headers=auth(key or self.buyer_key))


def market(client) -> Market:
    solar = make_vertical(slots=2, margin_bps=2000, **WINDOWS)
    cars = make_vertical(
        name=f"Car insurance — DE {solar.id}",
        currency="JPY",
        fields=CAR_FIELDS,
        personal_fields=["name"],
        allowed_countries=["DE"],
        floors={"*": {"cold": 400}},
        slots=1,
        margin_bps=2000,
        **WINDOWS,
    )
    seller, buyer, other = make_user("webmaster"), make_user("advertiser"), make_user("advertiser")
    for vertical in (solar, cars):
        make_seller(seller, vertical)
    fund(buyer, 100_000)
    fund(buyer, 100_000, "JPY")
    fund(other, 100_000)
    make_buy_order(buyer, solar, bid_minor=2000)
    make_buy_order(other, solar, bid_minor=1500)
    make_buy_order(buyer, cars, bid_minor=1500, exclusive=True)
    return Market(client, solar, cars, make_key(seller), buyer, make_key(buyer), make_key(other))


def mine(shop: Market, sales: list[Sale]) -> Sale:
    """The buyer's sale of a lead it shares with the other buyer."""
    (found,) = [sale for sale in sales if sale.buyer_id == shop.buyer.id]
    return found


def test_a_buyer_gets_every_purchase_of_both_verticals_with_the_whole_lead(client, ctx):
    shop = market(client)
    solar_sales = shop.sell_solar(1)
    car = shop.sell_car(1)

    response = shop.download()
    rows = shop.csv()
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))

    assert response.headers["Content-Disposition"] == 'attachment; filename="purchases.csv"'
    assert header == [*SALE_COLUMNS, *SOLAR_COLUMNS, "field_car_make", "field_car_year"]
    assert [row["sale_id"] for row in rows] == [str(car.id), str(mine(shop, solar_sales).id)]
    car_row, solar_row = rows
    assert {key: car_row[key] for key in SALE_COLUMNS[1:9]} == {
        "lead_id": str(car.lead_id),
        "vertical": shop.cars.name,
        "bought_at": car.created_at.isoformat() + "Z",
        "status": "pending",
        "post_status": car.post_status,
        "exclusive": "True",
        "currency": "JPY",
        "price": "1500",  # no decimals in yen
    }
    assert (car_row["field_name"], car_row["field_car_make"], car_row["field_car_year"]) == (
        "Jan Kowalski 1",
        "Volkswagen",
        "2019",
    )
    assert car_row["field_email"] == car_row["field_homeowner"] == "", "not a field of Cars"
    assert (solar_row["vertical"], solar_row["currency"], solar_row["price"]) == (
        shop.solar.name,
        "USD",
        "20.00",
    )
    assert (solar_row["field_name"], solar_row["field_age"], solar_row["field_homeowner"]) == (
        "Ann Smith 1",
        "40",
        "True",
    )
    assert solar_row["field_car_make"] == ""
    listed = client.get("/api/v1/sales", headers=auth(shop.buyer_key)).get_json()["items"]
    as_json = {item["id"]: item["lead"] for item in listed}
    for row in rows:
        lead = as_json[int(row["sale_id"])]
        assert (row["score"], row["temperature"], row["country"]) == (
            str(lead["score"]),
            lead["temperature"],
            lead["country"],
        ), "the lead as GET /api/v1/sales shows it"


def test_another_buyers_sales_never_appear_even_of_the_same_lead(client, ctx):
    shop = market(client)
    shared = shop.sell_solar(1)  # one lead, two buyers
    assert len(shared) == 2

    buyer_ids = {row["sale_id"] for row in shop.csv()}
    other_ids = {row["sale_id"] for row in shop.csv(shop.other_key)}
    other_row = shop.csv(shop.other_key)[0]

    assert buyer_ids | other_ids == {str(sale.id) for sale in shared}
    assert not buyer_ids & other_ids
    assert len(buyer_ids) == len(other_ids) == 1
    assert other_row["price"] == "15.00"
    assert "field_car_make" not in other_row, "only the verticals it bought on have columns"


def test_a_rejected_or_returned_sale_shows_no_lead(client, ctx):
    shop = market(client)
    kept = mine(shop, shop.sell_solar(1))
    rejected = mine(shop, shop.sell_solar(2))
    returned = shop.sell_car(3)
    headers = auth(shop.buyer_key)
    assert client.post(f"/api/v1/sales/{rejected.id}/reject", json={}, headers=headers).status_code == 200
    assert client.post(f"/api/v1/sales/{returned.id}/approve", headers=headers).status_code == 200
    dispute = return_sale(client, shop.buyer_key, returned.id).get_json()
    assert answer(client, shop.seller_key, dispute["id"], accept=True).status_code == 200

    rows = {int(row["sale_id"]): row for row in shop.csv()}

    assert rows[kept.id]["field_phone"] and rows[kept.id]["score"]
    for sale_id, status in ((rejected.id, "rejected"), (returned.id, "returned")):
        row = rows[sale_id]
        assert row["status"] == status
        lead_columns = {key: value for key, value in row.items() if key.startswith("field_")}
        assert set(lead_columns.values()) == {""}, status
        assert row["score"] == row["temperature"] == row["country"] == "", status
        assert row["price"], "the sale itself is still listed"


def test_a_seller_and_staff_are_refused(client, ctx):
    shop = market(client)
    shop.sell_solar(1)

    as_seller = shop.download(shop.seller_key)
    as_admin = shop.download(make_key(make_user("admin")))
    no_key = client.get("/api/v1/sales.csv")

    assert as_seller.status_code == 403 and as_seller.get_json()["error"]["code"] == "wrong_role"
    assert "Ann Smith" not in as_seller.get_data(as_text=True)
    assert as_admin.status_code == 403
    assert no_key.status_code == 401


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(client, ctx):
    shop = market(client)
    shop.sell_solar(1, name='=HYPERLINK("https://evil.example","Click")', region="@SUM(A1:A9)")

    (row,) = shop.csv()

    assert row["field_name"] == "'" + '=HYPERLINK("https://evil.example","Click")'
    assert row["field_region"] == "'@SUM(A1:A9)"
    assert row["field_phone"].startswith("'+"), "a phone in international form starts with +"
    assert row["field_age"] == "40", "a number is a number"


def test_the_filters_of_the_list_and_a_window_on_when_it_was_bought(client, ctx, frozen_clock):
    shop = market(client)
    first = mine(shop, shop.sell_solar(1))
    frozen_clock.advance(hours=2)
    car = shop.sell_car(2)
    frozen_clock.advance(hours=2)
    last = mine(shop, shop.sell_solar(3))
    assert client.post(f"/api/v1/sales/{last.id}/approve", headers=auth(shop.buyer_key)).status_code == 200

    def ids(**query) -> list[int]:
        return [int(row["sale_id"]) for row in shop.csv(**query)]

    assert ids() == [last.id, car.id, first.id]
    assert ids(status="approved") == [last.id]
    assert ids(vertical_id=shop.solar.id) == [last.id, first.id]
    assert ids(since="2026-01-15T13:00:00Z") == [last.id, car.id]
    assert ids(until="2026-01-15T14:00:00") == [first.id], "until excludes (the car: 14:00); no offset: UTC"
    assert ids(until="2026-01-15T15:00:00Z") == [car.id, first.id]
    assert ids(since="2026-01-15T15:00:00+02:00", until="2026-01-15T15:00:00Z") == [car.id]
    assert ids(vertical_id=shop.cars.id, status="approved") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "bought"}, "status"),
        ({"vertical_id": "zero"}, "vertical_id"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-15T12:00:00Z", "until": "2026-01-15T12:00:00Z"}, "until"),
    ],
)
def test_a_bad_query_is_answered_with_the_fields_messages(client, ctx, query, field):
    shop = market(client)

    refused = shop.download(**query)

    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == [field]


def portal_csv(app, client, path: str) -> tuple[int, str]:
    """The status and body of a page's download, the streamed body read before the next request."""
    with app.app_context():
        response = client.get(path)
        return response.status_code, response.get_data(as_text=True)


def test_the_purchases_page_links_to_the_same_csv(app, client, ctx):
    shop = market(client)
    shop.sell_solar(1, name="=1+1")
    shop.sell_car(2)
    shop.sell_car(3)

    signed_in(app, client, shop.buyer)
    purchases = page(app, client, "/advertiser/purchases")
    status, downloaded = portal_csv(app, client, "/advertiser/purchases.csv")
    _, filtered = portal_csv(app, client, f"/advertiser/purchases.csv?vertical_id={shop.cars.id}")
    bad = request(app, client, "GET", "/advertiser/purchases.csv?status=bought")
    with app.app_context():
        via_api = shop.download().get_data(as_text=True)

    assert 'href="/advertiser/purchases.csv"' in purchases and "Download CSV" in purchases
    assert status == 200 and downloaded == via_api
    assert "'=1+1" in downloaded
    assert len(list(csv.DictReader(io.StringIO(filtered)))) == 2
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["status"]


def test_a_seller_cannot_download_purchases_from_its_portal(app, client, ctx):
    seller = make_user("webmaster")

    signed_in(app, client, seller)
    refused = request(app, client, "GET", "/advertiser/purchases.csv")

    assert refused.status_code == 403
