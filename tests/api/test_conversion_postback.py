"""The inbound conversion postback: advertisers report cpa actions and cps sales by
click id and transaction id; a repeated txid creates nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Participation
from exchange.tracking.clickids import verify
from exchange.tracking.models import PostbackToken
from exchange.tracking.services import click_key
from tests.factories import auth, balance, fund, make_click, make_join, make_key, make_offer, make_user


@pytest.fixture
def shop(client, ctx):
    """A cps offer paying 10 % of each sale (7 % to the webmaster), a cpa offer, a click on each."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    fund(advertiser, 1_000_000)
    sales = make_offer(
        advertiser, model="cps", fields=[], allowed_countries=[], rate_minor=None, payout_minor=None,
        rate_bps=1000, payout_bps=700, review_window_seconds=86400,
    )  # fmt: skip
    actions = make_offer(
        advertiser, model="cpa", fields=[], allowed_countries=[], rate_minor=800, payout_minor=600
    )
    adv_key = make_key(advertiser)
    token = client.post("/api/v1/postback-token", headers=auth(adv_key)).get_json()["token"]
    return {
        "advertiser": advertiser,
        "adv": adv_key,
        "wm": make_key(webmaster),
        "token": token,
        "sale_click": make_click(make_join(webmaster, sales), sub1="spring").click_id,
        "action_click": make_click(make_join(webmaster, actions)).click_id,
    }


def postback(client, shop, **params):
    params = {"token": shop["token"], **params}
    return client.get("/postback", query_string=params)


def leads_with_txid(txid):
    return db.session.scalar(select(func.count()).select_from(Lead).where(Lead.txid == txid))


def test_a_new_token_is_shown_once_with_a_postback_url_and_stored_hashed(client, shop):
    response = client.post("/api/v1/postback-token", headers=auth(shop["adv"]))
    body = response.get_json()

    assert response.status_code == 201
    assert body["token"].startswith("pb_")
    assert "/postback?token=" in body["postback_url"] and "{click_id}" in body["postback_url"]
    stored = db.session.scalar(select(PostbackToken.token_hash))
    assert body["token"] not in stored
    assert client.get("/api/v1/postback-settings", headers=auth(shop["adv"])).get_json()["has_token"] is True
    assert postback(client, shop, click_id=shop["action_click"], txid="t1").status_code == 403  # the old one
    assert (
        postback(client, {"token": body["token"]}, click_id=shop["action_click"], txid="t1").status_code
        == 200
    )


@pytest.mark.parametrize("token", ["", "pb_wrong", None])
def test_a_wrong_or_missing_token_is_refused_and_creates_nothing(client, shop, token):
    params = {"click_id": shop["action_click"], "txid": "t-403"}
    if token is not None:
        params["token"] = token
    response = client.get("/postback", query_string=params)

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_postback_token"
    assert leads_with_txid("t-403") == 0


def test_the_token_in_a_header_keeps_it_out_of_the_url_and_wins_over_the_parameter(client, shop):
    params = {"click_id": shop["action_click"], "txid": "t-header"}
    wrong = {"X-Postback-Token": "pb_wrong"}

    assert (
        client.get("/postback", query_string={**params, "token": shop["token"]}, headers=wrong).status_code
        == 403
    )
    response = client.post("/postback", data=params, headers={"X-Postback-Token": shop["token"]})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["txid"] == "t-header"
    assert leads_with_txid("t-header") == 1


def test_a_cpa_action_reported_approved_is_validated_approved_and_charged(client, shop):
    response = postback(client, shop, click_id=shop["action_click"], txid="order-1")
    body = response.get_json()

    assert response.status_code == 200, body
    assert body["status"] == "approved"
    lead = db.session.get(Lead, body["lead_id"])
    assert (lead.txid, lead.rate_minor, lead.payout_minor) == ("order-1", 800, 600)
    assert balance(client, shop["wm"], "hold")["posted_minor"] == 600


