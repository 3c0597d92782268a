"""Visibility and participation: public, approval-required and private offers;
decisions with reasons; bans stop links and leads; custom payouts."""

from __future__ import annotations

import pytest

from tests.factories import auth, fund, lead_fields, make_key, make_offer, make_user


@pytest.fixture
def people(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    fund(advertiser, 100_000)
    return {
        "advertiser": advertiser,
        "webmaster": webmaster,
        "adv": make_key(advertiser),
        "wm": make_key(webmaster),
        "moderator": make_key(make_user("moderator")),
        "stranger": make_key(make_user("advertiser")),
    }


def join(client, people, offer):
    return client.post(f"/api/v1/offers/{offer.id}/join", headers=auth(people["wm"]))


def decide(client, key, participation_id, decision, reason=None):
    return client.post(
        f"/api/v1/participations/{participation_id}/{decision}", json={"reason": reason}, headers=auth(key)
    )


def lead_status(client, people, offer):
    response = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(people["wm"])
    )
    return response.status_code, (response.get_json().get("status") or response.get_json()["error"]["code"])


def lands(client, participation) -> bool:
    token = participation["tracking_link"].rsplit("/", 1)[1]
    return "landing.example.com" in client.get(f"/c/{token}").headers.get("Location", "")


def test_on_an_approval_offer_a_webmaster_applies_and_sends_nothing_until_approved(client, people):
    offer = make_offer(people["advertiser"], visibility="approval")

    applied = join(client, people, offer).get_json()

    assert applied["status"] == "pending"
    assert not lands(client, applied)
    assert lead_status(client, people, offer) == (422, "participation_inactive")
    listed = client.get(f"/api/v1/offers/{offer.id}/participations", headers=auth(people["adv"]))
    assert [p["status"] for p in listed.get_json()] == ["pending"]

    approved = decide(client, people["adv"], applied["id"], "approve")

    assert approved.get_json()["status"] == "active"
    assert lands(client, applied)
    assert lead_status(client, people, offer) == (202, "pending")


def test_declining_needs_a_reason_and_sticks_until_someone_approves(client, people):
    offer = make_offer(people["advertiser"], visibility="approval")
    applied = join(client, people, offer).get_json()

    no_reason = decide(client, people["adv"], applied["id"], "decline")
    declined = decide(client, people["adv"], applied["id"], "decline", "Traffic source not allowed")
    again = join(client, people, offer).get_json()
    moderator = decide(client, people["moderator"], applied["id"], "approve")

    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    assert (declined.get_json()["status"], declined.get_json()["decision_reason"]) == (
        "declined",
        "Traffic source not allowed",
    )
    assert again["status"] == "declined"  # joining again changes nothing
    assert moderator.get_json()["status"] == "active"


def test_a_banned_webmasters_links_and_leads_stop_at_once(client, people):
    offer = make_offer(people["advertiser"])
    joined = join(client, people, offer).get_json()
    assert joined["status"] == "active" and lands(client, joined)

    banned = decide(client, people["moderator"], joined["id"], "ban", "Fraudulent leads")

    assert banned.get_json()["status"] == "banned"
    assert not lands(client, joined)
    assert lead_status(client, people, offer) == (422, "participation_inactive")
    assert join(client, people, offer).get_json()["status"] == "banned"


def test_a_private_offer_is_invisible_until_an_invitation(client, people):
    offer = make_offer(people["advertiser"], visibility="private")
    catalog = client.get("/api/v1/offers", headers=auth(people["wm"])).get_json()

    assert offer.id not in [item["id"] for item in catalog]
    assert join(client, people, offer).status_code == 404

    invited = client.post(
        f"/api/v1/offers/{offer.id}/invite",
        json={"webmaster_id": people["webmaster"].id},
        headers=auth(people["adv"]),
    )
    assert invited.get_json()["status"] == "invited"
    catalog = client.get("/api/v1/offers", headers=auth(people["wm"])).get_json()
    assert offer.id in [item["id"] for item in catalog]
    assert join(client, people, offer).get_json()["status"] == "active"


