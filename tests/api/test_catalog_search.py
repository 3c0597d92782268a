"""Searching the catalog through the API: filters, sorting, pages, the price now by the
lead's age, never a personal field, for buyers and staff only (docs/exchange.md, "The
catalog")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from exchange import clock
from exchange.accounts.models import User
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import auth, make_key, make_user

AGEING = {
    "steps": [{"after_hours": 0, "percent": 100}, {"after_hours": 24, "percent": 50}],
    "gone_after_hours": 240,
}


@pytest.fixture
def catalog(client, ctx):
    """Six unsold leads of one vertical (no buyer), listed; then their facts set as each
    test needs them (as the sweep copied them, so no scoring is redone)."""
    vertical = make_vertical(slots=2, ageing=AGEING, personal_fields=["name"])
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)
    ids = [submit(client, key, vertical.id, solar_lead(40 + n)).get_json()["id"] for n in range(6)]
    sweep_catalog()
    return vertical, ids


def set_facts(lead_id: int, **facts) -> None:
    db.session.execute(update(CatalogListing).where(CatalogListing.lead_id == lead_id).values(**facts))
    db.session.commit()


def browse(client, key: str, **query):
    response = client.get("/api/v1/catalog", query_string=query, headers=auth(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def buyer_key() -> str:
    return make_key(make_user("advertiser"))


def test_a_buyer_sees_each_listed_lead_with_its_price_now_and_no_personal_field(client, catalog):
    vertical, ids = catalog
    now = clock.now()
    for n, lead_id in enumerate(ids):
        set_facts(lead_id, captured_at=now - timedelta(hours=10 * n), temperature="warm", floor_minor=800)

    page = browse(client, buyer_key(), vertical_id=vertical.id)

    assert page["total"] == 6
    by_id = {item["lead_id"]: item for item in page["items"]}
    assert [by_id[lead_id]["price_minor"] for lead_id in ids] == [800, 800, 800, 400, 400, 400]
    assert [by_id[lead_id]["age_step_percent"] for lead_id in ids] == [100, 100, 100, 50, 50, 50]
    first = by_id[ids[0]]
    assert (first["slots"], first["slots_sold"], first["exclusive_price_minor"]) == (2, 0, 1600)
    assert (first["country"], first["region"], first["currency"], first["consent"]) == (
        "US",
        "TX",
        "USD",
        True,
    )
    text = str(page)
    for personal in ("Ann Smith", "202 555", "@example.com", "73301"):  # the name, phone, email, postcode
        assert personal not in text
    assert not set(first) & {"name", "phone", "email", "postcode", "fields"}
    assert all(
        set(finding) == {"code", "points"} for finding in first["findings"]
    )  # never a finding's detail


def test_filters_narrow_the_catalog(client, catalog):
    vertical, ids = catalog
    now = clock.now()
    facts = [
        {"temperature": "hot", "score": 90, "region": "TX", "postcode": "73301", "captured_at": now},
        {"temperature": "hot", "score": 50, "region": "CA", "postcode": "90210", "captured_at": now},
        {"temperature": "warm", "score": 80, "region": "TX", "postcode": "73999", "captured_at": now},
        {"temperature": "cold", "score": 20, "region": "TX", "postcode": "10001", "captured_at": now},
        {
            "temperature": "hot",
            "score": 95,
            "region": "TX",
            "postcode": "73302",
            "captured_at": now - timedelta(hours=30),
        },
        {
            "temperature": "hot",
            "score": 99,
            "region": "TX",
            "postcode": "73303",
            "captured_at": now,
            "sold": 1,
        },
    ]
    for lead_id, values in zip(ids, facts, strict=True):
        set_facts(lead_id, **values)
    key = buyer_key()

    def found(**query) -> set[int]:
        return {item["lead_id"] for item in browse(client, key, vertical_id=vertical.id, **query)["items"]}

    assert found(temperature="hot") == {ids[0], ids[1], ids[4], ids[5]}
    assert found(min_score=90) == {ids[0], ids[4], ids[5]}
    assert found(region="tx", postcode_prefix="733") == {ids[0], ids[4], ids[5]}
    assert found(max_age_hours=24) == set(ids) - {ids[4]}
    assert found(exclusive_only="true") == set(ids) - {ids[5]}
    assert found(country="CA") == set()
    assert found(temperature="hot", min_score=90, max_age_hours=24, exclusive_only="true") == {ids[0]}


def test_sorted_newest_cheapest_or_hottest_and_paged(client, catalog):
    vertical, ids = catalog
    now = clock.now()
    facts = [  # (hours old, floor, temperature, score)
        (1, 1200, "hot", 70),
        (2, 500, "cold", 10),
        (30, 1200, "hot", 90),  # 50 %: 600
        (3, 800, "warm", 60),
        (40, 500, "cold", 30),  # 50 %: 250
        (4, 1200, "hot", 80),
    ]
    for lead_id, (hours, floor, temperature, score) in zip(ids, facts, strict=True):
        set_facts(
            lead_id,
            captured_at=now - timedelta(hours=hours),
            floor_minor=floor,
            temperature=temperature,
            score=score,
        )
    key = buyer_key()

    def order(sort: str) -> list[int]:
        return [item["lead_id"] for item in browse(client, key, vertical_id=vertical.id, sort=sort)["items"]]

    assert order("newest") == [ids[0], ids[1], ids[3], ids[5], ids[2], ids[4]]
    assert order("cheapest") == [ids[4], ids[1], ids[2], ids[3], ids[0], ids[5]]
    assert order("hottest") == [ids[2], ids[5], ids[0], ids[3], ids[4], ids[1]]
    second = browse(client, key, vertical_id=vertical.id, sort="newest", per_page=4, page=2)
    assert (second["total"], [item["lead_id"] for item in second["items"]]) == (6, [ids[2], ids[4]])


def test_a_lead_past_its_verticals_last_step_is_not_shown_before_the_sweep_takes_it_off(client, catalog):
    vertical, ids = catalog
    set_facts(ids[0], captured_at=clock.now() - timedelta(hours=AGEING["gone_after_hours"]))

    page = browse(client, buyer_key(), vertical_id=vertical.id)

    assert ids[0] not in {item["lead_id"] for item in page["items"]} and page["total"] == 5


def test_a_paused_verticals_leads_are_not_shown(client, catalog):
    vertical, _ = catalog
    vertical.status = "paused"
    db.session.commit()

    assert browse(client, buyer_key(), vertical_id=vertical.id)["total"] == 0


def test_only_buyers_and_staff_browse_and_bad_filters_are_422(client, catalog):
    assert client.get("/api/v1/catalog", headers=auth(make_key(make_user("webmaster")))).status_code == 403
    assert browse(client, make_key(make_user("moderator")))["total"] == 6
    refused = client.get("/api/v1/catalog?temperature=boiling&min_score=101", headers=auth(buyer_key()))
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"temperature", "min_score"}


def test_a_seller_sees_its_own_listings_only(client, catalog):
    vertical, ids = catalog
    seller_id = db.session.get(CatalogListing, ids[0]).seller_id
    other = make_user("webmaster")
    make_seller(other, vertical)
    theirs = submit(client, make_key(other), vertical.id, solar_lead(99)).get_json()["id"]
    sweep_catalog()
    seller = db.session.get(User, seller_id)

    mine = client.get("/api/v1/catalog/mine", headers=auth(make_key(seller))).get_json()
    buyer = client.get("/api/v1/catalog/mine", headers=auth(buyer_key()))

    assert {item["lead_id"] for item in mine["items"]} == set(ids)
    assert theirs not in {item["lead_id"] for item in mine["items"]}
    assert buyer.status_code == 403


def test_the_exclusive_price_shown_counts_the_verticals_slots_now(client, catalog):
    vertical, ids = catalog
    set_facts(ids[0], floor_minor=1000, captured_at=clock.now())
    vertical.slots = 4  # was 2 when listed
    db.session.commit()

    item = {i["lead_id"]: i for i in browse(client, buyer_key(), vertical_id=vertical.id)["items"]}[ids[0]]

    assert (item["slots"], item["exclusive_price_minor"]) == (4, 4000)


def test_a_lead_whose_price_no_longer_covers_a_fixed_margin_is_not_shown(client, catalog):
    vertical, ids = catalog
    vertical.margin_bps, vertical.margin_minor = 0, 600
    db.session.commit()
    set_facts(ids[0], floor_minor=500, captured_at=clock.now())  # the seller would earn nothing
    set_facts(ids[1], floor_minor=700, captured_at=clock.now())

    shown = {i["lead_id"] for i in browse(client, buyer_key(), vertical_id=vertical.id)["items"]}

    assert ids[0] not in shown and ids[1] in shown


def test_a_seller_sees_its_payout_never_the_buyers_price(client, catalog):
    vertical, ids = catalog
    set_facts(ids[0], floor_minor=1000, captured_at=clock.now())
    seller = db.session.get(User, db.session.get(CatalogListing, ids[0]).seller_id)

    mine = {
        i["lead_id"]: i
        for i in client.get("/api/v1/catalog/mine", headers=auth(make_key(seller))).get_json()["items"]
    }
    shown = {i["lead_id"]: i for i in browse(client, buyer_key(), vertical_id=vertical.id)["items"]}

    assert mine[ids[0]]["payout_minor"] == 800  # 20 % margin
    assert "price_minor" not in mine[ids[0]] and "exclusive_price_minor" not in mine[ids[0]]
    assert "payout_minor" not in shown[ids[0]]
