"""Partner moderation (issue 6): new webmasters wait for a moderator (or WEBMASTER_APPROVAL=auto
approves them), and a ban with a reason stops a webmaster's clicks and leads at once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from exchange.accounts.models import User
from exchange.accounts.services import create_user
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.jobs import validate_lead_job
from exchange.leads.models import Lead
from exchange.moderation.audit.models import ModerationAction
from exchange.tracking import links
from exchange.tracking.models import Click
from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user

TRAFFICBACK = "https://back.example.net/t?c={click_id}"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: leads stay received


@pytest.fixture
def config(app):
    """Set app.config keys for one test; the old values come back after it."""
    saved: dict = {}

    def set_(**values):
        for name, value in values.items():
            saved.setdefault(name, app.config[name])
            app.config[name] = value

    yield set_
    app.config.update(saved)


@pytest.fixture
def market(client, ctx):
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    moderator = make_user("moderator")
    return {
        "advertiser": advertiser,
        "offer": make_offer(advertiser, trafficback_url=TRAFFICBACK),
        "adv": make_key(advertiser),
        "moderator": moderator,
        "mod": make_key(moderator),
        "admin": make_key(make_user("admin")),
    }


def signed_up_webmaster(n: int = 1) -> tuple[User, str]:
    """A webmaster as sign-up makes it: its status decided by WEBMASTER_APPROVAL."""
    user = create_user(f"new-webmaster-{n}@example.test", f"New {n}", "webmaster", "long-enough-pw")
    commit()
    return user, make_key(user)


def act(client, key: str, user_id: int, action: str, body: dict | None = None):
    url = f"/api/v1/moderation/webmasters/{user_id}/{action}"
    return client.post(url, json=body or {}, headers=auth(key))


def join(client, key: str, offer):
    return client.post(f"/api/v1/offers/{offer.id}/join", headers=auth(key))


def send_lead(client, key: str, offer, fields: dict | None = None, idempotency_key: str | None = None):
    headers = auth(key) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    body = {"offer_id": offer.id, "fields": fields or lead_fields()}
    return client.post("/api/v1/leads", json=body, headers=headers)


def standing(response) -> tuple[str, str | None]:
    return response.get_json()["status"], response.get_json()["status_reason"]


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def audit_rows(user_id: int) -> list[ModerationAction]:
    query = select(ModerationAction).where(
        ModerationAction.subject_type == "user", ModerationAction.subject_id == user_id
    )
    return list(db.session.scalars(query.order_by(ModerationAction.id)))


def notifications(client, key: str) -> list[dict]:
    return client.get("/api/v1/notifications", headers=auth(key)).get_json()["items"]


def last_click() -> Click:
    return db.session.scalar(select(Click).order_by(Click.id.desc()).limit(1))


def test_a_new_webmaster_waits_for_a_moderator_then_joins_and_sends_leads(client, market, config):
    config(WEBMASTER_APPROVAL="moderator")
    webmaster, key = signed_up_webmaster()
    offer = market["offer"]

    me = client.get("/api/v1/me", headers=auth(key)).get_json()
    refused_join = join(client, key, offer)
    refused_lead = send_lead(client, key, offer)

    assert (me["id"], me["role"]) == (webmaster.id, "webmaster")
    assert (me["status"], me["status_reason"]) == ("pending", None)
    assert (refused_join.status_code, error_code(refused_join)) == (403, "account_pending")
    assert (refused_lead.status_code, error_code(refused_lead)) == (403, "account_pending")
    assert db.session.scalar(select(Lead.id)) is None

    queue = client.get("/api/v1/moderation/webmasters?status=pending", headers=auth(market["mod"])).get_json()
    assert [item["id"] for item in queue["items"]] == [webmaster.id] and queue["total"] == 1

    first = act(client, market["mod"], webmaster.id, "approve", {"reason": "Site checked"})
    second = act(client, market["mod"], webmaster.id, "approve", {"reason": "Again"})

    assert first.status_code == second.status_code == 200, first.get_json()
    assert first.get_json()["status"] == second.get_json()["status"] == "active"
    assert second.get_json()["status_reason"] == "Site checked"  # the second approval changed nothing
    (row,) = audit_rows(webmaster.id)
    assert (row.action, row.actor_user_id) == ("approve_webmaster", market["moderator"].id)
    assert row.reason == "Site checked"
    assert (row.data["from_status"], row.data["to_status"]) == ("pending", "active")
    assert [n["kind"] for n in notifications(client, key)] == ["account_approved"]
    joined = join(client, key, offer)
    assert joined.status_code == 200 and joined.get_json()["status"] == "active"
    sent = send_lead(client, key, offer)
    assert sent.status_code == 202 and sent.get_json()["status"] == "pending"
    assert client.get("/api/v1/moderation/webmasters", headers=auth(market["mod"])).get_json()["total"] == 0


def test_the_pending_queue_is_oldest_first_and_paginated(client, market, config, frozen_clock):
    config(WEBMASTER_APPROVAL="moderator")
    ids = []
    for n in range(3):
        ids.append(signed_up_webmaster(n)[0].id)
        frozen_clock.advance(minutes=1)
    make_user("webmaster")  # active: not in the queue

    first = client.get("/api/v1/moderation/webmasters?per_page=2", headers=auth(market["admin"])).get_json()
    second = client.get("/api/v1/moderation/webmasters?per_page=2&page=2", headers=auth(market["mod"]))
    bad = client.get("/api/v1/moderation/webmasters?status=asleep", headers=auth(market["mod"]))

    assert [item["id"] for item in first["items"]] == ids[:2] and first["total"] == 3
    assert [item["id"] for item in second.get_json()["items"]] == ids[2:]
    assert first["items"][0]["status"] == "pending"
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


def test_with_automatic_approval_a_new_webmaster_is_active_at_once(client, market, config):
    config(WEBMASTER_APPROVAL="auto")
    _, key = signed_up_webmaster()

    assert client.get("/api/v1/me", headers=auth(key)).get_json()["status"] == "active"
    assert join(client, key, market["offer"]).status_code == 200
    assert send_lead(client, key, market["offer"]).status_code == 202


def test_only_a_webmaster_waits_for_approval(ctx, config):
    config(WEBMASTER_APPROVAL="moderator")
    advertiser = create_user("adv-new@example.test", "", "advertiser", "long-enough-pw")

    assert advertiser.status == "active"


def test_flask_users_create_follows_the_setting_unless_told(app, ctx, config):
    config(WEBMASTER_APPROVAL="moderator")
    runner = app.test_cli_runner()
    base = ["users", "create", "--role", "webmaster", "--password", "long-enough-pw", "--email"]

    waiting = runner.invoke(args=[*base, "cli-1@example.test"])
    approved = runner.invoke(args=[*base, "cli-2@example.test", "--status", "active"])

    assert waiting.exit_code == 0 and "as webmaster (pending)" in waiting.output, waiting.output
    assert approved.exit_code == 0 and "as webmaster (active)" in approved.output, approved.output


def test_a_ban_stops_the_webmasters_clicks_and_leads_at_once(client, market, config, billing_check):
    config(LINK_CACHE_SECONDS=60.0)  # as in production: the link's target is cached in this process
    webmaster = make_user("webmaster")
    key = make_key(webmaster)
    offer = market["offer"]
    participation = make_join(webmaster, offer)
    try:
        landed = client.get(f"/c/{participation.token}")  # the target is cached now
        assert urlsplit(landed.headers["Location"]).netloc == "landing.example.com"
        fields = lead_fields()
        sent = send_lead(client, key, offer, fields, idempotency_key="order-1")
        assert sent.get_json()["status"] == "pending"

        banned = act(client, market["mod"], webmaster.id, "ban", {"reason": "Incentivised traffic"})

        assert banned.status_code == 200, banned.get_json()
        assert standing(banned) == ("banned", "Incentivised traffic")
        bounced = client.get(f"/c/{participation.token}")
        assert urlsplit(bounced.headers["Location"]).netloc == "back.example.net"
        assert last_click().trafficback_reason == "not_taking_traffic"
        refused = send_lead(client, key, offer)
        assert (refused.status_code, error_code(refused)) == (403, "account_banned")
        assert "Incentivised traffic" in refused.get_json()["error"]["message"]
        assert error_code(join(client, key, offer)) == "account_banned"
        retried = send_lead(client, key, offer, fields, idempotency_key="order-1")  # sent before the ban
        assert (retried.status_code, retried.get_json()["id"]) == (202, sent.get_json()["id"])
    finally:
        links.forget_webmaster(webmaster.id)
    me = client.get("/api/v1/me", headers=auth(key)).get_json()
    assert (me["status"], me["status_reason"]) == ("banned", "Incentivised traffic")
    assert db.session.scalar(select(Lead.status)) == "pending"  # already accepted: the advertiser reviews it


def test_a_banned_webmasters_link_without_trafficback_shows_the_plain_page(client, market):
    webmaster = make_user("webmaster")
    participation = make_join(webmaster, make_offer(market["advertiser"]))

    act(client, market["mod"], webmaster.id, "ban", {"reason": "Fraud"})
    response = client.get(f"/c/{participation.token}")

    assert response.status_code == 200 and "Location" not in response.headers
    assert response.mimetype == "text/plain"
    assert last_click().trafficback_reason == "not_taking_traffic"


def test_a_banned_webmasters_hosted_form_is_gone(client, market):
    webmaster = make_user("webmaster")
    participation = make_join(webmaster, market["offer"])
    assert client.get(f"/f/{participation.token}").status_code == 200

    act(client, market["mod"], webmaster.id, "ban", {"reason": "Fraud"})

    assert client.get(f"/f/{participation.token}").status_code == 404
    posted = client.post(f"/f/{participation.token}", data={**lead_fields(), "consent": "yes"})
    assert posted.status_code == 404
    assert db.session.scalar(select(Lead.id)) is None


def test_a_received_lead_of_a_webmaster_banned_before_validation_is_rejected(
    client, market, config, billing_check
):
    webmaster = make_user("webmaster")
    key = make_key(webmaster)
    make_join(webmaster, market["offer"])
    config(REDIS_URL=DEAD_REDIS)  # its validation job cannot be queued: the lead waits, received
    sent = send_lead(client, key, market["offer"])
    assert sent.get_json()["status"] == "received", sent.get_json()
    config(REDIS_URL=None)

    act(client, market["mod"], webmaster.id, "ban", {"reason": "Stolen contacts"})
    validate_lead_job(sent.get_json()["id"])

    lead = client.get(f"/api/v1/leads/{sent.get_json()['id']}", headers=auth(key)).get_json()
    assert (lead["status"], lead["reason_codes"]) == ("rejected", ["webmaster_banned"])


def test_a_ban_is_recorded_and_told_to_the_webmaster_and_an_unban_lets_it_send_again(client, market):
    webmaster = make_user("webmaster")
    key = make_key(webmaster)
    participation = make_join(webmaster, market["offer"])

    act(client, market["admin"], webmaster.id, "ban", {"reason": "Bot clicks"})
    act(client, market["mod"], webmaster.id, "ban", {"reason": "Bot clicks, again"})
    unbanned = act(client, market["mod"], webmaster.id, "unban", {"reason": "Appeal upheld"})

    assert standing(unbanned) == ("active", "Appeal upheld")
    rows = [(r.action, r.actor_user_id, r.actor_kind, r.reason) for r in audit_rows(webmaster.id)]
    admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    assert rows == [
        ("ban_webmaster", admin_id, "api_key", "Bot clicks"),  # the second ban changed nothing
        ("unban_webmaster", market["moderator"].id, "api_key", "Appeal upheld"),
    ]
    notes = notifications(client, key)  # newest first
    assert [n["kind"] for n in notes] == ["account_unbanned", "account_banned"]
    assert "Bot clicks" in notes[1]["message"] and notes[1]["data"]["reason"] == "Bot clicks"
    landed = client.get(f"/c/{participation.token}")
    assert urlsplit(landed.headers["Location"]).netloc == "landing.example.com"
    assert send_lead(client, key, market["offer"]).status_code == 202
    banned = client.get("/api/v1/moderation/webmasters?status=active", headers=auth(market["mod"])).get_json()
    assert webmaster.id in [item["id"] for item in banned["items"]]


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("ban", {}, "Missing data for required field."),
        ("ban", {"reason": ""}, "Length must be between 1 and 500."),
        ("ban", {"reason": "   "}, "Required: say why (1 to 500 characters)."),
        ("ban", {"reason": "x" * 501}, "Length must be between 1 and 500."),
        ("unban", {}, "Missing data for required field."),
        ("approve", {"reason": "x" * 501}, "Longer than maximum length 500."),
    ],
)
def test_a_reason_is_required_to_ban_and_unban(client, market, action, body, message):
    webmaster = make_user("webmaster")

    response = act(client, market["mod"], webmaster.id, action, body)

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["reason"] == [message]
    assert db.session.get(User, webmaster.id).status == "active"
    assert audit_rows(webmaster.id) == []


def test_only_moderators_and_admins_moderate_partners(client, market):
    webmaster = make_user("webmaster")
    callers = {"webmaster": make_key(webmaster), "advertiser": market["adv"]}

    for key in callers.values():
        assert client.get("/api/v1/moderation/webmasters", headers=auth(key)).status_code == 403
        for action in ("approve", "ban", "unban"):
            response = act(client, key, webmaster.id, action, {"reason": "Because"})
            assert (response.status_code, error_code(response)) == (403, "wrong_role")
    assert client.get("/api/v1/moderation/webmasters").status_code == 401
    assert db.session.get(User, webmaster.id).status == "active"
    assert audit_rows(webmaster.id) == []


def test_only_webmasters_are_approved_or_banned(client, market):
    advertiser = market["advertiser"]

    banned = act(client, market["mod"], advertiser.id, "ban", {"reason": "Bad offers"})
    missing = act(client, market["mod"], 999_999, "ban", {"reason": "Nobody"})

    assert (banned.status_code, error_code(banned)) == (409, "not_a_webmaster")
    assert missing.status_code == 404
    assert db.session.get(User, advertiser.id).status == "active"
    assert audit_rows(advertiser.id) == []


def test_moves_outside_the_table_are_refused(client, market, config):
    config(WEBMASTER_APPROVAL="moderator")
    pending, _ = signed_up_webmaster()
    banned = make_user("webmaster")
    act(client, market["mod"], banned.id, "ban", {"reason": "Fraud"})

    unban_pending = act(client, market["mod"], pending.id, "unban", {"reason": "Never banned"})
    approve_banned = act(client, market["mod"], banned.id, "approve", {})

    assert (unban_pending.status_code, error_code(unban_pending)) == (409, "illegal_status_change")
    assert (approve_banned.status_code, error_code(approve_banned)) == (409, "illegal_status_change")
    assert db.session.get(User, banned.id).status == "banned"


def test_a_pending_webmaster_can_be_refused_with_a_ban(client, market, config):
    config(WEBMASTER_APPROVAL="moderator")
    webmaster, key = signed_up_webmaster()

    act(client, market["mod"], webmaster.id, "ban", {"reason": "Fake company"})

    refused = join(client, key, market["offer"])
    assert (refused.status_code, error_code(refused)) == (403, "account_banned")
    assert refused.get_json()["error"]["message"] == "Your account is banned: Fake company"


def test_a_conversion_reported_for_a_banned_webmasters_click_is_rejected(client, market):
    webmaster = make_user("webmaster")
    actions = make_offer(
        market["advertiser"], model="cpa", fields=[], allowed_countries=[], rate_minor=800, payout_minor=600
    )
    click_id = make_click(make_join(webmaster, actions)).click_id  # clicked before the ban
    token = client.post("/api/v1/postback-token", headers=auth(market["adv"])).get_json()["token"]

    act(client, market["mod"], webmaster.id, "ban", {"reason": "Cookie stuffing"})
    reported = client.get("/postback", query_string={"token": token, "click_id": click_id, "txid": "t-1"})

    assert reported.status_code == 200, reported.get_data(as_text=True)
    lead = db.session.scalar(select(Lead).where(Lead.txid == "t-1"))
    assert (lead.status, lead.reason_codes) == ("rejected", ["webmaster_banned"])