def test_inviting_an_unknown_webmaster_is_not_found(client, people):
    offer = make_offer(people["advertiser"], visibility="private")

    for webmaster_id in (people["advertiser"].id, people["webmaster"].id + 10_000):
        invited = client.post(
            f"/api/v1/offers/{offer.id}/invite",
            json={"webmaster_id": webmaster_id},
            headers=auth(people["adv"]),
        )
        assert invited.status_code == 404, invited.get_json()
        assert invited.get_json()["error"]["fields"] == {"webmaster_id": ["Unknown webmaster."]}


def test_another_advertiser_and_webmasters_cannot_decide(client, people):
    offer = make_offer(people["advertiser"], visibility="approval")
    applied = join(client, people, offer).get_json()

    assert decide(client, people["stranger"], applied["id"], "approve").status_code == 404
    assert (
        client.get(f"/api/v1/offers/{offer.id}/participations", headers=auth(people["stranger"])).status_code
        == 404
    )
    assert decide(client, people["wm"], applied["id"], "approve").status_code == 403
    assert decide(client, people["adv"], applied["id"], "ban", "x").get_json()["status"] == "banned"
    assert (
        decide(client, people["adv"], applied["id"], "decline", "x").status_code == 409
    )  # banned: no decline


def test_a_custom_payout_prices_the_webmasters_leads_and_never_exceeds_the_rate(client, people):
    offer = make_offer(people["advertiser"], rate_minor=1500, payout_minor=1000)
    joined = join(client, people, offer).get_json()

    def set_payout(value):
        return client.patch(
            f"/api/v1/participations/{joined['id']}",
            json={"custom_payout_minor": value},
            headers=auth(people["adv"]),
        )

    assert set_payout(1501).status_code == 422
    assert set_payout(1200).get_json()["custom_payout_minor"] == 1200
    first = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(people["wm"])
    ).get_json()
    assert set_payout(None).get_json()["custom_payout_minor"] is None
    second = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(people["wm"])
    ).get_json()

    assert (first["payout_minor"], second["payout_minor"]) == (1200, 1000)


def test_a_webmaster_declares_its_traffic_sources_and_only_allowed_ones_are_taken(client, people):
    offer = make_offer(people["advertiser"], traffic_sources=["search", "email"])

    def join_with(sources):
        return client.post(
            f"/api/v1/offers/{offer.id}/join", json={"traffic_sources": sources}, headers=auth(people["wm"])
        )

    refused = join_with(["search", "push"])
    unknown = join_with(["carrier-pigeon"])
    joined = join_with(["email", "search"])
    listed = client.get(f"/api/v1/offers/{offer.id}/participations", headers=auth(people["adv"])).get_json()

    assert refused.status_code == 422
    assert "push" in refused.get_json()["error"]["fields"]["traffic_sources"][0]
    assert unknown.status_code == 422
    assert joined.status_code == 200, joined.get_json()
    assert [p["traffic_sources"] for p in listed] == [["email", "search"]]


def test_an_offer_open_to_any_source_takes_any_declared_one_and_joining_without_a_body_still_works(
    client, people
):
    offer = make_offer(people["advertiser"])
    declared = client.post(
        f"/api/v1/offers/{offer.id}/join", json={"traffic_sources": ["push"]}, headers=auth(people["wm"])
    )
    again = client.post(f"/api/v1/offers/{offer.id}/join", headers=auth(people["wm"]))

    assert declared.get_json()["traffic_sources"] == ["push"]
    assert again.status_code == 200 and again.get_json()["traffic_sources"] == ["push"]


def test_a_moderators_participation_decisions_are_audited_and_the_advertisers_are_not(client, people):
    from sqlalchemy import select

    from exchange.extensions import db
    from exchange.moderation.audit.models import ModerationAction

    offer = make_offer(people["advertiser"], visibility="approval")
    applied = join(client, people, offer).get_json()
    decide(client, people["adv"], applied["id"], "decline", "Traffic source not allowed")

    decide(client, people["moderator"], applied["id"], "approve", "Sources checked")

    (entry,) = db.session.scalars(select(ModerationAction)).all()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "approve_participation",
        "participation",
        applied["id"],
        "Sources checked",
    )
    assert entry.data == {"offer_id": offer.id}
