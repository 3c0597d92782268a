"""Bad input on POST /api/v1/leads: a 4xx JSON error with a stable code, the
offending field named, never a 500, and nothing stored (DESIGN §6, §7)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.models import Lead, LeadEvent
from exchange.offers.models import Offer
from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored() -> tuple[int, int]:
    return count(Lead), count(LeadEvent)


@pytest.fixture
def world(ctx):
    advertiser, webmaster, other_webmaster = (
        make_user("advertiser"),
        make_user("webmaster"),
        make_user("webmaster"),
    )
    offer = make_offer(advertiser)
    not_joined = make_offer(advertiser, name="Not joined")
    fund(advertiser, 100_000)
    participation = make_join(webmaster, offer)
    own_click = make_click(participation, sub1="mine")
    foreign_click = make_click(make_join(other_webmaster, offer), sub1="theirs")
    return SimpleNamespace(
        advertiser=advertiser,
        webmaster=webmaster,
        offer_id=offer.id,
        not_joined_offer_id=not_joined.id,
        own_click_id=own_click.click_id,
        foreign_click_id=foreign_click.click_id,
        key=make_key(webmaster),
        advertiser_key=make_key(advertiser),
    )


def valid_body(w) -> dict:
    return {"offer_id": w.offer_id, "fields": lead_fields()}


def with_fields(w, **changes) -> dict:
    values = lead_fields()
    values.update(changes)
    return {"offer_id": w.offer_id, "fields": values}


def without_field(w, name: str) -> dict:
    values = lead_fields()
    del values[name]
    return {"offer_id": w.offer_id, "fields": values}


def revoked_key(client, w) -> str:
    """A second key of the webmaster, revoked over the API (DELETE /api/v1/keys/<id>)."""
    secret = make_key(w.webmaster)
    prefix = secret.split("_")[1]
    listed = client.get("/api/v1/keys", headers=auth(w.key))
    assert listed.status_code == 200, listed.get_json()
    (key_id,) = [k["id"] for k in listed.get_json() if k["prefix"] == prefix]
    revoked = client.delete(f"/api/v1/keys/{key_id}", headers=auth(w.key))
    assert revoked.status_code == 200, revoked.get_json()
    return secret


def tampered(secret: str) -> str:
    """The same prefix (so the key row is found) with a different secret part."""
    return secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")


# Each case: (request kwargs built from the world, expected status, expected code, offending field path).
# A field path is a tuple of keys into error.fields; None where no single field is at fault.
CASES = {
    "malformed_json": (
        lambda c, w: {"data": '{"oops', "content_type": "application/json", "headers": auth(w.key)},
        400,
        "bad_request",
        None,
    ),
    "body_is_a_list": (
        lambda c, w: {"json": [valid_body(w)], "headers": auth(w.key)},
        422,
        "validation_error",
        None,
    ),
    "missing_fields": (
        lambda c, w: {"json": {"offer_id": w.offer_id}, "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields",),
    ),
    "fields_not_an_object": (
        lambda c, w: {"json": {"offer_id": w.offer_id, "fields": ["a", "b"]}, "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields",),
    ),
    "required_lead_field_missing": (
        lambda c, w: {"json": without_field(w, "email"), "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields", "email"),
    ),
    "email_not_an_email": (
        lambda c, w: {"json": with_fields(w, email="not-an-email"), "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields", "email"),
    ),
    "phone_not_a_phone": (
        lambda c, w: {"json": with_fields(w, phone="abc"), "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields", "phone"),
    ),
    "unknown_extra_lead_field": (
        lambda c, w: {"json": with_fields(w, favourite_colour="teal"), "headers": auth(w.key)},
        422,
        "validation_error",
        ("fields", "favourite_colour"),
    ),
    "offer_id_not_an_integer": (
        lambda c, w: {"json": {"offer_id": "one", "fields": lead_fields()}, "headers": auth(w.key)},
        422,
        "validation_error",
        ("offer_id",),
    ),
    "unknown_offer_id": (
        lambda c, w: {
            "json": {
                "offer_id": db.session.scalar(select(func.max(Offer.id))) + 1000,
                "fields": lead_fields(),
            },
            "headers": auth(w.key),
        },
        422,
        "offer_not_found",
        ("offer_id",),
    ),
    "offer_not_joined": (
        lambda c, w: {
            "json": {"offer_id": w.not_joined_offer_id, "fields": lead_fields()},
            "headers": auth(w.key),
        },
        422,
        "offer_not_found",
        ("offer_id",),
    ),
    "another_webmasters_click": (
        lambda c, w: {
            "json": {"click_id": w.foreign_click_id, "fields": lead_fields()},
            "headers": auth(w.key),
        },
        422,
        "click_not_found",
        ("click_id",),
    ),
    "click_that_does_not_exist": (
        lambda c, w: {
            "json": {"click_id": "no-such-click-0000", "fields": lead_fields()},
            "headers": auth(w.key),
        },
        422,
        "click_not_found",
        ("click_id",),
    ),
    "no_authorization_header": (
        lambda c, w: {"json": valid_body(w)},
        401,
        "missing_api_key",
        None,
    ),
    "not_a_bearer_scheme": (
        lambda c, w: {"json": valid_body(w), "headers": {"Authorization": f"Basic {w.key}"}},
        401,
        "missing_api_key",
        None,
    ),
    "garbage_key": (
        lambda c, w: {"json": valid_body(w), "headers": auth("not-a-key")},
        401,
        "invalid_api_key",
        None,
    ),
    "wrong_secret_for_a_real_prefix": (
        lambda c, w: {"json": valid_body(w), "headers": auth(tampered(w.key))},
        401,
        "invalid_api_key",
        None,
    ),
    "revoked_key": (
        lambda c, w: {"json": valid_body(w), "headers": auth(revoked_key(c, w))},
        401,
        "revoked_api_key",
        None,
    ),
    "advertiser_key": (
        lambda c, w: {"json": valid_body(w), "headers": auth(w.advertiser_key)},
        403,
        "wrong_role",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_lead_submission_is_refused_with_a_json_error_and_stores_nothing(client, ctx, world, case):
    build, status, code, field_path = CASES[case]
    kwargs = build(client, world)
    before = stored()

    response = client.post("/api/v1/leads", **kwargs)

    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field_path is not None:
        node = error.get("fields") or {}
        for key in field_path:
            assert key in node, f"{key!r} not named in {error.get('fields')!r}"
            node = node[key]
        assert node, "the offending field carries a message"
    assert stored() == before


def test_a_lead_without_click_id_or_offer_id_names_the_source_fields(client, world):
    before = stored()
    response = client.post("/api/v1/leads", json={"fields": lead_fields()}, headers=auth(world.key))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert {"click_id", "offer_id"} & set(error["fields"])
    assert stored() == before


def test_the_same_body_is_accepted_once_the_mistakes_are_fixed(client, world):
    """Control for the cases above: the world is sound, so the refusals come from the bad input."""
    before_leads, before_events = stored()
    by_offer = client.post("/api/v1/leads", json=valid_body(world), headers=auth(world.key))
    by_click = client.post(
        "/api/v1/leads",
        json={"click_id": world.own_click_id, "fields": lead_fields()},
        headers=auth(world.key),
    )
    assert by_offer.status_code == 202, by_offer.get_json()
    assert by_click.status_code == 202, by_click.get_json()
    assert by_click.get_json()["sub1"] == "mine"
    assert count(Lead) == before_leads + 2
    assert count(LeadEvent) > before_events


def test_an_offer_id_beyond_the_integer_range_is_an_unknown_offer_not_a_500(client, world):
    before = stored()
    response = client.post(
        "/api/v1/leads", json={"offer_id": 2**63, "fields": lead_fields()}, headers=auth(world.key)
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert "offer_id" in error.get("fields", {})
    db.session.rollback()  # as the request's teardown would, should the database have refused the query
    assert stored() == before


def test_an_email_longer_than_an_address_can_be_is_refused_as_an_invalid_email(client, world):
    """RFC 5321 caps an address at 254 characters (a local part at 64); the lead row keeps 254."""
    too_long = "a" * 250 + "@example.com"
    before = stored()
    response = client.post("/api/v1/leads", json=with_fields(world, email=too_long), headers=auth(world.key))
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert "email" in error["fields"]["fields"]
    db.session.rollback()  # as the request's teardown would, should the database have refused the insert
    assert stored() == before
