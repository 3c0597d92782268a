"""Limits on abuse: failed sign-ins per account and per address in growing windows ending
in a temporary lock, API calls per key, leads per webmaster, postbacks per token, hosted
forms and clicks per address. Each limited request is a 429 with ``Retry-After`` (and the
JSON error on the API); the limits come from config.

The limits here are made small through the app's config (they are read per request);
the defaults stay on for the rest of the suite, whose journeys must never meet them."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from exchange.config import BaseConfig, ConfigError, TestingConfig, load_config
from exchange.tracking.click_limit import ClickLimit
from exchange.tracking.models import Click
from tests.api.test_web_portal import PASSWORD, request
from tests.factories import (
    auth,
    fund,
    lead_fields,
    make_join,
    make_key,
    make_offer,
    make_user,
)


@pytest.fixture
def limits(app, monkeypatch):
    """Set limits for this test (its counts start at zero: tests/conftest.py).

    The counters are sliding-window counters (exchange/extensions.py): across the edge of a
    window they weigh the last window's hits down, so near that edge one more attempt may
    pass (docs/security.md). The tests count exactly, so each starts far from the edge of
    a minute (CI of 2026-12-06 let a sixth sign-in through when the five failures
    straddled one)."""
    start_far_from_a_minute_edge(needed=10)

    def set_limits(**windows: str) -> None:
        for name, value in windows.items():
            monkeypatch.setitem(app.config, name, value)

    return set_limits


def start_far_from_a_minute_edge(needed: float) -> None:
    """Wait, if need be, until the current minute has ``needed`` seconds left."""
    seconds_into_minute = time.time() % 60
    if seconds_into_minute > 60 - needed:
        time.sleep(60.5 - seconds_into_minute)


def login(app, client, email: str, password: str = PASSWORD):
    """Signing in as a browser does (it accepts HTML)."""
    form = {"email": email, "password": password}
    return request(app, client, "POST", "/login", data=form, headers={"Accept": "text/html"})


def retry_after(response) -> int:
    seconds = int(response.headers["Retry-After"])
    assert seconds > 0
    return seconds


# -- sign-in ---------------------------------------------------------------------------


def test_failed_sign_ins_lock_the_account_even_against_the_right_password(app, client, ctx, limits):
    limits(LIMIT_SIGN_IN_PER_ACCOUNT="5 per minute;10 per 15 minutes")
    user = make_user("advertiser")

    wrong = [login(app, client, user.email, "not the password").status_code for _ in range(5)]
    locked = login(app, client, user.email, PASSWORD)

    assert wrong == [401] * 5
    assert locked.status_code == 429
    assert retry_after(locked) <= 60
    assert "Too many failed sign-ins. Try again in 1 minute." in locked.get_data(as_text=True)
    assert request(app, client, "GET", "/advertiser/").status_code == 302  # not signed in


def test_the_lock_is_per_account_another_account_signs_in(app, client, ctx, limits):
    limits(LIMIT_SIGN_IN_PER_ACCOUNT="2 per minute")
    attacked, other = make_user("advertiser"), make_user("advertiser")
    for _ in range(2):
        login(app, client, attacked.email, "not the password")

    assert login(app, client, attacked.email, PASSWORD).status_code == 429
    assert login(app, client, other.email, PASSWORD).status_code == 302


def test_only_failures_count_a_user_who_signs_in_often_is_never_locked(app, client, ctx, limits):
    limits(LIMIT_SIGN_IN_PER_ACCOUNT="2 per minute", LIMIT_SIGN_IN_PER_ADDRESS="2 per minute")
    user = make_user("webmaster")

    answers = [login(app, app.test_client(), user.email).status_code for _ in range(6)]

    assert answers == [302] * 6


def test_the_delay_grows_with_the_failures_until_the_account_is_locked(app, client, ctx, limits):
    """Two windows: at first the attacker waits a second; later failures, waited for,
    fill the long window, which locks the account for the hour, against the right password too.
    (Counts are sliding-window approximations: a failure more may pass at a window's edge.)"""
    limits(LIMIT_SIGN_IN_PER_ACCOUNT="2 per 1 second;4 per 1 hour")
    user = make_user("advertiser")
    waits = []
    for _ in range(12):
        answer = login(app, client, user.email, "wrong")
        if answer.status_code == 429:
            waits.append(retry_after(answer))
            if waits[-1] > 60:
                break
            time.sleep(waits[-1] + 1.1)  # the one-second window (a sliding one) forgets them

    assert waits[0] <= 1 and waits[-1] > 60
    locked = login(app, client, user.email, PASSWORD)
    assert locked.status_code == 429 and retry_after(locked) > 60


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(app, client, ctx, limits):
    limits(LIMIT_SIGN_IN_PER_ADDRESS="3 per minute")
    users = [make_user("advertiser") for _ in range(4)]
    here = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    elsewhere = {"environ_base": {"REMOTE_ADDR": "198.51.100.9"}}

    tries = [client.post("/login", data={"email": u.email, "password": "wrong"}, **here) for u in users]
    from_elsewhere = client.post("/login", data={"email": users[3].email, "password": PASSWORD}, **elsewhere)

    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    assert from_elsewhere.status_code == 302


# -- the API ---------------------------------------------------------------------------


def test_api_calls_are_limited_per_key_with_the_json_error(client, ctx, limits):
    limits(LIMIT_API_PER_KEY="3 per minute")
    advertiser = make_user("advertiser")
    busy, other = make_key(advertiser), make_key(advertiser)

    answers = [client.get("/api/v1/offers", headers=auth(busy)) for _ in range(4)]
    limited = answers[-1]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert retry_after(limited) <= 60
    error = limited.get_json()["error"]
    assert error["code"] == "too_many_requests"
    assert "API requests per API key" in error["message"] and "3 per minute" in error["message"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert client.get("/api/v1/offers", headers=auth(other)).status_code == 200


def test_the_document_declares_the_429_and_its_retry_after_on_every_operation(client):
    document = client.get("/api/openapi.json").get_json()
    limited = document["components"]["responses"]["LIMITED"]

    assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert limited["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    operations = [op for path in document["paths"].values() for op in path.values() if "responses" in op]
    assert operations
    assert all(op["responses"]["429"] == {"$ref": "#/components/responses/LIMITED"} for op in operations)


def test_every_api_blueprint_counts_against_the_same_key(client, ctx, limits):
    limits(LIMIT_API_PER_KEY="2 per minute")
    key = make_key(make_user("webmaster"))

    client.get("/api/v1/offers", headers=auth(key))
    client.get("/api/v1/balance", headers=auth(key))

    assert client.get("/api/v1/participations", headers=auth(key)).status_code == 429


@pytest.fixture
def seller(ctx):
    advertiser = make_user("advertiser")
    fund(advertiser, 1_000_000)
    offer = make_offer(advertiser)
    webmaster = make_user("webmaster")
    make_join(webmaster, offer)
    return {"offer": offer, "webmaster": webmaster, "keys": (make_key(webmaster), make_key(webmaster))}


def test_leads_are_limited_per_webmaster_across_its_keys(client, seller, limits):
    limits(LIMIT_LEAD_INTAKE_PER_WEBMASTER="2 per minute")
    first_key, second_key = seller["keys"]

    def submit(key, n):
        return client.post(
            "/api/v1/leads",
            json={"offer_id": seller["offer"].id, "fields": lead_fields(n)},
            headers=auth(key),
        )

    answers = [submit(first_key, 1), submit(second_key, 2), submit(first_key, 3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert "leads, pings and posts submitted per webmaster" in answers[2].get_json()["error"]["message"]
    assert client.get("/api/v1/leads", headers=auth(first_key)).status_code == 200  # reading is not intake
    other = make_key(make_user("webmaster"))
    assert (
        client.post("/api/v1/leads", json={"offer_id": seller["offer"].id}, headers=auth(other)).status_code
        != 429
    )


def test_pings_count_as_intake_too(client, seller, limits):
    limits(LIMIT_LEAD_INTAKE_PER_WEBMASTER="1 per minute")
    key = seller["keys"][0]
    client.post(
        "/api/v1/leads", json={"offer_id": seller["offer"].id, "fields": lead_fields(1)}, headers=auth(key)
    )

    ping = client.post("/api/v1/pings", json={"vertical_id": 1, "fields": {}}, headers=auth(key))

    assert ping.status_code == 429


# -- postbacks, forms, clicks ------------------------------------------------------------


def test_postbacks_are_limited_per_token_header_or_query(client, ctx, limits):
    limits(LIMIT_POSTBACKS_PER_TOKEN="2 per minute")
    tokens = []
    for _ in range(2):
        key = make_key(make_user("advertiser"))
        tokens.append(client.post("/api/v1/postback-token", headers=auth(key)).get_json()["token"])
    busy, quiet = tokens

    answers = [
        client.get("/postback", query_string={"token": busy, "click_id": "x"}),
        client.get("/postback", query_string={"click_id": "x"}, headers={"X-Postback-Token": busy}),
        client.get("/postback", query_string={"token": busy, "click_id": "x"}),
    ]

    assert [a.status_code for a in answers[:2]] != [429, 429]
    assert answers[2].status_code == 429 and retry_after(answers[2]) <= 60
    assert answers[2].get_json()["error"]["code"] == "too_many_requests"
    assert client.get("/postback", query_string={"token": quiet, "click_id": "x"}).status_code != 429


def test_the_hosted_form_is_limited_per_address_on_submission_only(client, ctx, limits):
    limits(LIMIT_HOSTED_FORM_PER_ADDRESS="2 per minute")
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    link = make_join(make_user("webmaster"), make_offer(advertiser))
    visitor = {"environ_base": {"REMOTE_ADDR": "203.0.113.20"}}

    posts = [client.post(f"/f/{link.token}", data={"name": "A"}, **visitor) for _ in range(3)]

    assert [p.status_code for p in posts[:2]] == [422, 422]  # answered (the form's own errors)
    assert posts[2].status_code == 429 and retry_after(posts[2]) <= 60
    assert client.get(f"/f/{link.token}", **visitor).status_code == 200  # the form still shows
    neighbour = client.post(
        f"/f/{link.token}", data={"name": "A"}, environ_base={"REMOTE_ADDR": "203.0.113.21"}
    )
    assert neighbour.status_code == 422


def test_clicks_over_the_limit_are_a_429_and_are_not_recorded(app, client, ctx, monkeypatch):
    monkeypatch.setattr(app.wsgi_app, "limit", ClickLimit("3 per minute"))
    start_far_from_a_minute_edge(needed=10)  # fixed windows: a new minute would count afresh
    link = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))
    visitor = {"environ_base": {"REMOTE_ADDR": "203.0.113.30"}}

    def recorded() -> int:
        return ctx.scalar(select(func.count()).select_from(Click).where(Click.participation_id == link.id))

    answers = [client.get(f"/c/{link.token}", **visitor) for _ in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert retry_after(answers[3]) <= 60
    assert answers[3].headers["X-Content-Type-Options"] == "nosniff"
    assert recorded() == 3
    other = client.get(f"/c/{link.token}", environ_base={"REMOTE_ADDR": "203.0.113.31"})
    assert other.status_code == 302 and recorded() == 4


def test_the_click_limit_counts_per_address_in_fixed_windows():
    limit = ClickLimit("2 per minute;3 per hour")
    start = 3600 * 1000.0  # the start of a minute and of an hour

    assert [limit.retry_after("a", start + s) for s in (0, 1)] == [None, None]
    assert limit.retry_after("a", start + 10) == 50  # the minute ends in 50 s
    assert limit.retry_after("b", start + 10) is None
    assert limit.retry_after("a", start + 60) == 3600 - 60  # a new minute, but the hour is full


# -- configuration -----------------------------------------------------------------------


def test_limits_come_from_the_environment_and_a_malformed_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LIMIT_API_PER_KEY", "7 per second")
    assert load_config(str(tmp_path))["LIMIT_API_PER_KEY"] == "7 per second"

    monkeypatch.setenv("LIMIT_API_PER_KEY", "lots")
    with pytest.raises(ConfigError, match="LIMIT_API_PER_KEY"):
        load_config(str(tmp_path))


def test_counts_live_in_redis_when_there_is_redis_and_in_memory_otherwise(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    monkeypatch.delenv("REDIS_URL")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


def test_the_tests_run_with_the_limits_users_get():
    """The rest of the suite (every journey, the browser's included) meets the real limits."""
    names = [name for name in dir(BaseConfig) if name.startswith("LIMIT_")]
    assert len(names) == 9
    assert all(getattr(TestingConfig, name) == getattr(BaseConfig, name) for name in names)
    assert TestingConfig.RATELIMIT_ENABLED
