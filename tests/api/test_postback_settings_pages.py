"""The webmaster's settings pages: a postback URL per joined offer (blank: the global one),
loaded through the API's schema and saved through its service, so the page refuses what
the API refuses, with the message next to the field; and the payout settings (rail,
schedule, thresholds) through the API's schema and service, each problem next to its field."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from billing.payouts.models import PayoutSettings
from exchange.delivery.postbacks.models import PostbackDelivery, PostbackUrl
from exchange.extensions import db
from tests.api.test_disputes import Market
from tests.api.test_web_portal import login, request
from tests.factories import make_offer, make_user
from tests.tracker_server import Tracker

pytestmark = pytest.mark.usefixtures("billing_check")


def signed_in(app, client, user) -> None:
    client.delete_cookie("session", domain="exchange.test")
    assert login(app, client, user.email).status_code == 302


def post(app, client, path: str, data: dict | None = None):
    return request(app, client, "POST", path, data=data or {})


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def field_message(body: str, name: str) -> str:
    found = re.search(rf'<small id="{name}-error" role="alert">([^<]*)</small>', body)
    return found.group(1) if found else ""


def overrides() -> list[tuple[int, str, dict]]:
    rows = db.session.scalars(select(PostbackUrl).where(PostbackUrl.offer_id.is_not(None)))
    return [(row.offer_id, row.url_template, row.status_map) for row in rows]


# -- a postback URL per offer --------------------------------------------------------------------


def test_an_offers_own_postback_url_is_saved_listed_and_used_by_its_leads(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.webmaster)
    path = f"/webmaster/postbacks/offers/{market.offer_id}"
    with Tracker([200]) as tracker:
        post(app, client, "/webmaster/postbacks", {"url_template": tracker.base + "/global"})
        form = {"url_template": tracker.base + "/offer?s={status}", "status_received": "lead"}

        saved = post(app, client, path, form)
        market.pending_lead()
        requests = list(tracker.requests)

    assert saved.status_code == 303
    assert overrides() == [(market.offer_id, form["url_template"], {"received": "lead"})]
    assert requests == ["/offer?s=lead", "/offer?s=pending"]  # the offer's URL, not the global one
    listing = text_of(request(app, client, "GET", "/webmaster/postbacks"))
    table = re.search(r'<table id="offer-postbacks">.*?</table>', listing, re.S).group(0)
    assert f"<code>{form['url_template']}</code>" in table


def test_a_blank_offer_url_goes_back_to_the_global_one(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.webmaster)
    path = f"/webmaster/postbacks/offers/{market.offer_id}"
    post(app, client, path, {"url_template": "https://tracker.example.com/offer"})
    assert len(overrides()) == 1

    cleared = post(app, client, path, {"url_template": "  "})

    assert cleared.status_code == 303 and overrides() == []
    listing = text_of(request(app, client, "GET", "/webmaster/postbacks"))
    assert "your global URL" in re.search(r'<table id="offer-postbacks">.*?</table>', listing, re.S).group(0)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"url_template": "https://t.example.com/?c={clickid}"}, "url_template", "unknown: {clickid}"),
        ({"url_template": "ftp://t.example.com/pb"}, "url_template", "Must be"),
        ({"url_template": "https://{sub1}.example.com/pb"}, "url_template", "Must be"),
        (
            {"url_template": "https://t.example.com/pb", "status_approved": "x" * 65},
            "status_map",
            "Length must be between 1 and 64",
        ),
    ],
)
def test_an_unsavable_offer_url_is_shown_again_with_the_message_at_its_field(
    app, client, ctx, form, field, message
):
    market = Market(client)
    signed_in(app, client, market.webmaster)

    response = post(app, client, f"/webmaster/postbacks/offers/{market.offer_id}", form)

    assert response.status_code == 422
    body = text_of(response)
    assert message in field_message(body, field)
    assert f'value="{form["url_template"]}"' in body
    assert overrides() == []


def test_another_webmasters_offer_is_not_found(app, client, ctx):
    market = Market(client)
    stranger_offer = make_offer(make_user("advertiser"))  # nobody joined it
    outsider = make_user("webmaster")
    signed_in(app, client, outsider)

    for offer_id in (market.offer_id, stranger_offer.id):
        path = f"/webmaster/postbacks/offers/{offer_id}"
        assert request(app, client, "GET", path).status_code == 404
        assert post(app, client, path, {"url_template": "https://t.example.com/pb"}).status_code == 404
        assert post(app, client, path + "/test").status_code == 404

    assert overrides() == []
    assert db.session.scalar(select(func.count()).select_from(PostbackDelivery)) == 0


# -- payout settings ----------------------------------------------------------------------------


def settings_of(webmaster_id: int) -> PayoutSettings | None:
    db.session.expire_all()
    return db.session.get(PayoutSettings, webmaster_id)


def test_payout_settings_are_saved_from_the_page(app, client, ctx):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)
    form = {
        "rail": "manual",
        "schedule": "weekly",
        "weekday": "3",
        "day_of_month": "",
        "threshold_USD": "50.00",
    }

    saved = post(app, client, "/webmaster/payouts/settings", form)

    assert saved.status_code == 303
    settings = settings_of(webmaster.id)
    assert (settings.rail, settings.schedule, settings.weekday, settings.day_of_month) == (
        "manual",
        "weekly",
        3,
        None,
    )
    assert settings.thresholds_minor == {"USD": 5000}
    body = text_of(request(app, client, "GET", "/webmaster/payouts"))
    assert "Payout settings saved." in body
    assert '<option value="3" selected>Wednesday</option>' in body and 'value="50.00"' in body


def test_a_field_the_schedule_does_not_use_is_dropped_not_refused(app, client, ctx):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)

    saved = post(
        app,
        client,
        "/webmaster/payouts/settings",
        {"schedule": "monthly", "weekday": "2", "day_of_month": "31"},
    )

    assert saved.status_code == 303
    settings = settings_of(webmaster.id)
    assert (settings.schedule, settings.weekday, settings.day_of_month) == ("monthly", None, 31)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"schedule": "weekly"}, "weekday", "A weekly schedule needs a weekday"),
        ({"schedule": "monthly", "day_of_month": "40"}, "day_of_month", "less than or equal to 31"),
        ({"schedule": "monthly", "day_of_month": "last"}, "day_of_month", "Not a valid integer"),
        ({"schedule": "yearly"}, "schedule", "Must be one of"),
        ({"threshold_USD": "abc"}, "threshold_USD", "Write an amount like 120.00"),
        ({"threshold_USD": "5.00"}, "threshold_USD", "At least 10.00 USD."),  # the default minimum
        ({"rail": "stripe_connect"}, "stripe_account_id", "needs your connected account"),
        ({"rail": "stripe_connect", "stripe_account_id": "bob"}, "stripe_account_id", "acct_"),
        ({"rail": "stripe_connect", "stripe_account_id": "acct_123"}, "rail", "not set up on this exchange"),
    ],
)
def test_bad_payout_settings_are_shown_again_with_the_message_at_the_field(
    app, client, ctx, form, field, message
):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)

    response = post(app, client, "/webmaster/payouts/settings", {"rail": "manual", **form})

    assert response.status_code == 422
    body = text_of(response)
    assert message in field_message(body, field), body.split('id="payout-settings"', 1)[1][:3000]
    assert settings_of(webmaster.id) is None
