"""Lead quality through the API (issue 4): per-offer validation settings, normalisation, fraud
signals, scores and temperatures, the minimum temperature, auto-approval and temperature prices."""

from __future__ import annotations

import pytest

from exchange.extensions import db
from exchange.leads.models import Lead
from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user
from tests.integration.helpers import event_tuples

BROWSER = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"}


@pytest.fixture
def advertiser(ctx):
    user = make_user("advertiser")
    fund(user, 1_000_000)
    return user


def market(advertiser, **settings):
    """An offer with ``settings``, and a webmaster who joined it: (offer, participation, key)."""
    offer = make_offer(advertiser, **settings)
    webmaster = make_user("webmaster")
    return offer, make_join(webmaster, offer), make_key(webmaster)


def submit(client, key, offer=None, click=None, headers=BROWSER, **fields):
    body = {"fields": lead_fields() | fields}
    body.update({"click_id": click.click_id} if click else {"offer_id": offer.id})
    response = client.post("/api/v1/leads", json=body, headers={**auth(key), **headers})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def hot_lead(client, key, participation, frozen_clock, **fields):
    """A lead a minute after its click, with a mobile phone: 20 + 25 + 25 + 15 = 85, hot."""
    click = make_click(participation)
    frozen_clock.advance(seconds=60)
    return submit(client, key, click=click, **({"phone": "+1 202 555 0199"} | fields))


def stored(lead: dict) -> Lead:
    lead_row = db.session.get(Lead, lead["id"])
    db.session.refresh(lead_row)
    return lead_row


# -- per-offer settings ----------------------------------------------------------------------------


def test_the_validation_settings_are_saved_and_shown_to_the_advertiser(client, advertiser):
    key = make_key(advertiser)
    fields = [
        {"name": "name", "type": "string", "required": True, "pattern": "[A-Za-z .'-]{2,60}"},
        {"name": "phone", "type": "phone", "required": True},
        {"name": "roof", "type": "string", "choices": ["flat", "pitched"]},
        {"name": "country", "type": "country", "required": True},
    ]
    settings = {
        "duplicate_scope": "advertiser",
        "min_temperature": "warm",
        "auto_approve": "hot",
        "min_click_to_lead_seconds": 5,
        "max_leads_per_ip_per_hour": 20,
        "attribution_window_seconds": 7 * 86400,
        "review_window_seconds": 86400,
    }
    from tests.factories import offer_data

    created = client.post("/api/v1/offers", json=offer_data(fields=fields, **settings), headers=auth(key))
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/v1/offers/{created.get_json()['id']}", headers=auth(key)).get_json()
    assert {name: shown[name] for name in settings} == settings
    assert (
        shown["fields"] == [{"required": False, **spec} for spec in fields] or shown["fields"][0]["pattern"]
    )
    assert shown["fields"][2]["choices"] == ["flat", "pitched"]

    edited = client.patch(
        f"/api/v1/offers/{shown['id']}",
        json={"auto_approve": "all", "min_temperature": None, "duplicate_scope": "offer"},
        headers=auth(key),
    )
    assert edited.status_code == 200, edited.get_json()
    assert (edited.get_json()["auto_approve"], edited.get_json()["min_temperature"]) == ("all", None)
    assert edited.get_json()["min_click_to_lead_seconds"] == 5  # untouched settings stay


