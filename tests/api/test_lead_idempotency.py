"""Idempotency-Key on POST /api/v1/leads (DESIGN §6): a retried request is answered
with the lead it created the first time; a key reused for another body is a conflict."""

from __future__ import annotations

from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.models import Lead, LeadEvent
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user


def leads_of(webmaster_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).where(Lead.webmaster_id == webmaster_id))


def submit(client, key: str, body: dict, idempotency_key: str | None = None):
    headers = auth(key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post("/api/v1/leads", json=body, headers=headers)


def setup_offer(ctx):
    advertiser = make_user("advertiser")
    offer = make_offer(advertiser)
    fund(advertiser, 100_000)
    return offer


def joined_webmaster(offer):
    webmaster = make_user("webmaster")
    make_join(webmaster, offer)
    return webmaster, make_key(webmaster)


def test_same_key_and_body_replays_the_first_lead(client, ctx):
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)
    body = {"offer_id": offer.id, "sub1": "retry", "fields": lead_fields()}

    first = submit(client, key, body, "order-7781")
    second = submit(client, key, body, "order-7781")

    assert first.status_code == 202, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.status_code == 202, second.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["status"] == first.get_json()["status"] == "pending"
    assert leads_of(webmaster.id) == 1
    events = db.session.scalar(
        select(func.count())
        .select_from(LeadEvent)
        .where(LeadEvent.lead_id == first.get_json()["id"], LeadEvent.action == "submit")
    )
    assert events == 1


def test_without_a_key_the_same_body_makes_two_leads(client, ctx):
    """Control: it is the key, not the body, that makes a retry a replay."""
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)
    body = {"offer_id": offer.id, "fields": lead_fields()}

    first, second = submit(client, key, body), submit(client, key, body)

    assert first.status_code == second.status_code == 202
    assert first.get_json()["id"] != second.get_json()["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert leads_of(webmaster.id) == 2


def test_same_key_with_another_body_is_a_conflict(client, ctx):
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)
    original = {"offer_id": offer.id, "fields": lead_fields()}
    first = submit(client, key, original, "order-1")
    assert first.status_code == 202, first.get_json()

    other = submit(client, key, {"offer_id": offer.id, "fields": lead_fields()}, "order-1")

    assert other.status_code == 409, other.get_json()
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers
    assert leads_of(webmaster.id) == 1
    # the original request can still be replayed after the conflict
    again = submit(client, key, original, "order-1")
    assert again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_idempotency_keys_belong_to_one_webmaster(client, ctx):
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)
    other, other_key = joined_webmaster(offer)

    mine = submit(client, key, {"offer_id": offer.id, "fields": lead_fields()}, "shared-key")
    theirs = submit(client, other_key, {"offer_id": offer.id, "fields": lead_fields()}, "shared-key")

    assert mine.status_code == 202, mine.get_json()
    assert theirs.status_code == 202, theirs.get_json()
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    assert leads_of(webmaster.id) == 1
    assert leads_of(other.id) == 1
    assert db.session.get(Lead, theirs.get_json()["id"]).webmaster_id == other.id


def test_the_same_key_and_body_from_another_webmaster_is_not_a_replay(client, ctx):
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)
    other, other_key = joined_webmaster(offer)
    body = {"offer_id": offer.id, "fields": lead_fields()}

    mine = submit(client, key, body, "same-everything")
    theirs = submit(client, other_key, body, "same-everything")

    assert theirs.status_code == 202, theirs.get_json()
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    assert leads_of(other.id) == 1


def test_an_idempotency_key_longer_than_255_characters_is_refused(client, ctx):
    offer = setup_offer(ctx)
    webmaster, key = joined_webmaster(offer)

    response = submit(client, key, {"offer_id": offer.id, "fields": lead_fields()}, "k" * 256)

    assert response.status_code == 422, response.get_json()
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert leads_of(webmaster.id) == 0
    assert submit(client, key, {"offer_id": offer.id, "fields": lead_fields()}, "k" * 255).status_code == 202
