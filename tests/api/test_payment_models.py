"""Payment models and payout rules through the API: what an offer accepts, which terms
price a lead, and that a lead keeps the prices it was accepted at."""

from __future__ import annotations

import pytest

from exchange.extensions import db
from exchange.leads.models import Lead
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user, offer_data


@pytest.fixture
def advertiser(ctx):
    user = make_user("advertiser")
    fund(user, 1_000_000)
    return user


def create(client, key, **overrides):
    return client.post("/api/v1/offers", json=offer_data(**overrides), headers=auth(key))


def submit(client, key, offer, country="US"):
    response = client.post(
        "/api/v1/leads",
        json={"offer_id": offer.id, "fields": lead_fields(country=country)},
        headers=auth(key),
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"model": "cpa", "rate_minor": None, "payout_minor": None, "rate_bps": 1000, "payout_bps": 500},
            "rate_bps",
        ),
        ({"model": "cps", "rate_bps": 1000, "payout_bps": 500}, "rate_minor"),  # fixed and bps at once
        ({"model": "cps", "rate_minor": None, "payout_minor": None, "rate_bps": 1000}, "payout_bps"),
        (
            {"model": "cps", "rate_minor": None, "payout_minor": None, "rate_bps": 500, "payout_bps": 600},
            "payout_bps",
        ),
        (
            {"model": "cps", "rate_minor": None, "payout_minor": None, "rate_bps": 10_001, "payout_bps": 1},
            "rate_bps",
        ),
        ({"rate_minor": None}, "rate_minor"),
        ({"payout_minor": 1501}, "payout_minor"),
        ({"model": "cpc"}, "model"),
        ({"fields": []}, "fields"),  # a cpl offer needs lead fields
        ({"payout_rules": [{"country": "CA", "rate_minor": 900, "payout_minor": 1000}]}, "payout_rules"),
        ({"payout_rules": [{"rate_minor": 900, "payout_minor": 800}]}, "payout_rules"),  # matches nothing
        ({"payout_rules": [{"country": "ca", "rate_minor": 900, "payout_minor": 800}]}, "payout_rules"),
        ({"payout_rules": [{"country": "CA", "rate_minor": 900, "payout_minor": 0}]}, "payout_rules"),
        ({"payout_rules": [{"country": "CA", "rate_bps": 900, "payout_bps": 800}]}, "payout_rules"),
        (
            {
                "payout_rules": [
                    {"country": "CA", "rate_minor": 900, "payout_minor": 800},
                    {"country": "CA", "rate_minor": 950, "payout_minor": 850},
                ]
            },
            "payout_rules",
        ),
        (
            {"payout_rules": [{"country": "CA", "rate_minor": 900, "payout_minor": 800, "bonus": 1}]},
            "payout_rules",
        ),
    ],
)
def test_an_offer_with_prices_that_cannot_price_a_conversion_is_refused(client, advertiser, overrides, field):
    response = create(client, make_key(advertiser), **overrides)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_offers_of_each_model_are_created_with_their_prices(client, advertiser):
    key = make_key(advertiser)
    cpa = create(client, key, model="cpa", fields=[], allowed_countries=[], rate_minor=800, payout_minor=600)
    percentage = create(
        client, key, model="cps", fields=[], allowed_countries=[], rate_minor=None, payout_minor=None,
        rate_bps=1000, payout_bps=700,
    )  # fmt: skip
    assert cpa.status_code == 201, cpa.get_json()
    assert percentage.status_code == 201, percentage.get_json()
    assert (cpa.get_json()["model"], cpa.get_json()["rate_minor"]) == ("cpa", 800)
    assert (percentage.get_json()["rate_bps"], percentage.get_json()["payout_bps"]) == (1000, 700)


def test_a_country_rule_prices_that_countrys_leads_and_others_keep_the_base_terms(client, advertiser):
    rules = [{"id": "canada", "country": "CA", "rate_minor": 1200, "payout_minor": 700}]
    offer = make_offer(advertiser, payout_rules=rules)
    webmaster = make_user("webmaster")
    make_join(webmaster, offer)
    key = make_key(webmaster)

    canadian, american = submit(client, key, offer, "CA"), submit(client, key, offer, "US")

    assert (canadian["status"], canadian["payout_minor"]) == ("pending", 700)
    assert american["payout_minor"] == 1000
    stored = db.session.get(Lead, canadian["id"])
    assert (stored.rate_minor, stored.payout_minor) == (1200, 700)
    assert stored.pricing == {"model": "cpl", "rule_index": 0, "rule_id": "canada", "custom_payout": False}