def test_new_offers_get_the_default_thresholds(client, advertiser):
    from tests.factories import offer_data

    created = client.post("/api/v1/offers", json=offer_data(), headers=auth(make_key(advertiser))).get_json()
    assert (created["duplicate_scope"], created["min_temperature"], created["auto_approve"]) == (
        "offer",
        None,
        "none",
    )
    assert (
        created["min_click_to_lead_seconds"],
        created["max_leads_per_ip_per_hour"],
        created["attribution_window_seconds"],
    ) == (3, 5, 30 * 86400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duplicate_scope": "network"}, "duplicate_scope"),
        ({"min_temperature": "lukewarm"}, "min_temperature"),
        ({"auto_approve": "warm"}, "auto_approve"),
        ({"min_click_to_lead_seconds": -1}, "min_click_to_lead_seconds"),
        ({"min_click_to_lead_seconds": 3601}, "min_click_to_lead_seconds"),
        ({"min_click_to_lead_seconds": "3"}, "min_click_to_lead_seconds"),
        ({"max_leads_per_ip_per_hour": -1}, "max_leads_per_ip_per_hour"),
        ({"attribution_window_seconds": 10 * 365 * 86400 + 1}, "attribution_window_seconds"),
        ({"review_window_seconds": -1}, "review_window_seconds"),
    ],
)
def test_bad_settings_are_refused_with_the_fields_named(client, advertiser, change, field):
    offer = make_offer(advertiser)
    response = client.patch(f"/api/v1/offers/{offer.id}", json=change, headers=auth(make_key(advertiser)))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    db.session.refresh(offer)
    assert (offer.duplicate_scope, offer.min_click_to_lead_seconds) == ("offer", 3)  # nothing written


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "string", "pattern": "(a+)+$"}, "Nested quantifiers"),
        ({"type": "string", "pattern": "["}, "Not a valid regular expression"),
        ({"type": "string", "pattern": "x" * 201}, "at most 200"),
        ({"type": "phone", "pattern": "[0-9]+"}, "Only a string field"),
        ({"type": "boolean", "choices": [True]}, "Only a string or integer field"),
        ({"type": "integer", "choices": [1, "2"]}, "must be a integer"),
        ({"type": "string", "choices": []}, "Length must be between 1 and 100"),
        ({"type": "string", "choices": ["a", "a"]}, "appears twice"),
    ],
)
def test_field_patterns_and_choices_are_checked_when_saved(client, advertiser, spec, message):
    from tests.factories import CONTACT_FIELDS, offer_data

    fields = [*CONTACT_FIELDS, {"name": "extra", **spec}]
    response = client.post(
        "/api/v1/offers", json=offer_data(fields=fields), headers=auth(make_key(advertiser))
    )
    assert response.status_code == 422, response.get_json()
    assert message in str(response.get_json()["error"]["fields"]["fields"])


def test_a_leads_values_must_fit_the_fields_pattern_and_choices(client, advertiser):
    from tests.factories import CONTACT_FIELDS

    fields = [*CONTACT_FIELDS, {"name": "zip", "type": "string", "pattern": "[0-9]{5}"}]
    fields.append({"name": "roof", "type": "string", "choices": ["flat", "pitched"]})
    offer, _link, key = market(advertiser, fields=fields)
    body = {"offer_id": offer.id, "fields": lead_fields() | {"zip": "1234", "roof": "dome"}}
    refused = client.post("/api/v1/leads", json=body, headers=auth(key))
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]["fields"]) == {"zip", "roof"}
    assert submit(client, key, offer, zip="12345", roof="flat")["status"] == "pending"


# -- normalisation and contact checks --------------------------------------------------------------


def test_names_are_trimmed_and_the_phone_type_stored(client, advertiser):
    offer, _link, key = market(advertiser)
    lead = stored(submit(client, key, offer, name="  Ann \t Lee ", phone="(204) 555-0101", country="CA"))
    assert lead.fields["name"] == "Ann Lee"
    assert (lead.phone_key, lead.phone_type) == ("+12045550101", "fixed_or_mobile")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"email": "someone@mailinator.com"}, "disposable_email"),
        ({"email": "someone@example.test"}, "invalid_email"),
        ({"phone": "202 5550"}, "invalid_phone"),  # seven digits: too short for the US
        ({"phone": "+44 7400 123456"}, "geo_mismatch"),  # a British phone on a US and CA offer
    ],
)
def test_bad_contact_data_rejects_the_lead_with_its_code(client, advertiser, fields, code):
    offer, _link, key = market(advertiser)
    lead = submit(client, key, offer, **fields)
    assert (lead["status"], lead["reason_codes"]) == ("rejected", [code])


def test_a_phone_in_no_range_in_use_is_flagged_not_rejected(client, advertiser):
    offer, _link, key = market(advertiser)
    lead = submit(client, key, offer, phone="+1 555 010 0001")
    assert (lead["status"], lead["reason_codes"]) == ("pending", [])
    flagged = [f for f in stored(lead).findings if f["code"] == "invalid_phone"]
    assert flagged == [
        {"code": "invalid_phone", "severity": "flag", "detail": flagged[0]["detail"], "points": -25}
    ]


