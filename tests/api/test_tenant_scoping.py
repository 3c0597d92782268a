"""Every query is scoped to the tenant (another tenant's id answers 404), and
webmasters never see advertiser rates, findings or margins (DESIGN §7)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user

# Distinctive prices, so that a leak under any key name shows up as a value.
# Large enough never to meet an id or a count in one test session.
RATE_A, PAYOUT_A = 918_273, 400_001
RATE_B, PAYOUT_B = 736_459, 300_007
SECRET_VALUES = {RATE_A, RATE_A - PAYOUT_A, RATE_B, RATE_B - PAYOUT_B}


@pytest.fixture
def world(client, ctx):
    adv_a, adv_b = make_user("advertiser"), make_user("advertiser")
    wm1, wm2 = make_user("webmaster"), make_user("webmaster")
    offer_a = make_offer(adv_a, name="Offer A", rate_minor=RATE_A, payout_minor=PAYOUT_A)
    offer_b = make_offer(adv_b, name="Offer B", rate_minor=RATE_B, payout_minor=PAYOUT_B)
    fund(adv_a, 10_000_000)
    fund(adv_b, 10_000_000)
    for webmaster, offer in ((wm1, offer_a), (wm1, offer_b), (wm2, offer_a)):
        make_join(webmaster, offer)
    w = SimpleNamespace(
        adv_a=adv_a.id,
        adv_b=adv_b.id,
        wm1=wm1.id,
        wm2=wm2.id,
        offer_a=offer_a.id,
        offer_b=offer_b.id,
        key_adv_a=make_key(adv_a),
        key_adv_b=make_key(adv_b),
        key_wm1=make_key(wm1),
        key_wm2=make_key(wm2),
    )
    w.lead1 = submit(client, w.key_wm1, w.offer_a)  # wm1 -> A
    w.lead2 = submit(client, w.key_wm1, w.offer_b)  # wm1 -> B
    w.lead3 = submit(client, w.key_wm2, w.offer_a)  # wm2 -> A
    return w


def submit(client, key: str, offer_id: int) -> int:
    response = client.post(
        "/api/v1/leads", json={"offer_id": offer_id, "fields": lead_fields()}, headers=auth(key)
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "pending"
    return response.get_json()["id"]


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "not_found"


def keys_and_ints(value, keys: set, ints: set) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            keys_and_ints(item, keys, ints)
    elif isinstance(value, list):
        for item in value:
            keys_and_ints(item, keys, ints)
    elif isinstance(value, int) and not isinstance(value, bool):
        ints.add(value)


def assert_webmaster_safe(body) -> None:
    keys, ints = set(), set()
    keys_and_ints(body, keys, ints)
    assert "rate_minor" not in keys
    assert "findings" not in keys
    assert not [key for key in keys if "margin" in key or "rate" in key.split("_")], keys
    assert not ints & SECRET_VALUES, f"a rate or margin value leaked: {ints & SECRET_VALUES}"


def test_another_tenants_lead_is_not_found(client, world):
    assert_not_found(client.get(f"/api/v1/leads/{world.lead1}", headers=auth(world.key_wm2)))
    assert_not_found(client.get(f"/api/v1/leads/{world.lead1}", headers=auth(world.key_adv_b)))
    assert_not_found(client.get(f"/api/v1/leads/{world.lead2}", headers=auth(world.key_adv_a)))
    # control: the owners do see them
    assert client.get(f"/api/v1/leads/{world.lead1}", headers=auth(world.key_wm1)).status_code == 200
    assert client.get(f"/api/v1/leads/{world.lead1}", headers=auth(world.key_adv_a)).status_code == 200


def test_a_lead_id_beyond_the_integer_range_is_not_found(client, world):
    assert_not_found(client.get(f"/api/v1/leads/{2**63}", headers=auth(world.key_wm1)))


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_another_advertisers_lead_cannot_be_decided(client, world, decision):
    response = client.post(f"/api/v1/leads/{world.lead1}/{decision}", json={}, headers=auth(world.key_adv_b))
    assert_not_found(response)
    assert db.session.get(Lead, world.lead1, populate_existing=True).status == "pending"
    # the owner still can
    own = client.post(f"/api/v1/leads/{world.lead1}/{decision}", json={}, headers=auth(world.key_adv_a))
    assert own.status_code == 200, own.get_json()


def test_another_advertisers_offer_is_not_found(client, world):
    assert_not_found(client.get(f"/api/v1/offers/{world.offer_a}", headers=auth(world.key_adv_b)))
    patched = client.patch(
        f"/api/v1/offers/{world.offer_a}", json={"status": "paused"}, headers=auth(world.key_adv_b)
    )
    assert_not_found(patched)
    assert db.session.get(Offer, world.offer_a, populate_existing=True).status == "active"
    listed = client.get("/api/v1/offers", headers=auth(world.key_adv_b)).get_json()
    assert [offer["id"] for offer in listed] == [world.offer_b]


def lead_ids(client, key: str, **query) -> tuple[set, int]:
    response = client.get("/api/v1/leads", query_string=query, headers=auth(key))
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    return {item["id"] for item in page["items"]}, page["total"]


def test_lead_lists_hold_only_the_callers_leads(client, world):
    assert lead_ids(client, world.key_wm1) == ({world.lead1, world.lead2}, 2)
    assert lead_ids(client, world.key_wm2) == ({world.lead3}, 1)
    assert lead_ids(client, world.key_adv_a) == ({world.lead1, world.lead3}, 2)
    assert lead_ids(client, world.key_adv_b) == ({world.lead2}, 1)
    # a filter on someone else's offer finds nothing, rather than their leads
    assert lead_ids(client, world.key_adv_b, offer_id=world.offer_a) == (set(), 0)
    assert lead_ids(client, world.key_wm2, offer_id=world.offer_b) == (set(), 0)


def test_advertiser_views_carry_the_rate_and_findings(client, world):
    """Control for the webmaster checks below: the data is there to leak."""
    lead = client.get(f"/api/v1/leads/{world.lead1}", headers=auth(world.key_adv_a)).get_json()
    assert lead["rate_minor"] == RATE_A
    assert "findings" in lead
    offer = client.get(f"/api/v1/offers/{world.offer_a}", headers=auth(world.key_adv_a)).get_json()
    assert offer["rate_minor"] == RATE_A


def test_webmaster_views_never_show_rates_findings_or_margins(client, world):
    key = auth(world.key_wm1)
    responses = {
        "submit": client.post(
            "/api/v1/leads", json={"offer_id": world.offer_a, "fields": lead_fields()}, headers=key
        ),
        "lead": client.get(f"/api/v1/leads/{world.lead1}", headers=key),
        "lead list": client.get("/api/v1/leads", headers=key),
        "offer": client.get(f"/api/v1/offers/{world.offer_a}", headers=key),
        "catalog": client.get("/api/v1/offers", headers=key),
        "join": client.post(f"/api/v1/offers/{world.offer_b}/join", headers=key),
        "participations": client.get("/api/v1/participations", headers=key),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 202), (name, response.get_json())
        assert_webmaster_safe(response.get_json())
    # and they do show what the webmaster is entitled to: its payout
    assert responses["lead"].get_json()["payout_minor"] == PAYOUT_A
    assert responses["offer"].get_json()["payout_minor"] == PAYOUT_A
    catalog = {offer["id"]: offer for offer in responses["catalog"].get_json()}
    assert catalog[world.offer_a]["payout_minor"] == PAYOUT_A
    assert catalog[world.offer_b]["payout_minor"] == PAYOUT_B
