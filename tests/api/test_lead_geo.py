"""A lead's IP country, sent with the lead or taken from its click, must be
one the offer accepts; an IP that maps to no country proves nothing."""

from __future__ import annotations

import pytest

from exchange.tracking.links import target_of
from exchange.tracking.services import record_click
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user


@pytest.fixture
def market(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, allowed_countries=["US"])
    fund(advertiser, 10_000)
    return make_join(webmaster, offer), make_key(webmaster)


@pytest.mark.parametrize(
    ("ip", "status", "codes"),
    [
        ("8.8.8.8", "pending", []),
        ("193.99.144.80", "rejected", ["geo_mismatch"]),  # DE
        ("2001:67c:2e8::1", "rejected", ["geo_mismatch"]),  # NL, IPv6
        ("10.0.0.8", "pending", []),  # private: no country, no verdict
    ],
)
def test_the_ip_sent_with_a_lead_decides_its_ip_country(client, market, ip, status, codes):
    participation, key = market
    response = client.post(
        "/api/v1/leads",
        json={"offer_id": participation.offer_id, "ip": ip, "fields": lead_fields(country="US")},
        headers=auth(key),
    )
    assert response.status_code == 202, response.get_json()
    assert (response.get_json()["status"], response.get_json()["reason_codes"]) == (status, codes)


def test_a_lead_without_an_ip_takes_its_clicks(client, ctx, market):
    participation, key = market
    click_id = record_click(target_of(participation), {}, "193.99.144.80", "Mozilla").click_id
    ctx.commit()

    response = client.post(
        "/api/v1/leads", json={"click_id": click_id, "fields": lead_fields(country="US")}, headers=auth(key)
    )

    assert response.get_json()["reason_codes"] == ["geo_mismatch"]


def test_an_ip_that_is_not_an_address_is_refused_with_the_field_named(client, market):
    participation, key = market
    response = client.post(
        "/api/v1/leads",
        json={"offer_id": participation.offer_id, "ip": "999.1.1.1", "fields": lead_fields()},
        headers=auth(key),
    )
    assert response.status_code == 422
    assert "ip" in response.get_json()["error"]["fields"]