def test_duplicates_across_the_advertisers_offers_when_the_scope_says_so(client, advertiser):
    webmaster = make_user("webmaster")
    key = make_key(webmaster)
    offers = {
        scope: [make_offer(advertiser, duplicate_scope=scope) for _ in range(2)]
        for scope in ("offer", "advertiser")
    }
    for pair in offers.values():
        for offer in pair:
            make_join(webmaster, offer)
    results = {}
    for scope, (first, second) in offers.items():
        same = lead_fields()
        submit(client, key, first, **same)
        results[scope] = submit(client, key, second, **same)["reason_codes"]
    assert results == {"offer": [], "advertiser": ["duplicate"]}


# -- fraud signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "flagged"), [(2, True), (3, False), (4, False)])
def test_a_lead_sooner_after_its_click_than_the_offers_minimum_is_flagged(
    client, advertiser, frozen_clock, seconds, flagged
):
    offer, link, key = market(advertiser)
    click = make_click(link)
    frozen_clock.advance(seconds=seconds)
    lead = submit(client, key, click=click)
    codes = [f["code"] for f in stored(lead).findings if f["severity"] == "flag"]
    assert codes == (["click_too_fast"] if flagged else [])
    assert lead["status"] == "pending"


@pytest.mark.parametrize(("seconds", "status"), [(3600, "pending"), (3601, "rejected")])
def test_a_click_older_than_the_attribution_window_is_expired(
    client, advertiser, frozen_clock, seconds, status
):
    offer, link, key = market(advertiser, attribution_window_seconds=3600)
    click = make_click(link)
    frozen_clock.advance(seconds=seconds)
    lead = submit(client, key, click=click)
    assert (lead["status"], lead["reason_codes"]) == (
        status,
        [] if status == "pending" else ["click_expired"],
    )


def test_leads_past_the_hourly_limit_from_one_ip_are_flagged_and_the_hour_moves_on(
    client, advertiser, frozen_clock
):
    offer, _link, key = market(advertiser, max_leads_per_ip_per_hour=2)

    def flags():
        response = client.post(
            "/api/v1/leads",
            json={"offer_id": offer.id, "fields": lead_fields(), "ip": "203.0.113.50"},
            headers={**auth(key), **BROWSER},
        )
        return [f["code"] for f in stored(response.get_json()).findings if f["severity"] == "flag"]

    assert [flags(), flags(), flags()] == [[], [], ["ip_velocity"]]
    frozen_clock.advance(hours=1)
    assert flags() == []  # the first two are more than an hour old now


def test_the_click_user_agent_is_stored_and_a_bots_is_rejected(client, advertiser, frozen_clock):
    from exchange.tracking.links import target_of
    from exchange.tracking.services import click_by_id, record_click

    offer, link, key = market(advertiser)
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    click = click_by_id(record_click(target_of(link), {}, "198.51.100.4", bot).click_id)
    frozen_clock.advance(seconds=30)
    lead = submit(client, key, click=click)  # the request's own user agent is a browser's
    assert (lead["status"], lead["reason_codes"]) == ("rejected", ["bot_user_agent"])
    assert stored(lead).user_agent == bot


def test_without_a_click_the_requests_user_agent_is_the_leads(client, advertiser):
    offer, _link, key = market(advertiser)
    crawler = submit(client, key, offer, headers={"User-Agent": "AcmeCrawler/1.0"})
    assert (crawler["status"], crawler["reason_codes"]) == ("rejected", ["bot_user_agent"])
    server = submit(client, key, offer, headers={"User-Agent": "python-requests/2.32.3"})
    assert (server["status"], stored(server).user_agent) == ("pending", "python-requests/2.32.3")
    sent = client.post(
        "/api/v1/leads",
        json={
            "offer_id": offer.id,
            "fields": lead_fields(),
            "user_agent": "Mozilla/5.0 (iPhone) Mobile/15E148",
        },
        headers={**auth(key), "User-Agent": "python-requests/2.32.3"},
    ).get_json()
    assert stored(sent).user_agent == "Mozilla/5.0 (iPhone) Mobile/15E148"


def test_no_user_agent_at_all_is_flagged(client, advertiser):
    offer, _link, key = market(advertiser)
    lead = submit(client, key, offer, headers={"User-Agent": ""})
    assert lead["status"] == "pending"
    assert {"code": "bot_user_agent", "severity": "flag", "detail": "no user agent", "points": -20} in stored(
        lead
    ).findings


# -- scores, temperatures and who sees them ------------------------------------------------------------


