"""Caps count accepted leads per UTC day and month, for the offer and for
each webmaster; a full cap rejects leads (cap_reached) and sends clicks to
the trafficback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from exchange.tracking.models import Click
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user


def submit(client, participation, key, country="US"):
    response = client.post(
        "/api/v1/leads",
        json={"offer_id": participation.offer_id, "fields": lead_fields(country=country)},
        headers=auth(key),
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    return body["status"], body["reason_codes"]


def market(**caps):
    advertiser = make_user("advertiser")
    offer = make_offer(advertiser, **caps)
    fund(advertiser, 1_000_000)
    webmasters = [make_user("webmaster") for _ in range(2)]
    return offer, [(make_join(w, offer), make_key(w)) for w in webmasters]


def test_a_daily_cap_rejects_the_lead_past_it_until_the_next_utc_day(client, ctx, frozen_clock):
    frozen_clock.set(datetime(2026, 5, 10, 23, 59, 0))
    _offer, [(link, key), _] = market(daily_cap=2)

    assert [submit(client, link, key) for _ in range(3)] == [
        ("pending", []),
        ("pending", []),
        ("rejected", ["cap_reached"]),
    ]
    frozen_clock.set(datetime(2026, 5, 11, 0, 0, 0))
    assert submit(client, link, key) == ("pending", [])


def test_a_webmaster_cap_limits_each_webmaster_alone(client, ctx, frozen_clock):
    _offer, [(first, first_key), (second, second_key)] = market(webmaster_daily_cap=1)

    assert submit(client, first, first_key) == ("pending", [])
    assert submit(client, first, first_key) == ("rejected", ["cap_reached"])
    assert submit(client, second, second_key) == ("pending", [])


def test_a_monthly_cap_counts_across_days_and_opens_with_the_month(client, ctx, frozen_clock):
    frozen_clock.set(datetime(2026, 5, 30, 12, 0, 0))
    _offer, [(link, key), _] = market(monthly_cap=2)

    assert submit(client, link, key) == ("pending", [])
    frozen_clock.advance(days=1)
    assert submit(client, link, key) == ("pending", [])
    assert submit(client, link, key) == ("rejected", ["cap_reached"])
    frozen_clock.set(datetime(2026, 6, 1, 0, 0, 0))
    assert submit(client, link, key) == ("pending", [])


def test_rejected_leads_do_not_use_up_a_cap(client, ctx, frozen_clock):
    _offer, [(link, key), _] = market(daily_cap=1)

    assert submit(client, link, key, country="FR") == ("rejected", ["geo_mismatch"])
    assert submit(client, link, key) == ("pending", [])


def test_a_click_on_a_full_offer_goes_to_the_trafficback_with_cap_reached(client, ctx, frozen_clock):
    _offer, [(link, key), _] = market(daily_cap=1, trafficback_url="https://back.example.net/")
    assert client.get(f"/c/{link.token}").headers["Location"].startswith("https://landing.example.com")
    submit(client, link, key)

    response = client.get(f"/c/{link.token}")

    assert response.headers["Location"] == "https://back.example.net/"
    reasons = ctx.scalars(select(Click.trafficback_reason).order_by(Click.id)).all()
    assert reasons[-2:] == [None, "cap_reached"]
