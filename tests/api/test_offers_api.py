"""The offers API: create (valid and invalid), pause, join (DESIGN §6)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.offers.models import Offer, Participation
from tests.factories import (
    CONTACT_FIELDS,
    auth,
    fund,
    lead_fields,
    make_join,
    make_key,
    make_offer,
    make_user,
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def new_offer(**overrides) -> dict:
    """A valid offer body (only what the API accepts)."""
    body = {
        "name": "Home insurance quotes",
        "currency": "EUR",
        "rate_minor": 2400,
        "payout_minor": 1700,
        "allowed_countries": ["DE", "AT"],
        "fields": [dict(spec) for spec in CONTACT_FIELDS],
        "landing_url": "https://insure.example.org/form?cid={click_id}",
    }
    body.update(overrides)
    return body


def test_an_advertiser_creates_an_offer_and_sees_its_rate(client, ctx):
    advertiser = make_user("advertiser")
    key = auth(make_key(advertiser))

    response = client.post("/api/v1/offers", json=new_offer(), headers=key)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["rate_minor"] == 2400
    assert body["payout_minor"] == 1700
    assert body["currency"] == "EUR"
    assert body["status"] == "active"
    assert body["allowed_countries"] == ["DE", "AT"]
    assert [f["name"] for f in body["fields"]] == ["name", "phone", "email", "country"]
    stored = db.session.get(Offer, body["id"])
    assert stored.advertiser_id == advertiser.id
    assert stored.rate_minor == 2400
    fetched = client.get(f"/api/v1/offers/{body['id']}", headers=key)
    assert fetched.status_code == 200
    assert fetched.get_json()["rate_minor"] == 2400
    assert body["id"] in [offer["id"] for offer in client.get("/api/v1/offers", headers=key).get_json()]


INVALID = {
    "payout_above_rate": ({"rate_minor": 1000, "payout_minor": 1001}, "payout_minor"),
    "javascript_landing_url": ({"landing_url": "javascript:alert(1)"}, "landing_url"),
    "relative_landing_url": ({"landing_url": "/landing?cid={click_id}"}, "landing_url"),
    "scheme_relative_landing_url": ({"landing_url": "//evil.example/x"}, "landing_url"),
    "lower_case_currency": ({"currency": "usd"}, "currency"),
    "currency_not_a_code": ({"currency": "DOLLARS"}, "currency"),
    "unknown_field_type": (
        {"fields": [{"name": "name", "type": "string"}, {"name": "birthday", "type": "date"}]},
        "fields",
    ),
    "duplicate_field_names": (
        {
            "allowed_countries": [],
            "fields": [{"name": "email", "type": "email"}, {"name": "email", "type": "string"}],
        },
        "fields",
    ),
    "countries_without_a_country_field": (
        {"allowed_countries": ["US"], "fields": [{"name": "email", "type": "email", "required": True}]},
        "allowed_countries",
    ),
    "unknown_top_level_key": ({"margin_minor": 700}, "margin_minor"),
    "missing_name": ({"name": None}, "name"),
    "rate_not_an_integer": ({"rate_minor": "2400"}, "rate_minor"),
    "lower_case_country": ({"allowed_countries": ["de"]}, "allowed_countries"),
    "rate_beyond_a_64_bit_integer": ({"rate_minor": 2**63, "payout_minor": 1}, "rate_minor"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_offer_is_refused_naming_the_field(client, ctx, case):
    changes, field = INVALID[case]
    advertiser = make_user("advertiser")
    body = new_offer(**changes)
    if changes.get("name", "") is None:
        del body["name"]
    before = count(Offer)

    response = client.post("/api/v1/offers", json=body, headers=auth(make_key(advertiser)))

    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert error["fields"][field]
    db.session.rollback()  # as the request's teardown would, should the database have refused the insert
    assert count(Offer) == before


def test_the_offer_body_is_valid_without_the_changes(client, ctx):
    """Control for the cases above: each refusal comes from its one change."""
    advertiser = make_user("advertiser")
    response = client.post("/api/v1/offers", json=new_offer(), headers=auth(make_key(advertiser)))
    assert response.status_code == 201


def test_only_advertisers_create_offers(client, ctx):
    webmaster = make_user("webmaster")
    before = count(Offer)
    response = client.post("/api/v1/offers", json=new_offer(), headers=auth(make_key(webmaster)))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_role"
    assert count(Offer) == before


def test_a_lead_on_a_paused_offer_is_rejected_as_offer_paused(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)
    adv_key, wm_key = auth(make_key(advertiser)), auth(make_key(webmaster))

    paused = client.patch(f"/api/v1/offers/{offer.id}", json={"status": "paused"}, headers=adv_key)
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["status"] == "paused"

    response = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=wm_key
    )

    assert response.status_code == 202, response.get_json()
    lead = response.get_json()
    assert lead["status"] == "rejected"
    assert lead["reason_codes"] == ["offer_paused"]
    seen = client.get(f"/api/v1/leads/{lead['id']}", headers=adv_key).get_json()
    assert seen["status"] == "rejected"
    assert seen["reason_codes"] == ["offer_paused"]
    (balance,) = client.get("/api/v1/balance", headers=adv_key).get_json()
    assert balance["available_minor"] == 10_000  # nothing reserved for a rejected lead


def test_a_paused_offer_can_be_resumed(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, status="paused")
    fund(advertiser, 10_000)
    adv_key, wm_key = auth(make_key(advertiser)), auth(make_key(webmaster))
    assert client.post(f"/api/v1/offers/{offer.id}/join", headers=wm_key).status_code == 404

    resumed = client.patch(f"/api/v1/offers/{offer.id}", json={"status": "active"}, headers=adv_key)

    assert resumed.status_code == 200
    assert client.post(f"/api/v1/offers/{offer.id}/join", headers=wm_key).status_code == 200
    response = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=wm_key
    )
    assert response.get_json()["status"] == "pending"


def test_an_unknown_status_is_refused(client, ctx):
    advertiser = make_user("advertiser")
    offer = make_offer(advertiser)
    response = client.patch(
        f"/api/v1/offers/{offer.id}", json={"status": "deleted"}, headers=auth(make_key(advertiser))
    )
    assert response.status_code == 422
    assert "status" in response.get_json()["error"]["fields"]
    assert db.session.get(Offer, offer.id, populate_existing=True).status == "active"


def test_join_returns_a_tracking_link_and_joining_twice_returns_the_same_participation(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    key = auth(make_key(webmaster))

    first = client.post(f"/api/v1/offers/{offer.id}/join", headers=key)
    second = client.post(f"/api/v1/offers/{offer.id}/join", headers=key)

    assert first.status_code == 200, first.get_json()
    assert second.status_code == 200, second.get_json()
    joined = first.get_json()
    assert joined["offer_id"] == offer.id
    assert joined["status"] == "active"
    participation = db.session.get(Participation, joined["id"])
    assert participation.webmaster_id == webmaster.id
    assert joined["tracking_link"].endswith(f"/c/{participation.token}")
    link = urlsplit(joined["tracking_link"])
    assert link.scheme in ("http", "https") and link.netloc  # absolute, ready to paste
    assert second.get_json()["id"] == joined["id"]
    assert second.get_json()["tracking_link"] == joined["tracking_link"]
    assert (
        count(Participation, Participation.webmaster_id == webmaster.id, Participation.offer_id == offer.id)
        == 1
    )
    # the link leads to the click endpoint
    assert client.get(link.path).status_code == 302


def test_joining_an_unknown_offer_is_not_found(client, ctx):
    webmaster = make_user("webmaster")
    missing = (db.session.scalar(select(func.max(Offer.id))) or 0) + 1000
    response = client.post(f"/api/v1/offers/{missing}/join", headers=auth(make_key(webmaster)))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