def test_the_most_specific_rule_wins_and_the_advertiser_sees_which(client, advertiser):
    webmaster = make_user("webmaster")
    rules = [
        {"id": "canada", "country": "CA", "rate_minor": 1200, "payout_minor": 700},
        {"id": "star", "webmaster_id": webmaster.id, "rate_minor": 1500, "payout_minor": 1300},
        {
            "id": "star-in-canada",
            "webmaster_id": webmaster.id,
            "country": "CA",
            "rate_minor": 1400,
            "payout_minor": 1100,
        },
    ]
    offer = make_offer(advertiser, payout_rules=rules)
    make_join(webmaster, offer)
    key = make_key(webmaster)
    other = make_user("webmaster")
    make_join(other, offer)

    star_ca, star_us = submit(client, key, offer, "CA"), submit(client, key, offer, "US")
    other_ca = submit(client, make_key(other), offer, "CA")

    assert [star_ca["payout_minor"], star_us["payout_minor"], other_ca["payout_minor"]] == [1100, 1300, 700]
    seen = client.get(f"/api/v1/leads/{star_ca['id']}", headers=auth(make_key(advertiser))).get_json()
    assert seen["pricing"]["rule_id"] == "star-in-canada"
    assert "pricing" not in client.get(f"/api/v1/leads/{star_ca['id']}", headers=auth(key)).get_json()


def test_an_accepted_lead_keeps_its_prices_when_the_offer_is_repriced(client, advertiser):
    offer = make_offer(advertiser)
    webmaster = make_user("webmaster")
    make_join(webmaster, offer)
    key, advertiser_key = make_key(webmaster), make_key(advertiser)
    before = submit(client, key, offer)

    us_rule = {"country": "US", "rate_minor": 1800, "payout_minor": 1400}
    edited = client.patch(
        f"/api/v1/offers/{offer.id}",
        json={"rate_minor": 2000, "payout_minor": 1600, "payout_rules": [us_rule]},
        headers=auth(advertiser_key),
    )
    assert edited.status_code == 200, edited.get_json()
    after = submit(client, key, offer)
    approved = client.post(f"/api/v1/leads/{before['id']}/approve", headers=auth(advertiser_key))

    assert approved.get_json()["payout_minor"] == 1000
    assert db.session.get(Lead, before["id"]).rate_minor == 1500
    assert after["payout_minor"] == 1400


def test_a_custom_payout_in_bps_prices_a_percentage_offers_sales_and_must_fit_the_rate(client, advertiser):
    offer = make_offer(
        advertiser, model="cps", fields=[], allowed_countries=[], rate_minor=None, payout_minor=None,
        rate_bps=1000, payout_bps=600, payout_rules=[{"country": "DE", "rate_bps": 800, "payout_bps": 500}],
    )  # fmt: skip
    participation = make_join(make_user("webmaster"), offer)
    key = make_key(advertiser)

    def set_payout(**values):
        return client.patch(f"/api/v1/participations/{participation.id}", json=values, headers=auth(key))

    too_high = set_payout(custom_payout_bps=900)  # fits the base rate, not the DE rule's 800 bps
    wrong_unit = set_payout(custom_payout_minor=500)
    fits = set_payout(custom_payout_bps=750)

    assert too_high.status_code == 422
    assert any("rule 0" in message for message in too_high.get_json()["error"]["fields"]["custom_payout_bps"])
    assert wrong_unit.status_code == 422
    assert fits.status_code == 200, fits.get_json()
    assert fits.get_json()["custom_payout_bps"] == 750


def test_repricing_that_would_put_a_custom_payout_above_the_rate_is_refused(client, advertiser):
    offer = make_offer(advertiser, rate_minor=1500, payout_minor=1000)
    webmaster = make_user("webmaster")
    participation = make_join(webmaster, offer)
    key = make_key(advertiser)
    client.patch(
        f"/api/v1/participations/{participation.id}", json={"custom_payout_minor": 1400}, headers=auth(key)
    )

    response = client.patch(f"/api/v1/offers/{offer.id}", json={"rate_minor": 1300}, headers=auth(key))

    assert response.status_code == 422
    assert f"webmaster {webmaster.id}" in response.get_json()["error"]["fields"]["custom_payouts"][0]
    assert client.get(f"/api/v1/offers/{offer.id}", headers=auth(key)).get_json()["rate_minor"] == 1500


def test_a_webmaster_cannot_send_leads_or_use_a_form_on_a_cpa_offer(client, advertiser):
    offer = make_offer(advertiser, model="cpa", fields=[], allowed_countries=[])
    webmaster = make_user("webmaster")
    participation = make_join(webmaster, offer)

    response = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": {}}, headers=auth(make_key(webmaster))
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "offer_takes_no_leads"
    assert client.get(f"/f/{participation.token}").status_code == 404


def test_the_catalog_shows_webmasters_their_payouts_by_rule_and_never_a_rate(client, advertiser):
    webmaster, other = make_user("webmaster"), make_user("webmaster")
    rules = [
        {"country": "CA", "rate_minor": 1200, "payout_minor": 700},
        {"webmaster_id": other.id, "rate_minor": 1500, "payout_minor": 1400},
        {"webmaster_id": webmaster.id, "country": "US", "rate_minor": 1500, "payout_minor": 1300},
    ]
    offer = make_offer(advertiser, payout_rules=rules)

    seen = client.get(f"/api/v1/offers/{offer.id}", headers=auth(make_key(webmaster))).get_json()

    assert seen["payout_rules"] == [
        {"country": "CA", "payout_minor": 700},
        {"webmaster_id": webmaster.id, "country": "US", "payout_minor": 1300},
    ]
    assert "rate_minor" not in str(seen)
