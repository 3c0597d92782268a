"""Leads enter the catalog after their auction (the ``sweep-catalog`` step) with their
facts and slots, never a personal field, and leave it when they age past their vertical's
last step or are erased (docs/exchange.md, "The catalog")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange import clock
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.periodic import sweep
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


def seller_on(vertical):
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    return seller, make_key(seller)


def listing(lead_id: int) -> CatalogListing | None:
    db.session.expire_all()
    return db.session.get(CatalogListing, lead_id)


def test_an_unsold_lead_is_listed_with_its_facts_and_no_personal_field(client, ctx):
    vertical = make_vertical(slots=3)
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(1)).get_json()["id"]  # no buyer: unsold

    counts = sweep_catalog()

    row = listing(lead_id)
    lead = db.session.get(Lead, lead_id)
    assert lead.status == "unsold"
    assert counts["leads_listed"] == 1
    assert (row.listed, row.slots, row.sold, row.exclusive_sold) == (True, 3, 0, False)
    assert (row.vertical_id, row.seller_id, row.country, row.region) == (
        vertical.id,
        lead.webmaster_id,
        "US",
        "TX",
    )
    assert row.postcode is None  # personal on this vertical: never copied
    assert row.floor_minor == {"cold": 500, "warm": 800, "hot": 1200}[lead.temperature]
    assert (row.temperature, row.score, row.consent, row.captured_at) == (
        lead.temperature,
        lead.score,
        True,
        lead.created_at,
    )
    columns = set(CatalogListing.__table__.columns.keys())
    assert not columns & {"name", "phone", "email", "fields", "phone_key", "email_key"}


def test_a_postcode_the_vertical_does_not_call_personal_is_listed(client, ctx):
    vertical = make_vertical(slots=3, personal_fields=["name"])
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(4)).get_json()["id"]

    sweep_catalog()

    assert listing(lead_id).postcode == "73301"


def test_a_lead_with_no_floor_for_its_country_is_recorded_but_not_listed(client, ctx):
    vertical = make_vertical(slots=3, floors={"CA": {"cold": 400}})
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(5)).get_json()["id"]  # a US lead

    counts = sweep_catalog()

    assert (counts["leads_listed"], counts["leads_not_listed"]) == (0, 1)
    assert (listing(lead_id).listed, listing(lead_id).floor_minor) == (False, None)


def test_a_lead_sold_shared_is_listed_with_its_slots_left_and_one_sold_exclusively_is_not(client, ctx):
    shared_vertical, exclusive_vertical = make_vertical(slots=3), make_vertical(slots=3)
    buyer = make_user("advertiser")
    fund(buyer, 100_000)
    make_buy_order(buyer, shared_vertical, bid_minor=1500)
    make_buy_order(buyer, exclusive_vertical, bid_minor=3000, exclusive=True)
    _, shared_key = seller_on(shared_vertical)
    _, exclusive_key = seller_on(exclusive_vertical)
    shared = submit(client, shared_key, shared_vertical.id, solar_lead(2)).get_json()["id"]
    alone = submit(client, exclusive_key, exclusive_vertical.id, solar_lead(3)).get_json()["id"]

    counts = sweep_catalog()

    assert db.session.get(Lead, shared).status == "sold" and db.session.get(Lead, alone).status == "sold"
    assert (counts["leads_listed"], counts["leads_not_listed"]) == (1, 1)
    assert (listing(shared).listed, listing(shared).sold) == (True, 1)
    assert (listing(alone).listed, listing(alone).exclusive_sold, listing(alone).sold) == (False, True, 3)


def test_each_lead_is_looked_at_once(client, ctx):
    vertical = make_vertical(slots=2)
    _, key = seller_on(vertical)
    for n in range(3):
        submit(client, key, vertical.id, solar_lead(10 + n))

    first, second = sweep_catalog(), sweep_catalog()

    assert first["leads_listed"] == 3
    assert (second["leads_listed"], second["leads_not_listed"]) == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(CatalogListing)) == 3


def test_a_listing_leaves_the_catalog_at_its_verticals_last_step(client, ctx, frozen_clock):
    ageing = {"steps": [{"after_hours": 0, "percent": 100}], "gone_after_hours": 48}
    vertical = make_vertical(slots=2, ageing=ageing)
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(20)).get_json()["id"]
    sweep_catalog()

    frozen_clock.set(clock.now() + timedelta(hours=47))
    still = sweep_catalog()
    frozen_clock.set(clock.now() + timedelta(hours=1))
    gone = sweep_catalog()

    assert still["listings_gone"] == 0
    assert gone["listings_gone"] == 1
    assert not listing(lead_id).listed and listing(lead_id).unlisted_at == clock.now()


def test_a_lead_too_old_when_its_auction_ends_is_recorded_but_not_listed(client, ctx, frozen_clock):
    vertical = make_vertical(
        slots=2, ageing={"steps": [{"after_hours": 0, "percent": 100}], "gone_after_hours": 1}
    )
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(21)).get_json()["id"]

    frozen_clock.set(clock.now() + timedelta(hours=2))
    counts = sweep_catalog()

    assert (counts["leads_listed"], counts["leads_not_listed"]) == (0, 1)
    assert listing(lead_id).listed is False


def test_an_erased_lead_leaves_the_catalog(client, ctx):
    vertical = make_vertical(slots=2)
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(22)).get_json()["id"]
    sweep_catalog()

    db.session.get(Lead, lead_id).erased_at = clock.now()
    db.session.commit()
    counts = sweep_catalog()

    assert counts["listings_gone"] == 1
    assert listing(lead_id).listed is False


def test_the_periodic_sweep_lists_leads(client, ctx):
    vertical = make_vertical(slots=2)
    _, key = seller_on(vertical)
    lead_id = submit(client, key, vertical.id, solar_lead(23)).get_json()["id"]

    report = sweep()

    assert report.leads_listed == 1
    assert listing(lead_id).listed


def test_a_listing_whose_consumer_another_sellers_lead_sold_out_leaves_at_the_next_sweep(client, ctx):
    vertical = make_vertical(slots=2)
    first, second = make_user("webmaster"), make_user("webmaster")
    make_seller(first, vertical)
    make_seller(second, vertical)
    lead_a = submit(client, make_key(first), vertical.id, solar_lead(1200)).get_json()["id"]
    sweep_catalog()
    for bid in (1500, 1400):  # two shared orders: the consumer's two slots at its next auction
        buyer = make_user("advertiser")
        fund(buyer, 100_000)
        make_buy_order(buyer, vertical, bid_minor=bid)
    submit(client, make_key(second), vertical.id, solar_lead(1200))  # the same consumer again

    counts = sweep_catalog()
    db.session.expire_all()
    listing = db.session.get(CatalogListing, lead_a)

    assert counts["listings_sold_elsewhere"] == 1
    assert (listing.sold, listing.listed) == (2, False)
