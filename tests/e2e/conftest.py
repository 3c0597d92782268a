"""Fixtures for the end-to-end tests: Stripe as ``localstripe``, a real local server."""

from __future__ import annotations

import pytest

from exchange.db import commit
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer
from tests.stripe_server import LocalStripe


@pytest.fixture
def stripe_server():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def market(live_app_factory, stripe_server):
    """An app on localstripe, served over HTTP, with localstripe's webhooks pointed at it."""
    app = live_app_factory(**stripe_server.app_config())
    with app.app_context():
        advertiser = make_user("advertiser")
        key = make_key(advertiser)
        commit()
        advertiser_id = advertiser.id
    with LiveServer(app) as server:
        stripe_server.send_webhooks_to(f"http://127.0.0.1:{server.port}/webhooks/stripe")
        yield app, server.port, key, advertiser_id
