"""Security headers on every response (docs/security.md): the CSP allows the app's own
scripts and styles only, Stripe.js on the card step alone; never framed; no sniffing;
HSTS in production. (tests/browser checks that the pages still work under the policy.)"""

from __future__ import annotations

import pytest

from exchange.security_headers import policy_text
from tests.api.test_web_portal import login, request
from tests.factories import make_user


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in policy.split("; "))}


@pytest.mark.parametrize("path", ["/login", "/api/openapi.json", "/no-such-page", "/api/v1/offers"])
def test_every_response_has_the_headers(app, client, path):
    response = request(app, client, "GET", path)

    csp = directives(response)
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # development and tests: no TLS


def test_the_card_step_alone_may_load_stripe_js(app, client, ctx):
    advertiser = make_user("advertiser")
    login(app, client, advertiser.email)

    topup = directives(request(app, client, "GET", "/advertiser/topup"))
    home = directives(request(app, client, "GET", "/advertiser/"))

    assert topup["script-src"] == ["'self'", "https://js.stripe.com"]
    assert "https://js.stripe.com" in topup["frame-src"] and "https://api.stripe.com" in topup["connect-src"]
    assert "'none'" not in topup["frame-src"]
    assert home["script-src"] == ["'self'"] and home["frame-src"] == ["'none'"]


def test_production_adds_hsts(live_app_factory):
    production = live_app_factory(
        EXCHANGE_ENV="production", SECRET_KEY="k" * 32, REDIS_URL="redis://127.0.0.1:1/0"
    )

    response = production.test_client().get("/login")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_added_sources_join_a_directive_once_and_replace_none():
    text = policy_text({"script-src": ["https://a.example", "'self'"], "frame-src": ["https://a.example"]})
    assert "script-src 'self' https://a.example;" in text
    assert "frame-src https://a.example;" in text
