"""Webmaster postbacks over the API: the global URL, per-offer overrides, the delivery log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.delivery.postbacks.models import PostbackDelivery
from exchange.extensions import db
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.tracker_server import Tracker


@pytest.fixture
def tracker():
    with Tracker([200]) as server:
        yield server


class Webmaster:
    def __init__(self, client):
        self.client = client
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        self.offer = make_offer(advertiser, payout_minor=1000)
        self.other_offer = make_offer(advertiser, name="Second offer")
        fund(advertiser, 100_000)
        make_join(webmaster, self.offer)
        make_join(webmaster, self.other_offer)
        self.key = make_key(webmaster)

    def put(self, path: str, body: dict):
        return self.client.put(path, json=body, headers=auth(self.key))

    def get(self, path: str):
        return self.client.get(path, headers=auth(self.key))

    def lead(self, offer=None, **subs) -> int:
        offer = offer or self.offer
        body = {"offer_id": offer.id, "fields": lead_fields(), **subs}
        response = self.client.post("/api/v1/leads", json=body, headers=auth(self.key))
        assert response.status_code == 202, response.get_json()
        return response.get_json()["id"]


def deliveries() -> int:
    return db.session.scalar(select(func.count()).select_from(PostbackDelivery))


def test_without_a_postback_url_nothing_is_scheduled(client, ctx):
    webmaster = Webmaster(client)
    webmaster.lead()
    assert deliveries() == 0
    assert webmaster.get("/api/v1/postback-url").get_json() == {
        "offer_id": None,
        "url_template": None,
        "status_map": {},
        "updated_at": None,
    }


def test_every_status_change_is_posted_back_with_its_macros(client, ctx, tracker):
    webmaster = Webmaster(client)
    template = (
        tracker.base + "/pb?cid={click_id}&lead={lead_id}&st={status}&pay={payout}&cur={currency}&s1={sub1}"
    )
    response = webmaster.put(
        "/api/v1/postback-url",
        {"url_template": template, "status_map": {"pending": "lead", "approved": "sale"}},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["url_template"] == template

    lead_id = webmaster.lead(sub1="camp 1&x=y")

    assert tracker.queries() == [
        {
            "cid": [""],
            "lead": [str(lead_id)],
            "st": ["received"],
            "pay": [""],
            "cur": [""],
            "s1": ["camp 1&x=y"],
        },
        {
            "cid": [""],
            "lead": [str(lead_id)],
            "st": ["lead"],
            "pay": ["10.00"],
            "cur": ["USD"],
            "s1": ["camp 1&x=y"],
        },
    ]
    page = webmaster.get("/api/v1/postbacks").get_json()
    assert page["total"] == 2
    newest, first = page["items"]
    assert (newest["lead_status"], first["lead_status"]) == ("pending", "received")
    assert newest["state"] == "delivered" and newest["attempts"] == 1
    (attempt,) = newest["attempt_log"]
    assert attempt["number"] == 1 and attempt["status_code"] == 200 and attempt["error"] is None
    assert attempt["response_excerpt"] == "ok"


def test_an_offer_override_wins_over_the_global_url(client, ctx, tracker):
    webmaster = Webmaster(client)
    webmaster.put("/api/v1/postback-url", {"url_template": tracker.base + "/global?s={status}"})
    response = webmaster.put(
        f"/api/v1/offers/{webmaster.offer.id}/postback-url",
        {"url_template": tracker.base + "/override?s={status}", "status_map": {"received": "new"}},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["offer_id"] == webmaster.offer.id

    webmaster.lead(webmaster.offer)
    webmaster.lead(webmaster.other_offer)
    assert tracker.requests == [
        "/override?s=new",
        "/override?s=pending",
        "/global?s=received",
        "/global?s=pending",
    ]

    assert (
        webmaster.client.delete(
            f"/api/v1/offers/{webmaster.offer.id}/postback-url", headers=auth(webmaster.key)
        ).status_code
        == 204
    )
    assert (
        webmaster.get(f"/api/v1/offers/{webmaster.offer.id}/postback-url").get_json()["url_template"] is None
    )
    webmaster.lead(webmaster.offer)
    assert tracker.requests[-1] == "/global?s=pending"


def test_saving_again_replaces_the_setting(client, ctx, tracker):
    webmaster = Webmaster(client)
    webmaster.put(
        "/api/v1/postback-url", {"url_template": tracker.base + "/a", "status_map": {"approved": "x"}}
    )
    webmaster.put("/api/v1/postback-url", {"url_template": tracker.base + "/b"})
    body = webmaster.get("/api/v1/postback-url").get_json()
    assert (body["url_template"], body["status_map"]) == (tracker.base + "/b", {})
    assert client.delete("/api/v1/postback-url", headers=auth(webmaster.key)).status_code == 204
    webmaster.lead()
    assert deliveries() == 0


def test_another_webmasters_objects_answer_404(client, ctx, tracker):
    owner = Webmaster(client)
    owner.put("/api/v1/postback-url", {"url_template": tracker.base + "/pb"})
    lead_id = owner.lead()
    delivery_id = owner.get("/api/v1/postbacks").get_json()["items"][0]["id"]
    stranger = Webmaster(client)

    assert stranger.get(f"/api/v1/postbacks/{delivery_id}").status_code == 404
    assert stranger.get(f"/api/v1/postbacks?lead_id={lead_id}").status_code == 404
    assert stranger.get("/api/v1/postbacks").get_json()["total"] == 0
    assert owner.get(f"/api/v1/postbacks/{delivery_id}").status_code == 200
    assert owner.get(f"/api/v1/postbacks?lead_id={lead_id}").get_json()["total"] == 2
    # an offer the stranger never joined
    for response in (
        stranger.put(f"/api/v1/offers/{owner.offer.id}/postback-url", {"url_template": tracker.base}),
        stranger.get(f"/api/v1/offers/{owner.offer.id}/postback-url"),
        client.delete(f"/api/v1/offers/{owner.offer.id}/postback-url", headers=auth(stranger.key)),
        stranger.put("/api/v1/offers/999999/postback-url", {"url_template": tracker.base}),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"


def test_postbacks_are_for_webmasters(client, ctx):
    advertiser_key = make_key(make_user("advertiser"))
    response = client.get("/api/v1/postbacks", headers=auth(advertiser_key))
    assert response.status_code == 403
    assert client.get("/api/v1/postback-url").status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"url_template": "https://t.example.com/?a={clickid}&b={sub9}"},
            "url_template",
            "{clickid}, {sub9}",
        ),
        ({"url_template": "https://{sub1}.t.example.com/pb"}, "url_template", "host is fixed"),
        ({"url_template": "javascript:alert(1)"}, "url_template", "absolute http(s) URL"),
        ({"url_template": "https://t.example.com/\r\nX-A: b"}, "url_template", "spaces or line breaks"),
        ({"url_template": "https://t.example.com/" + "a" * 2000}, "url_template", "Length"),
        ({"url_template": ""}, "url_template", "Length"),
        ({"url_template": 12}, "url_template", "Not a valid string"),
        ({}, "url_template", "Missing data"),
        (
            {"url_template": "https://t.example.com/", "status_map": {"bought": "x"}},
            "status_map",
            "Must be one of",
        ),
        ({"url_template": "https://t.example.com/", "status_map": {"approved": ""}}, "status_map", "Length"),
        ({"url_template": "https://t.example.com/", "status_map": {"approved": 1}}, "status_map", "string"),
        ({"url_template": "https://t.example.com/", "status_map": []}, "status_map", "Not a valid mapping"),
    ],
)
def test_bad_settings_are_refused_with_field_messages(client, ctx, body, field, message):
    webmaster = Webmaster(client)
    for path in ("/api/v1/postback-url", f"/api/v1/offers/{webmaster.offer.id}/postback-url"):
        response = webmaster.put(path, body)
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert message.lower() in str(error["fields"][field]).lower(), error
    assert webmaster.get("/api/v1/postback-url").get_json()["url_template"] is None


@pytest.mark.parametrize(
    "query", ["lead_id=0", "lead_id=abc", "page=0", "per_page=501", "lead_id=99999999999"]
)
def test_bad_list_filters_answer_422(client, ctx, query):
    webmaster = Webmaster(client)
    response = webmaster.get(f"/api/v1/postbacks?{query}")
    assert response.status_code == 422, response.get_json()
