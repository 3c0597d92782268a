"""Verticals through the API: staff define them, buyers and sellers read them without the
margin, sellers join them (docs/exchange.md)."""

from __future__ import annotations

import pytest

from exchange.extensions import db
from exchange.verticals.domain import DEFAULT_AGEING
from exchange.verticals.models import Vertical, VerticalSeller
from tests.exchange_factories import make_vertical, vertical_data
from tests.factories import auth, make_key, make_user


def test_an_admin_defines_a_vertical_and_reads_it_back_whole(client, ctx):
    admin = auth(make_key(make_user("admin")))

    response = client.post("/api/v1/verticals", json=vertical_data(name="Solar — US"), headers=admin)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    stored = db.session.get(Vertical, body["id"])
    assert (stored.name, stored.slots, stored.margin_bps) == ("Solar — US", 3, 2000)
    assert stored.floors["US"] == {"cold": 500, "warm": 800, "hot": 1200}
    assert body["personal_fields"] == ["name", "postcode"]
    assert client.get(f"/api/v1/verticals/{body['id']}", headers=admin).get_json()["margin_bps"] == 2000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slots": 0}, "slots"),
        ({"slots": 11}, "slots"),
        ({"floors": {}}, "floors"),
        ({"floors": {"US": {"boiling": 5}}}, "floors"),
        ({"floors": {"DE": {"cold": 5}}}, "floors"),  # not an allowed country
        ({"floors": {"US": {"cold": 0}}}, "floors"),
        ({"margin_bps": 1000, "margin_minor": 50}, "margin_minor"),
        ({"personal_fields": ["ssn"]}, "fields"),
        ({"fields": [{"name": "name", "type": "string"}]}, "fields"),  # no phone nor email
        ({"currency": "usd"}, "currency"),
        ({"return_window_seconds": 20 * 86400, "hold_seconds": 10 * 86400}, "return_window_seconds"),
        (
            {
                "ageing": {
                    "steps": [{"after_hours": 0, "percent": 50}, {"after_hours": 9, "percent": 60}],
                    "gone_after_hours": 99,
                }
            },
            "ageing",
        ),
        ({"ageing": {"steps": [{"after_hours": 5, "percent": 100}], "gone_after_hours": 99}}, "ageing"),
        ({"ageing": {"steps": [{"after_hours": 0, "percent": 100}], "gone_after_hours": 0}}, "ageing"),
        ({"ageing": {"steps": [], "gone_after_hours": 99}}, "ageing"),
    ],
)
def test_a_vertical_that_cannot_work_is_refused_with_the_field_named(client, ctx, change, field):
    admin = auth(make_key(make_user("admin")))

    response = client.post("/api/v1/verticals", json=vertical_data(**change), headers=admin)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(Vertical).count() == 0


def test_a_verticals_ageing_schedule_is_the_default_unless_set_and_buyers_see_it(client, ctx):
    admin = auth(make_key(make_user("admin")))
    buyer = auth(make_key(make_user("advertiser")))
    schedule = {
        "steps": [{"after_hours": 0, "percent": 100}, {"after_hours": 48, "percent": 40}],
        "gone_after_hours": 720,
    }

    plain = client.post("/api/v1/verticals", json=vertical_data(name="Plain"), headers=admin).get_json()
    aged = client.post("/api/v1/verticals", json=vertical_data(name="Aged", ageing=schedule), headers=admin)

    assert aged.status_code == 201, aged.get_json()
    assert db.session.get(Vertical, plain["id"]).ageing == DEFAULT_AGEING
    assert db.session.get(Vertical, aged.get_json()["id"]).ageing == schedule
    assert (
        client.get(f"/api/v1/verticals/{aged.get_json()['id']}", headers=buyer).get_json()["ageing"]
        == schedule
    )


def test_only_admins_define_verticals(client, ctx):
    for role in ("advertiser", "webmaster", "moderator"):
        response = client.post(
            "/api/v1/verticals", json=vertical_data(), headers=auth(make_key(make_user(role)))
        )
        assert response.status_code == 403


def test_an_admin_edits_a_vertical_but_never_its_currency(client, ctx):
    admin = auth(make_key(make_user("admin")))
    vertical = make_vertical()

    edited = client.patch(f"/api/v1/verticals/{vertical.id}", json={"slots": 1}, headers=admin)
    recurrency = client.patch(f"/api/v1/verticals/{vertical.id}", json={"currency": "EUR"}, headers=admin)

    assert edited.status_code == 200 and edited.get_json()["slots"] == 1
    assert recurrency.status_code == 422 and "currency" in recurrency.get_json()["error"]["fields"]
    assert db.session.get(Vertical, vertical.id).currency == "USD"


def test_buyers_and_sellers_see_floors_but_never_the_margin_nor_a_paused_vertical(client, ctx):
    vertical = make_vertical()
    paused = make_vertical(status="paused")
    for role in ("advertiser", "webmaster"):
        key = auth(make_key(make_user(role)))
        listed = client.get("/api/v1/verticals", headers=key).get_json()
        assert [v["id"] for v in listed] == [vertical.id]
        assert "margin_bps" not in listed[0] and listed[0]["floors"]["US"]["hot"] == 1200
        assert client.get(f"/api/v1/verticals/{paused.id}", headers=key).status_code == 404


def test_a_seller_joins_at_once_or_waits_for_staff_as_the_vertical_says(client, ctx):
    open_vertical = make_vertical()
    guarded = make_vertical(sellers_need_approval=True)
    webmaster = make_user("webmaster")
    key = auth(make_key(webmaster))
    moderator = auth(make_key(make_user("moderator")))

    joined = client.post(f"/api/v1/verticals/{open_vertical.id}/join", headers=key).get_json()
    waiting = client.post(f"/api/v1/verticals/{guarded.id}/join", headers=key).get_json()
    again = client.post(f"/api/v1/verticals/{guarded.id}/join", headers=key).get_json()

    assert joined["status"] == "active" and waiting["status"] == "pending"
    assert again["id"] == waiting["id"]
    standings = {v["id"]: v["standing"] for v in client.get("/api/v1/verticals", headers=key).get_json()}
    assert standings == {open_vertical.id: "active", guarded.id: "pending"}
    approved = client.post(f"/api/v1/vertical-sellers/{waiting['id']}/approve", headers=moderator)
    assert approved.status_code == 200 and approved.get_json()["status"] == "active"
    assert db.session.get(VerticalSeller, waiting["id"]).status == "active"
    assert client.post(f"/api/v1/vertical-sellers/{waiting['id']}/approve", headers=key).status_code == 403
