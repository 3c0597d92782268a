"""Advertisers' delivery settings over the API: endpoints, secrets shown once, offer overrides,
a test lead, and the refusals (422 for a bad URL, 404 for a stranger's offer, 403 for others)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.delivery.leads.models import LeadDelivery
from exchange.extensions import db
from tests.advertiser_endpoint import Answer, Endpoint
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.readme_snippet import verify_delivery_from_readme


class Advertiser:
    def __init__(self, client):
        self.client = client
        self.user = make_user("advertiser")
        self.offer = make_offer(self.user)
        self.key = make_key(self.user)

    def call(self, method: str, path: str, body: dict | None = None):
        return self.client.open(path, method=method, json=body, headers=auth(self.key))


def test_an_endpoint_gets_a_secret_shown_once_then_only_as_a_hint(client, ctx):
    advertiser = Advertiser(client)
    assert advertiser.call("GET", "/api/v1/delivery-settings").get_json()["url"] is None

    created = advertiser.call("PUT", "/api/v1/delivery-settings", {"url": "https://crm.example.com/in"})
    assert created.status_code == 200, created.get_json()
    secret = created.get_json()["signing_secret"]
    assert secret.startswith("whsec_") and created.get_json()["secret_hint"] == "whsec_…" + secret[-4:]

    shown = advertiser.call("GET", "/api/v1/delivery-settings").get_json()
    assert shown["url"] == "https://crm.example.com/in" and "signing_secret" not in shown
    moved = advertiser.call("PUT", "/api/v1/delivery-settings", {"url": "https://crm.example.com/v2"})
    assert "signing_secret" not in moved.get_json()  # a new URL keeps the secret

    rotated = advertiser.call("POST", "/api/v1/delivery-settings/rotate-secret").get_json()
    assert rotated["signing_secret"].startswith("whsec_") and rotated["signing_secret"] != secret

    assert advertiser.call("DELETE", "/api/v1/delivery-settings").status_code == 204
    assert advertiser.call("GET", "/api/v1/delivery-settings").get_json()["url"] is None
    assert advertiser.call("POST", "/api/v1/delivery-settings/rotate-secret").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": ""},
        {"url": "ftp://crm.example.com/in"},
        {"url": "crm.example.com/in"},
        {"url": "https://crm.example.com/" + "a" * 2000},
        {"url": "https://crm.example.com/a b"},
        {"url": "https://{sub1}.example.com/"},
        {"url": 5},
    ],
)
def test_a_bad_url_is_a_422_naming_the_field(client, ctx, body):
    advertiser = Advertiser(client)
    for path in ("/api/v1/delivery-settings", f"/api/v1/offers/{advertiser.offer.id}/delivery-settings"):
        response = advertiser.call("PUT", path, body)
        assert response.status_code == 422, response.get_json()
        assert "url" in response.get_json()["error"]["fields"]
    assert advertiser.call("GET", "/api/v1/delivery-settings").get_json()["url"] is None


def test_another_advertisers_offer_is_not_found_and_others_are_forbidden(client, ctx):
    owner, stranger = Advertiser(client), Advertiser(client)
    owner.call("PUT", f"/api/v1/offers/{owner.offer.id}/delivery-settings", {"url": "https://a.example.com/"})
    path = f"/api/v1/offers/{owner.offer.id}/delivery-settings"
    for method, body in (("GET", None), ("PUT", {"url": "https://evil.example.com/"}), ("DELETE", None)):
        assert stranger.call(method, path, body).status_code == 404
    assert stranger.call("POST", path + "/rotate-secret").status_code == 404
    assert (
        stranger.call("POST", "/api/v1/delivery-settings/test", {"offer_id": owner.offer.id}).status_code
        == 404
    )
    assert stranger.call("GET", "/api/v1/offers/999999/delivery-settings").status_code == 404
    assert owner.call("GET", path).get_json()["url"] == "https://a.example.com/"

    webmaster_key = make_key(make_user("webmaster"))
    response = client.get("/api/v1/delivery-settings", headers=auth(webmaster_key))
    assert response.status_code == 403
    assert client.get("/api/v1/deliveries").status_code == 401


def test_an_offer_endpoint_wins_over_the_global_one(client, ctx):
    advertiser = Advertiser(client)
    other_offer = make_offer(advertiser.user, name="Second offer")
    fund(advertiser.user, 100_000)
    webmaster = make_user("webmaster")
    make_join(webmaster, advertiser.offer)
    make_join(webmaster, other_offer)
    webmaster_key = make_key(webmaster)
    with Endpoint([Answer()]) as global_end, Endpoint([Answer()]) as offer_end:
        advertiser.call("PUT", "/api/v1/delivery-settings", {"url": global_end.url})
        offer_secret = advertiser.call(
            "PUT", f"/api/v1/offers/{advertiser.offer.id}/delivery-settings", {"url": offer_end.url}
        ).get_json()["signing_secret"]
        for offer in (advertiser.offer, other_offer):
            body = {"offer_id": offer.id, "fields": lead_fields()}
            response = client.post("/api/v1/leads", json=body, headers=auth(webmaster_key))
            assert response.get_json()["status"] == "pending", response.get_json()
        to_offer, to_global = list(offer_end.received), list(global_end.received)
    assert [r.json()["lead"]["offer_id"] for r in to_offer] == [advertiser.offer.id]
    assert [r.json()["lead"]["offer_id"] for r in to_global] == [other_offer.id]
    (request,) = to_offer
    verify = verify_delivery_from_readme()
    assert verify(
        offer_secret,
        request.body,
        request.headers["X-Exchange-Timestamp"],
        request.headers["X-Exchange-Signature"],
    )
    assert db.session.scalar(select(func.count()).select_from(LeadDelivery)) == 2


def test_a_test_lead_is_queued_sent_signed_by_its_job_and_its_answer_read_back(client, ctx):
    advertiser = Advertiser(client)
    refused = advertiser.call("POST", "/api/v1/delivery-settings/test", {})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_delivery_url"
    with Endpoint([Answer.decision("approve")]) as endpoint:
        secret = advertiser.call("PUT", "/api/v1/delivery-settings", {"url": endpoint.url}).get_json()[
            "signing_secret"
        ]
        response = advertiser.call(
            "POST", "/api/v1/delivery-settings/test", {"offer_id": advertiser.offer.id}
        )
        (request,) = endpoint.received
    assert response.status_code == 202, response.get_json()
    queued = response.get_json()
    assert response.headers["Location"] == f"/api/v1/delivery-settings/tests/{queued['id']}"
    # Embedded mode: the job ran in-process after the commit, so the answer is already there.
    result = advertiser.call("GET", response.headers["Location"]).get_json()
    assert (result["id"], result["state"], result["offer_id"]) == (queued["id"], "sent", advertiser.offer.id)
    assert result["delivered"] is True and result["status_code"] == 200
    assert result["decision"] == "approve" and result["url"] == endpoint.url
    payload = request.json()
    assert payload["test"] is True and payload["event"] == "lead.test" and payload["lead"]["id"] == 0
    verify = verify_delivery_from_readme()
    assert verify(
        secret, request.body, request.headers["X-Exchange-Timestamp"], request.headers["X-Exchange-Signature"]
    )
    assert db.session.scalar(select(func.count()).select_from(LeadDelivery)) == 0


def test_a_test_lead_to_a_failing_endpoint_reports_the_failure(client, ctx):
    advertiser = Advertiser(client)
    with Endpoint([Answer(503, b"down")]) as endpoint:
        advertiser.call("PUT", "/api/v1/delivery-settings", {"url": endpoint.url})
        test_id = advertiser.call("POST", "/api/v1/delivery-settings/test", {}).get_json()["id"]
    result = advertiser.call("GET", f"/api/v1/delivery-settings/tests/{test_id}").get_json()
    assert (result["delivered"], result["status_code"], result["error"]) == (False, 503, "HTTP 503")
    assert result["response_excerpt"] == "down" and result["decision"] is None


def test_the_test_leads_are_listed_newest_first_and_only_to_their_owner(client, ctx):
    advertiser, stranger = Advertiser(client), Advertiser(client)
    with Endpoint([Answer(), Answer(500)]) as endpoint:
        advertiser.call("PUT", "/api/v1/delivery-settings", {"url": endpoint.url})
        first = advertiser.call("POST", "/api/v1/delivery-settings/test", {}).get_json()["id"]
        second = advertiser.call("POST", "/api/v1/delivery-settings/test", {}).get_json()["id"]

    listed = advertiser.call("GET", "/api/v1/delivery-settings/tests?per_page=1").get_json()
    assert (listed["total"], [item["id"] for item in listed["items"]]) == (2, [second])
    assert listed["items"][0]["status_code"] == 500
    assert stranger.call("GET", "/api/v1/delivery-settings/tests").get_json()["total"] == 0
    assert stranger.call("GET", f"/api/v1/delivery-settings/tests/{first}").status_code == 404
    bad_page = advertiser.call("GET", "/api/v1/delivery-settings/tests?page=0")
    assert bad_page.status_code == 422
