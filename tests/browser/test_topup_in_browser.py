"""A card top-up in a real browser: the advertiser signs in, asks for 120.00 USD on
/advertiser/topup, types a card into Stripe's card Element and confirms it with
Stripe.js; the balance moves only when Stripe's signed webhook reaches the server.

Stripe here is ``localstripe``: its Stripe.js (served at ``<localstripe>/js.stripe.com/v3/``)
mounts a fake card Element and implements ``confirmCardPayment`` as the 3-D Secure step
only; it never sends the Element's card to its server. So, between typing and paying,
the test attaches the card typed in the Element to the PaymentIntent through
localstripe's API, as real Stripe.js would inside ``confirmCardPayment``, with a card
that asks for 3-D Secure; the browser then confirms, and localstripe's modal is
answered as the card holder would. Everything else is the page's own code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from exchange.db import commit
from tests.factories import make_key, make_user
from tests.http_harness import LiveServer, available_over_http, wait_for
from tests.stripe_server import PUBLISHABLE_KEY, LocalStripe

PASSWORD = "correct-horse-battery"  # what the factories give every user
CARD_ASKING_FOR_3DS = {"number": "4000002760003184", "exp_month": "12", "exp_year": "34", "cvc": "123"}
SUCCESS = "Payment received by Stripe; your balance is credited as soon as Stripe confirms it."


@dataclass
class Site:
    base_url: str
    port: int
    email: str
    key: str


@pytest.fixture
def stripe_server():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def site(live_app_factory, stripe_server):
    """The app on localstripe, served over HTTP, with CSRF on as in production."""
    app = live_app_factory(
        **stripe_server.app_config(),
        STRIPE_JS_URL=stripe_server.url + "/js.stripe.com/v3/",
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        advertiser = make_user("advertiser")
        key = make_key(advertiser)
        email = advertiser.email
        commit()
    with LiveServer(app) as server:
        stripe_server.send_webhooks_to(f"http://127.0.0.1:{server.port}/webhooks/stripe")
        yield Site(f"http://127.0.0.1:{server.port}", server.port, email, key)


def open_card_step(page, site: Site, amount: str, currency: str) -> str:
    """Sign in, ask for the top-up and reach the card step; the PaymentIntent's id."""
    page.goto(site.base_url + "/login")
    page.get_by_label("Email").fill(site.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/advertiser/")
    page.get_by_role("link", name="Top up", exact=True).click()
    page.wait_for_url("**/advertiser/topup")
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Currency").select_option(currency)
    page.get_by_role("button", name="Continue to card payment").click()
    page.get_by_role("button", name=f"Pay {amount} {currency}").wait_for()
    return page.locator("#card-form").get_attribute("data-client-secret").split("_secret_")[0]


def type_card(page, card: dict) -> None:
    """Into the card Element that localstripe's Stripe.js mounted (one input per part)."""
    for part, value in {**card, "postal_code": "10001"}.items():
        page.locator(f"#card-element input[placeholder={part}]").fill(value)


def attach_typed_card(page, stripe_server, intent_id: str) -> None:
    """What real Stripe.js does with the Element's card inside confirmCardPayment."""
    element = page.locator("#card-element")
    typed = {
        part: element.locator(f"input[placeholder={part}]").input_value() for part in CARD_ASKING_FOR_3DS
    }
    client = stripe_server.client()
    method = client.v1.payment_methods.create(params={"type": "card", "card": typed})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    assert client.v1.payment_intents.confirm(intent_id).status == "requires_action"


def test_an_advertiser_pays_by_card_and_the_webhook_credits_the_balance(page, site, stripe_server):
    intent_id = open_card_step(page, site, "120.00", "USD")
    assert page.locator("#card-form").get_attribute("data-publishable-key") == PUBLISHABLE_KEY
    type_card(page, CARD_ASKING_FOR_3DS)
    attach_typed_card(page, stripe_server, intent_id)
    assert available_over_http(site.port, site.key) == 0  # nothing is credited before Stripe says so

    page.get_by_role("button", name="Pay 120.00 USD").click()
    page.get_by_role("button", name="Complete authentication").click()  # localstripe's 3-D Secure

    result = page.locator("#card-result")
    result.filter(has_text=SUCCESS).wait_for()
    assert result.get_attribute("class") == "notice"
    wait_for(
        lambda: available_over_http(site.port, site.key) == 12_000,
        "localstripe's signed webhook credits 120.00 USD",
    )
    assert stripe_server.client().v1.payment_intents.retrieve(intent_id).status == "succeeded"
    page.get_by_role("link", name="Back to your balance").click()
    page.wait_for_url("**/advertiser/")
    balances = page.get_by_role("table", name="Balances")
    assert "120.00 USD" in balances.inner_text()
    page.goto(site.base_url + "/advertiser/topup")
    assert "succeeded" in page.get_by_role("table", name="Recent top-ups").inner_text()


def test_a_failed_card_authentication_shows_stripes_message_and_credits_nothing(page, site, stripe_server):
    intent_id = open_card_step(page, site, "40.00", "USD")
    type_card(page, CARD_ASKING_FOR_3DS)
    attach_typed_card(page, stripe_server, intent_id)

    page.get_by_role("button", name="Pay 40.00 USD").click()
    page.get_by_role("button", name="Fail authentication").click()

    result = page.locator("#card-result")
    result.filter(has_text="The provided PaymentMethod has failed authentication.").wait_for()
    assert result.get_attribute("class") == "flash"
    assert page.get_by_role("button", name="Pay 40.00 USD").is_enabled()  # the holder may try again
    assert page.get_by_role("link", name="Back to your balance").is_hidden()
    assert stripe_server.client().v1.payment_intents.retrieve(intent_id).status == "requires_payment_method"
    assert available_over_http(site.port, site.key) == 0
