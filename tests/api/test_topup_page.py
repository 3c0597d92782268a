"""The advertiser's card top-up page, driven with the test client: the form, its CSRF
token, field messages for bad amounts, the page without Stripe, and the confirm step
against ``localstripe`` (a real PaymentIntent behind the client secret on the page).
The browser half, Stripe.js confirming the card, is tests/browser/test_topup_in_browser.py."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from billing.models import Transfer
from billing.topups.models import Topup
from exchange.db import commit
from exchange.extensions import db
from tests.api.test_web_portal import login, request
from tests.factories import make_offer, make_user
from tests.stripe_server import LocalStripe

UNREACHABLE_STRIPE = {
    "STRIPE_SECRET_KEY": "sk_test_unreachable",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_unreachable",
    "STRIPE_API_BASE": "http://127.0.0.1:9",  # the discard port: nothing answers
}


@pytest.fixture
def card_topups(app, monkeypatch):
    """Stripe configured on the shared app, at an address where nothing answers: enough for
    every path that must be refused before Stripe is ever called."""
    for name, value in UNREACHABLE_STRIPE.items():
        monkeypatch.setitem(app.config, name, value)


@pytest.fixture
def signed_in_advertiser(app, client, ctx):
    advertiser = make_user("advertiser")
    assert login(app, client, advertiser.email).status_code == 302
    return advertiser


def topups_of(advertiser_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Topup).where(Topup.advertiser_id == advertiser_id)
    )


def csrf_token_in(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_form_offers_the_advertisers_currencies_and_carries_a_csrf_token(
    app, client, signed_in_advertiser, card_topups
):
    make_offer(signed_in_advertiser, currency="GBP")

    response = request(app, client, "GET", "/advertiser/topup")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'action="/advertiser/topup"' in page and 'method="post"' in page
    assert 'name="csrf_token"' in page and 'name="amount"' in page
    assert re.findall(r'<option value="([A-Z]{3})"', page) == ["EUR", "GBP", "USD"]
    assert '<option value="GBP" selected>' in page  # its own offers' currency first
    assert "No top-ups yet." in page


def test_the_advertiser_home_page_links_to_the_top_up_page(app, client, signed_in_advertiser):
    page = request(app, client, "GET", "/advertiser/").get_data(as_text=True)
    assert 'href="/advertiser/topup"' in page


def test_a_webmaster_may_not_open_the_top_up_page_and_a_stranger_is_sent_to_sign_in(app, client, ctx):
    response = request(app, client, "GET", "/advertiser/topup")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"

    assert login(app, client, make_user("webmaster").email).status_code == 302
    form = {"amount": "10.00", "currency": "USD"}
    assert request(app, client, "GET", "/advertiser/topup").status_code == 403
    assert request(app, client, "POST", "/advertiser/topup", data=form).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(
    app, client, signed_in_advertiser, card_topups, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off

    form = {"amount": "abc", "currency": "USD"}
    refused = request(app, client, "POST", "/advertiser/topup", data=form)
    token = csrf_token_in(request(app, client, "GET", "/advertiser/topup").get_data(as_text=True))
    with_token = request(app, client, "POST", "/advertiser/topup", data={**form, "csrf_token": token})

    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert with_token.status_code == 422  # past the CSRF check, stopped by the amount
    assert topups_of(signed_in_advertiser.id) == 0


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"amount": "abc", "currency": "USD"}, "amount", "Write the amount like 120.00"),
        ({"amount": "10.001", "currency": "USD"}, "amount", "USD has 2 decimal places"),
        ({"amount": "-5", "currency": "USD"}, "amount", "no sign"),
        ({"amount": "", "currency": "USD"}, "amount", "Write the amount like 120.00"),
        ({"amount": "4.99", "currency": "USD"}, "amount", "The smallest top-up is 5.00 USD."),
        ({"amount": "99999999999", "currency": "USD"}, "amount", "too large"),
        ({"amount": "10.00", "currency": "usd"}, "currency", "Choose one of EUR, USD."),
        ({"amount": "10.00", "currency": "XXX"}, "currency", "Choose one of EUR, USD."),
    ],
)
def test_a_bad_amount_shows_the_form_again_with_the_field_message_and_keeps_nothing(
    app, client, signed_in_advertiser, card_topups, form, field, message
):
    response = request(app, client, "POST", "/advertiser/topup", data=form)

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = unescape(response.get_data(as_text=True))
    assert f'id="{field}-error" role="alert">' in page and message in page
    assert f'value="{form["amount"]}"' in page  # what was typed stays in the field
    assert topups_of(signed_in_advertiser.id) == 0


def test_when_stripe_cannot_be_reached_the_page_says_so_and_keeps_nothing(
    app, client, signed_in_advertiser, card_topups
):
    response = request(app, client, "POST", "/advertiser/topup", data={"amount": "50.00", "currency": "USD"})

    assert response.status_code == 502
    assert response.mimetype == "text/html"
    assert "Stripe refused or could not be reached" in response.get_data(as_text=True)
    assert topups_of(signed_in_advertiser.id) == 0


def test_without_stripe_the_page_says_an_admin_can_credit_the_balance_and_has_no_form(
    app, client, signed_in_advertiser
):
    form = {"amount": "50.00", "currency": "USD"}
    for method in ("GET", "POST"):
        response = request(app, client, method, "/advertiser/topup", data=form)

        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Card top-ups are not set up on this exchange" in page
        assert "An admin can credit your balance" in page
        assert 'name="amount"' not in page and "card-form" not in page
    assert topups_of(signed_in_advertiser.id) == 0


@pytest.fixture
def stripe_server():
    with LocalStripe() as server:
        yield server


def test_a_good_amount_starts_a_real_payment_intent_and_renders_the_card_step(
    live_app_factory, stripe_server
):
    js_url = stripe_server.url + "/js.stripe.com/v3/"
    app = live_app_factory(**stripe_server.app_config(), STRIPE_JS_URL=js_url)
    with app.app_context():
        advertiser = make_user("advertiser")
        email, advertiser_id = advertiser.email, advertiser.id
    client = app.test_client()
    assert login(app, client, email).status_code == 302

    response = request(app, client, "POST", "/advertiser/topup", data={"amount": "120.00", "currency": "USD"})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    client_secret = re.search(r'data-client-secret="([^"]+)"', page).group(1)
    intent_id = client_secret.split("_secret_")[0]
    intent = stripe_server.client().v1.payment_intents.retrieve(intent_id)
    assert intent.client_secret == client_secret
    assert (intent.amount, intent.currency, intent.status) == (12_000, "usd", "requires_payment_method")
    assert f'data-publishable-key="{stripe_server.app_config()["STRIPE_PUBLISHABLE_KEY"]}"' in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == [js_url, "/static/topup.js"]  # Stripe.js is the only script from elsewhere
    assert "Pay 120.00 USD" in page
    with app.app_context():
        topup = db.session.scalar(select(Topup).where(Topup.advertiser_id == advertiser_id))
        assert (topup.status, topup.amount_minor, topup.payment_intent_id) == ("requested", 12_000, intent_id)
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0  # the page credits nothing
        commit()
    listed = request(app, client, "GET", "/advertiser/topup").get_data(as_text=True)
    assert "120.00 USD" in listed and "requested" in listed
    script = request(app, client, "GET", "/static/topup.js")
    assert script.status_code == 200 and b"confirmCardPayment" in script.data
    script.close()
