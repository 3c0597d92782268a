"""Text no column can store (NUL, lone surrogates) and values that do not
fit: a 4xx naming the place, never a 500, nothing stored. The click
endpoint cleans instead of refusing, so no click is lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.tracking.models import Click
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user, offer_data


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "raw_body",
    [
        pytest.param('{{"offer_id": {offer}, "sub1": "a\\u0000b", "fields": {fields}}}', id="nul-in-sub"),
        pytest.param('{{"offer_id": {offer}, "sub1": "\\ud800", "fields": {fields}}}', id="lone-surrogate"),
        pytest.param('{{"offer_id": {offer}, "fields": {fields}, "\\u0000": 1}}', id="nul-in-a-key"),
    ],
)
def test_a_lead_with_unstorable_text_is_refused_with_the_place_named(client, ctx, raw_body):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    body = raw_body.format(offer=offer.id, fields=json.dumps(lead_fields()))

    response = client.post(
        "/api/v1/leads", data=body, content_type="application/json", headers=auth(make_key(webmaster))
    )

    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_characters"
    assert error["fields"]
    assert count(ctx, Lead) == 0


def test_an_offer_name_with_a_nul_byte_is_refused(client, ctx):
    advertiser = make_user("advertiser")
    response = client.post(
        "/api/v1/offers", json=offer_data(name="Solar\x00"), headers=auth(make_key(advertiser))
    )
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["name"]
    assert count(ctx, Offer) == 0


def test_a_sign_in_with_a_nul_byte_is_refused_not_a_500(client, ctx):
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


def test_a_click_with_a_nul_byte_in_its_subs_and_user_agent_is_kept_cleaned(client, ctx):
    participation = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))

    response = client.get(f"/c/{participation.token}?sub1=a%00b", headers={"User-Agent": "bot\x00x"})

    assert response.status_code == 302
    click = ctx.scalar(select(Click))
    assert (click.sub1, click.user_agent) == ("ab", "botx")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("landing_url", "https://[::1/"),
        ("landing_url", "https://lp.example.com:port/x"),
        ("duplicate_window_seconds", 10**12),
        ("review_window_seconds", 2**40),
    ],
)
def test_offer_values_that_do_not_fit_are_refused_with_the_field_named(client, ctx, field, value):
    advertiser = make_user("advertiser")
    response = client.post(
        "/api/v1/offers", json=offer_data(**{field: value}), headers=auth(make_key(advertiser))
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["fields"]
    assert count(ctx, Offer) == 0