def test_the_advertiser_sees_the_breakdown_and_the_webmaster_only_codes_and_temperature(
    client, advertiser, frozen_clock
):
    offer, link, key = market(advertiser)
    lead = hot_lead(client, key, link, frozen_clock)

    as_advertiser = client.get(f"/api/v1/leads/{lead['id']}", headers=auth(make_key(advertiser))).get_json()
    assert (as_advertiser["score"], as_advertiser["temperature"], as_advertiser["phone_type"]) == (
        80,
        "hot",
        "fixed_or_mobile",
    )
    assert {f["code"]: f["points"] for f in as_advertiser["findings"]} == {
        "fields_complete": 20,
        "click_to_lead": 25,
        "phone_type": 20,
        "source_history": 15,
    }
    as_webmaster = client.get(f"/api/v1/leads/{lead['id']}", headers=auth(key)).get_json()
    assert (as_webmaster["temperature"], as_webmaster["reason_codes"]) == ("hot", [])
    assert not {"score", "findings", "phone_type", "fields"} & set(as_webmaster)
    listed = client.get("/api/v1/leads", headers=auth(key)).get_json()
    assert "findings" not in str(listed) and "hot" in str(listed)


def test_a_rejected_lead_keeps_its_score_and_findings(client, advertiser):
    offer, _link, key = market(advertiser)
    lead = stored(submit(client, key, offer, email="ann@mailinator.com"))
    assert (lead.status, lead.score, lead.temperature) == ("rejected", 65, "warm")
    assert {"disposable_email", "fields_complete"} <= {f["code"] for f in lead.findings}


def test_the_sources_approval_history_moves_its_score(client, advertiser, frozen_clock):
    offer, _link, key = market(advertiser, auto_approve="all")
    first = [stored(submit(client, key, offer)) for _ in range(5)]
    assert [lead.status for lead in first] == ["approved"] * 5
    later = stored(submit(client, key, offer))
    history = next(f for f in later.findings if f["code"] == "source_history")
    assert (history["detail"], history["points"], later.score) == ("5 of 5 approved", 30, 80)


def test_leads_colder_than_the_offers_minimum_are_rejected(client, advertiser, frozen_clock):
    offer, link, key = market(advertiser, min_temperature="hot")
    warm = submit(client, key, offer)  # no click, unknown source: 65
    assert (warm["status"], warm["reason_codes"], warm["temperature"]) == (
        "rejected",
        ["below_min_temperature"],
        "warm",
    )
    hot = hot_lead(client, key, link, frozen_clock)
    assert (hot["status"], hot["temperature"]) == ("pending", "hot")


@pytest.mark.parametrize(
    ("auto_approve", "warm_status", "hot_status"),
    [("none", "pending", "pending"), ("all", "approved", "approved"), ("hot", "pending", "approved")],
)
def test_auto_approval(client, advertiser, frozen_clock, auto_approve, warm_status, hot_status):
    offer, link, key = market(advertiser, auto_approve=auto_approve)
    warm, hot = submit(client, key, offer), hot_lead(client, key, link, frozen_clock)
    assert (warm["temperature"], hot["temperature"]) == ("warm", "hot")
    assert (stored(warm).status, stored(hot).status) == (warm_status, hot_status)
    if hot_status == "approved":
        assert event_tuples(hot["id"])[-1] == ("approve", "pending", "approved", "system", "auto-approval")
        assert stored(hot).hold_until is not None


def test_a_lead_funded_later_is_auto_approved_once_funded(client, frozen_clock):
    advertiser = make_user("advertiser")
    offer, _link, key = market(advertiser, auto_approve="all")
    lead = submit(client, key, offer)
    assert lead["status"] == "awaiting_funds"
    fund(advertiser, 1_000_000)
    from exchange.actors import Actor
    from exchange.db import commit
    from exchange.leads.sweep import fund_in_arrival_order

    fund_in_arrival_order(advertiser.id, "USD", Actor.system("funding"))
    commit()
    assert stored(lead).status == "approved"


def test_a_temperature_rule_prices_hot_leads(client, advertiser, frozen_clock):
    rules = [{"id": "hot", "temperature": "hot", "rate_minor": 2500, "payout_minor": 1800}]
    offer, link, key = market(advertiser, payout_rules=rules)
    warm, hot = submit(client, key, offer), hot_lead(client, key, link, frozen_clock)
    assert (warm["payout_minor"], hot["payout_minor"]) == (1000, 1800)
    assert (stored(hot).rate_minor, stored(hot).pricing["rule_id"]) == (2500, "hot")
    assert stored(warm).pricing["rule_id"] is None