def test_a_repeated_txid_answers_the_same_conversion_and_creates_nothing(client, shop):
    first = postback(client, shop, click_id=shop["action_click"], txid="order-2")
    again = postback(client, shop, click_id=shop["action_click"], txid="order-2")

    assert again.status_code == 200
    assert again.get_json()["lead_id"] == first.get_json()["lead_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert leads_with_txid("order-2") == 1
    assert balance(client, shop["wm"], "hold")["posted_minor"] == 600  # charged once


def test_a_percentage_sale_is_priced_by_the_documented_rounding(client, shop):
    body = postback(
        client, shop, click_id=shop["sale_click"], txid="sale-1", amount="199.99", currency="USD"
    ).get_json()

    lead = db.session.get(Lead, body["lead_id"])
    # 10 % of 19,999 is 1,999.9: the rate rounds half up to 2,000;
    # 7 % is 1,399.93: the payout rounds down to 1,399.
    assert (lead.sale_amount_minor, lead.rate_minor, lead.payout_minor) == (19_999, 2_000, 1_399)
    assert lead.sub1 == "spring"  # from the click


def test_a_sale_too_small_to_pay_the_webmaster_is_rejected_with_its_reason(client, shop):
    body = postback(client, shop, click_id=shop["sale_click"], txid="sale-tiny", amount="0.01").get_json()

    assert body["status"] == "rejected"
    assert db.session.get(Lead, body["lead_id"]).reason_codes == ["amount_too_small"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "amount"),  # a sale needs its amount
        ({"amount": "19.999"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "12", "currency": "EUR"}, "currency"),
        ({"amount": "12", "status": "paid"}, "status"),
        ({"amount": "12", "txid": ""}, "txid"),
        ({"amount": "12", "click_id": "forged.id"}, "click_id"),
    ],
)
def test_a_postback_with_bad_parameters_gets_field_messages_and_creates_nothing(client, shop, params, field):
    params = {"click_id": shop["sale_click"], "txid": "bad-1", **params}
    response = postback(client, shop, **params)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_a_click_on_another_advertisers_offer_is_not_found(client, shop):
    stranger = make_user("advertiser")
    token = client.post("/api/v1/postback-token", headers=auth(make_key(stranger))).get_json()["token"]

    response = postback(client, {"token": token}, click_id=shop["action_click"], txid="steal-1")

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "click_not_found"


def test_a_cpl_offer_takes_no_conversions(client, shop):
    offer = make_offer(shop["advertiser"])
    click = make_click(make_join(make_user("webmaster"), offer)).click_id

    response = postback(client, shop, click_id=click, txid="cpl-1")

    assert response.get_json()["error"]["code"] == "offer_takes_no_conversions"


def test_a_pending_conversion_is_later_approved_or_rejected_by_the_same_txid(client, shop):
    sent = {"click_id": shop["sale_click"], "amount": "100"}
    kept = postback(client, shop, txid="s-keep", status="pending", **sent).get_json()
    dropped = postback(client, shop, txid="s-drop", status="pending", **sent).get_json()
    assert (kept["status"], dropped["status"]) == ("pending", "pending")

    approved = postback(client, shop, txid="s-keep", status="approved", **sent).get_json()
    rejected = postback(client, shop, txid="s-drop", status="rejected", **sent).get_json()
    back_to_pending = postback(client, shop, txid="s-keep", status="pending", **sent)

    assert approved == {**kept, "status": "approved"}
    assert rejected["status"] == "rejected"
    assert db.session.get(Lead, dropped["lead_id"]).reason_codes == ["advertiser_rejected"]
    assert back_to_pending.status_code == 409
    assert back_to_pending.get_json()["error"]["code"] == "illegal_status_change"


def test_a_conversion_reported_rejected_is_recorded_rejected(client, shop):
    body = postback(client, shop, click_id=shop["action_click"], txid="r-1", status="rejected").get_json()

    assert body["status"] == "rejected"
    assert db.session.get(Lead, body["lead_id"]).reason_codes == ["advertiser_rejected"]


def test_the_ip_allowlist_admits_only_its_addresses(client, shop):
    settings = client.put(
        "/api/v1/postback-settings", json={"ip_allowlist": ["203.0.113.0/24"]}, headers=auth(shop["adv"])
    )
    assert settings.get_json()["ip_allowlist"] == ["203.0.113.0/24"]
    params = {"token": shop["token"], "click_id": shop["action_click"], "txid": "ip-1"}

    outside = client.get("/postback", query_string=params, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    inside = client.post("/postback", data=params, environ_base={"REMOTE_ADDR": "203.0.113.40"})

    assert outside.status_code == 403
    assert outside.get_json()["error"]["code"] == "ip_not_allowed"
    assert inside.status_code == 200, inside.get_json()


def test_an_allowlist_entry_that_is_no_address_is_refused(client, shop):
    response = client.put(
        "/api/v1/postback-settings",
        json={"ip_allowlist": ["10.0.0.0/8", "not-an-ip"]},
        headers=auth(shop["adv"]),
    )
    assert response.status_code == 422
    assert "not-an-ip" in response.get_json()["error"]["fields"]["ip_allowlist"][0]


def test_the_webmaster_sees_its_conversion_with_the_txid_and_payout_never_the_rate(client, shop):
    body = postback(client, shop, click_id=shop["action_click"], txid="seen-1").get_json()

    seen = client.get(f"/api/v1/leads/{body['lead_id']}", headers=auth(shop["wm"])).get_json()

    assert (seen["txid"], seen["payout_minor"]) == ("seen-1", 600)
    assert "rate_minor" not in seen and "pricing" not in seen


def test_a_conversion_from_a_banned_webmasters_click_is_refused(client, shop):
    claims = verify(click_key(), shop["action_click"])
    banned = client.post(
        f"/api/v1/participations/{claims.participation_id}/ban",
        json={"reason": "fraud"},
        headers=auth(shop["adv"]),
    )
    assert banned.status_code == 200

    response = postback(client, shop, click_id=shop["action_click"], txid="after-ban")

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "participation_inactive"
    assert db.session.get(Participation, claims.participation_id).status == "banned"
    assert leads_with_txid("after-ban") == 0
