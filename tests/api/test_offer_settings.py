"""Offer settings an advertiser edits through the API, statuses, landing rotation."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from exchange.leads.models import Lead
from exchange.tracking.models import Click
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user


@pytest.fixture
def offer_and_keys(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 100_000)
    return offer, make_key(advertiser), make_key(webmaster), webmaster


def patch(client, offer, key, body):
    return client.patch(f"/api/v1/offers/{offer.id}", json=body, headers=auth(key))


def test_an_advertiser_edits_the_descriptive_settings_and_webmasters_see_them(client, offer_and_keys):
    offer, advertiser_key, webmaster_key, _ = offer_and_keys
    changes = {
        "description": "Solar quotes for homeowners.",
        "terms": "No incentivised traffic. No brand bidding.",
        "traffic_sources": ["search", "social"],
        "landing_urls": [
            {"url": "https://a.example.com/?c={click_id}", "weight": 3},
            {"url": "https://b.example.com/?c={click_id}", "weight": 1},
        ],
    }

    response = patch(client, offer, advertiser_key, changes)

    assert response.status_code == 200, response.get_json()
    assert {key: response.get_json()[key] for key in changes} == changes
    seen = client.get(f"/api/v1/offers/{offer.id}", headers=auth(webmaster_key)).get_json()
    assert {key: seen[key] for key in ("description", "terms", "traffic_sources")} == {
        key: changes[key] for key in ("description", "terms", "traffic_sources")
    }
    assert "landing_urls" not in seen and "rate_minor" not in seen


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payout_minor": 999_999}, "payout_minor"),  # above the current rate: checked merged
        ({"currency": "EUR"}, "currency"),
        ({"model": "cpa"}, "model"),
        ({"traffic_sources": ["telepathy"]}, "traffic_sources"),
        ({"landing_urls": [{"url": "https://{sub1}.example.com/", "weight": 1}]}, "landing_urls"),
        ({"landing_urls": [{"url": "https://a.example.com/", "weight": 0}]}, "landing_urls"),
        ({"status": "deleted"}, "status"),
        ({"rate_card": 1}, "rate_card"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named_and_nothing_changes(
    client, ctx, offer_and_keys, body, field
):
    offer, advertiser_key, _, _ = offer_and_keys
    before = client.get(f"/api/v1/offers/{offer.id}", headers=auth(advertiser_key)).get_json()

    response = patch(client, offer, advertiser_key, body)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/offers/{offer.id}", headers=auth(advertiser_key)).get_json() == before


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_offers_are_out_of_the_catalog_and_take_no_traffic(
    client, ctx, offer_and_keys, status
):
    offer, advertiser_key, webmaster_key, webmaster = offer_and_keys
    participation = make_join(webmaster, offer)
    assert patch(client, offer, advertiser_key, {"status": status}).status_code == 200

    catalog = client.get("/api/v1/offers", headers=auth(make_key(make_user("webmaster")))).get_json()
    joining = client.post(f"/api/v1/offers/{offer.id}/join", headers=auth(make_key(make_user("webmaster"))))
    click = client.get(f"/c/{participation.token}")

    assert offer.id not in [item["id"] for item in catalog]
    assert joining.status_code == 404
    assert click.status_code == 200 and "Location" not in click.headers
    assert ctx.scalar(select(Click.trafficback_reason).order_by(Click.id.desc()).limit(1)) == (
        "not_taking_traffic"
    )


def test_editing_prices_never_reprices_an_accepted_lead(client, ctx, offer_and_keys):
    offer, advertiser_key, webmaster_key, webmaster = offer_and_keys
    make_join(webmaster, offer)
    lead = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(webmaster_key)
    ).get_json()
    assert lead["status"] == "pending"

    assert patch(client, offer, advertiser_key, {"rate_minor": 4000, "payout_minor": 3000}).status_code == 200
    approved = client.post(f"/api/v1/leads/{lead['id']}/approve", json={}, headers=auth(advertiser_key))

    assert approved.get_json()["rate_minor"] == 1500
    assert ctx.get(Lead, lead["id"]).payout_minor == 1000


def test_clicks_rotate_over_the_weighted_landing_urls(client, ctx, offer_and_keys):
    offer, advertiser_key, _, webmaster = offer_and_keys
    participation = make_join(webmaster, offer)
    rotation = [
        {"url": "https://a.example.com/?c={click_id}", "weight": 1},
        {"url": "https://b.example.com/?c={click_id}", "weight": 1},
    ]
    assert patch(client, offer, advertiser_key, {"landing_urls": rotation}).status_code == 200

    hosts = {urlsplit(client.get(f"/c/{participation.token}").headers["Location"]).netloc for _ in range(60)}

    assert hosts == {"a.example.com", "b.example.com"}  # each has 1 - 2**-59 odds of showing up
