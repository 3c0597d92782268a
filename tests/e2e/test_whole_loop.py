"""The whole loop over real HTTP: CLI users and keys, offer, join, click,
lead, validation (in-process in the fast suite, a real ``rq worker``
process in the services suite), approval, hold release under a controlled
clock, payout request and settlement, ``flask billing check`` at the end."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from exchange import clock
from exchange.periodic import sweep
from tests.conftest import BACKEND
from tests.factories import CONTACT_FIELDS
from tests.http_harness import LiveServer, call, flask_cli, path_of, process_env, run_worker_burst
from tests.services_config import TEST_REDIS_URL

RATE, PAYOUT, HOLD_DAYS = 1500, 1000, 14


@pytest.fixture
def loop_env(live_database_url, live_app_factory, tmp_path):
    redis_url = None
    if BACKEND == "services":
        import redis

        redis_url = TEST_REDIS_URL
        redis.Redis.from_url(redis_url).flushdb()
    app = live_app_factory(REDIS_URL=redis_url, JOBS_RAISE_ERRORS=True)
    env = process_env(live_database_url, str(tmp_path / "cli-instance"), redis_url)
    clock.freeze(clock.now())
    yield app, env
    clock.freeze(None)


def cli_ok(env, *args):
    result = flask_cli(env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def balance(port, key, purpose, currency="USD"):
    reply = call(port, "GET", "/api/v1/balance", key)
    assert reply.status == 200, reply.body
    rows = [row for row in reply.body if row["purpose"] == purpose and row["currency"] == currency]
    return rows[0] if rows else None


def test_click_to_payout_over_http(loop_env):
    app, env = loop_env
    for role in ("advertiser", "webmaster", "admin"):
        account = ["--email", f"{role}@e2e.test", "--role", role, "--password", "pass-word-one-1"]
        cli_ok(env, "users", "create", *account, "--status", "active")  # the webmaster approved already
    advertiser_key = (
        cli_ok(env, "users", "create-key", "--email", "advertiser@e2e.test").strip().splitlines()[-1]
    )
    webmaster_key = (
        cli_ok(env, "users", "create-key", "--email", "webmaster@e2e.test").strip().splitlines()[-1]
    )
    assert advertiser_key.startswith("lx_") and webmaster_key.startswith("lx_")

    with LiveServer(app) as server:
        port = server.port
        offer = call(
            port,
            "POST",
            "/api/v1/offers",
            advertiser_key,
            {
                "name": "E2E quotes",
                "currency": "USD",
                "rate_minor": RATE,
                "payout_minor": PAYOUT,
                "allowed_countries": ["US"],
                "fields": CONTACT_FIELDS,
                "landing_url": "https://lp.example.com/x?cid={click_id}&s1={sub1}",
                "hold_seconds": HOLD_DAYS * 86400,
            },
        )
        assert offer.status == 201, offer.body
        cli_ok(
            env,
            "billing",
            "credit",
            "--email",
            "advertiser@e2e.test",
            "--amount-minor",
            "5000",
            "--currency",
            "USD",
            "--reference",
            "e2e-wire-1",
        )
        assert balance(port, advertiser_key, "available")["available_minor"] == 5000

        joined = call(port, "POST", f"/api/v1/offers/{offer.body['id']}/join", webmaster_key)
        assert joined.status == 200, joined.body
        clicked = call(port, "GET", path_of(joined.body["tracking_link"]) + "?sub1=fb%20feed&sub2=ad7")
        assert clicked.status == 302
        landing = urlsplit(clicked.headers["Location"])
        assert landing.netloc == "lp.example.com"
        query = parse_qs(landing.query)
        assert query["s1"] == ["fb feed"]
        click_id = query["cid"][0]
        if BACKEND == "services":  # the click waits in the Redis buffer until the flusher writes it
            flushed = flask_cli(env, "clicks", "flush")
            assert flushed.returncode == 0 and "0 left" in flushed.stdout, flushed.stdout + flushed.stderr

        fields = {"name": "Ann Lee", "phone": "+1 202 555 0101", "email": "ann@example.com", "country": "US"}
        submitted = call(
            port, "POST", "/api/v1/leads", webmaster_key, {"click_id": click_id, "fields": fields}
        )
        assert submitted.status == 202, submitted.body
        lead_id = submitted.body["id"]
        assert submitted.body["sub1"] == "fb feed"
        if BACKEND == "services":
            assert submitted.body["status"] == "received"  # nothing ran in the request
            worker = run_worker_burst(env, "validation", "billing")
            assert worker.returncode == 0, worker.stdout + worker.stderr
        lead = call(port, "GET", f"/api/v1/leads/{lead_id}", webmaster_key)
        assert lead.body["status"] == "pending", lead.body

        advertiser_available = balance(port, advertiser_key, "available")
        assert advertiser_available["available_minor"] == 5000 - RATE
        assert advertiser_available["pending_out_minor"] == RATE
        assert balance(port, webmaster_key, "hold")["pending_in_minor"] == PAYOUT

        approved = call(port, "POST", f"/api/v1/leads/{lead_id}/approve", advertiser_key, {})
        assert approved.status == 200 and approved.body["status"] == "approved", approved.body
        assert balance(port, advertiser_key, "available")["posted_minor"] == 5000 - RATE
        assert balance(port, webmaster_key, "hold")["posted_minor"] == PAYOUT
        assert balance(port, webmaster_key, "available") is None

        approved_at = clock.now()
        clock.freeze(approved_at + timedelta(days=HOLD_DAYS) - timedelta(seconds=1))
        with app.app_context():
            assert sweep().holds_released == 0
        clock.freeze(approved_at + timedelta(days=HOLD_DAYS) + timedelta(seconds=1))
        with app.app_context():
            assert sweep().holds_released == 1
        assert balance(port, webmaster_key, "hold")["posted_minor"] == 0
        assert balance(port, webmaster_key, "available")["available_minor"] == PAYOUT

        payout = call(
            port, "POST", "/api/v1/payouts", webmaster_key, {"currency": "USD", "amount_minor": PAYOUT}
        )
        assert payout.status == 201 and payout.body["status"] == "requested", payout.body
        assert balance(port, webmaster_key, "available")["available_minor"] == 0

        settled = cli_ok(env, "billing", "settle-payout", str(payout.body["id"]), "--outcome", "paid")
        assert "paid" in settled
        payouts = call(port, "GET", "/api/v1/payouts", webmaster_key)
        assert [p["status"] for p in payouts.body["items"]] == ["paid"]
        available = balance(port, webmaster_key, "available")
        assert (available["posted_minor"], available["pending_out_minor"]) == (0, 0)

    check = flask_cli(env, "billing", "check")
    assert check.returncode == 0, check.stdout
    assert "FAIL" not in check.stdout
