"""A seller's vertical link /v/<token> and its hosted form /v/<token>/form: the link records
a click (vertical ids, sub ids, GEO) and sends the visitor to the form with its click id; the
form's lead is taken in as the API takes it, with its consent record, tied to its click only
when the click is this very seller's; bad input is a 422 with field messages and writes
nothing (docs/exchange.md, "The hosted form and tracking link")."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.db import commit
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.leads.models import Consent, Lead, LeadEvent
from exchange.selling.intake import submit_to_vertical
from exchange.tracking.models import Click
from exchange.verticals.services import join_vertical, update_vertical
from tests.api.test_advertiser_pages import page, signed_in
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import auth, fund, make_click, make_join, make_key, make_offer, make_user

FROM_US = "8.8.8.8"  # as tests/api/test_click_redirect.py
FILLED = {"name": "Ann Lee", "phone": "+1 202 555 0199", "email": "ann@example.com", "country": "US"}
TRUSTEDFORM = "https://cert.trustedform.com/0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def seller(ctx):
    vertical = make_vertical(name="Solar \u2014 Texas", slots=3)
    return make_seller(make_user("webmaster"), vertical)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def click_through(client, seller, query: str = "") -> tuple[Click, str]:
    """Follow the seller's link: the click's row and the form's path with its query."""
    response = client.get(f"/v/{seller.token}{query}", environ_base={"REMOTE_ADDR": FROM_US})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    click = db.session.scalar(select(Click).order_by(Click.id.desc()))
    landing = urlsplit(response.headers["Location"])
    return click, f"{landing.path}?{landing.query}"


def send(client, path: str, **form):
    return client.post(path, data=form, environ_base={"REMOTE_ADDR": FROM_US})


def test_the_link_records_a_click_of_the_vertical_and_sends_the_visitor_to_the_form(client, seller):
    response = client.get(
        f"/v/{seller.token}?sub1=fb&sub2=ad%207&gclid=xyz",
        environ_base={"REMOTE_ADDR": FROM_US},
        headers={"User-Agent": "Mozilla/5.0 (visitor)"},
    )

    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    (click,) = db.session.scalars(select(Click)).all()
    assert (click.vertical_id, click.vertical_seller_id, click.webmaster_id) == (
        seller.vertical_id,
        seller.id,
        seller.webmaster_id,
    )
    assert (click.offer_id, click.participation_id) == (None, None)
    assert (click.sub1, click.sub2, click.country, click.ip) == ("fb", "ad 7", "US", FROM_US)
    assert (click.user_agent, click.params, click.is_unique) == (
        "Mozilla/5.0 (visitor)",
        {"gclid": "xyz"},
        True,
    )
    landing = urlsplit(response.headers["Location"])
    assert landing.path == f"/v/{seller.token}/form"
    assert parse_qs(landing.query) == {"click_id": [click.click_id]}


def test_a_second_click_of_the_same_visitor_on_the_vertical_is_not_unique(client, seller):
    click_through(client, seller)
    second, _ = click_through(client, seller)

    assert second.is_unique is False


def test_the_form_shows_the_verticals_fields_and_a_consent_naming_it(client, seller):
    click, path = click_through(client, seller)

    response = client.get(path)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for spec in seller.vertical.fields:
        assert f'id="field-{spec["name"]}"' in page and f'<label for="field-{spec["name"]}"' in page
    assert "I agree to be contacted about \u201cSolar \u2014 Texas\u201d" in page
    assert "up to 3 companies" in page
    assert f'name="click_id" value="{click.click_id}"' in page
    assert 'name="xxTrustedFormCertUrl"' in page and 'name="universal_leadid"' in page
    assert 'name="consent"' in page and 'name="website"' in page  # the checkbox, the honeypot


def test_a_sent_form_is_an_exchange_lead_tied_to_its_click_with_its_consent_record(
    client, seller, frozen_clock
):
    click, path = click_through(client, seller, "?sub1=fb&sub2=ad7")

    response = send(
        client, path, **FILLED, consent="on", click_id=click.click_id, xxTrustedFormCertUrl=TRUSTEDFORM
    )

    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    lead = db.session.scalar(select(Lead))
    assert (lead.vertical_id, lead.offer_id, lead.webmaster_id) == (
        seller.vertical_id,
        None,
        seller.webmaster_id,
    )
    assert (lead.click_token, lead.sub1, lead.sub2, lead.ip, lead.ip_country) == (
        click.click_id,
        "fb",
        "ad7",
        FROM_US,
        "US",
    )
    first = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id))
    assert (first.to_status, first.actor_label) == ("received", "hosted form")
    assert lead.status == "unsold"  # validated, then auctioned: no buy order on the vertical
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == lead.id))
    assert consent.text.startswith("I agree to be contacted about \u201cSolar \u2014 Texas\u201d")
    assert (consent.given_at, consent.ip, consent.certificate) == (frozen_clock.now, FROM_US, TRUSTEDFORM)
    assert consent.page_url.endswith(path)
    assert count(Click) == 1  # the form added no click


def test_a_jornaya_token_is_stored_as_the_consent_certificate(client, seller):
    token = "C9A5C3C7-3F5D-E5B7-1B4D-5F0DBE7A2A6F"

    response = send(client, f"/v/{seller.token}/form", **FILLED, consent="on", universal_leadid=token)

    assert response.status_code == 200
    assert db.session.scalar(select(Consent.certificate)) == token


def test_without_consent_nothing_is_written_and_the_form_says_why(client, seller):
    click, path = click_through(client, seller)

    response = send(client, path, **FILLED, click_id=click.click_id)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="consent-error"' in page and "tick the box" in page
    assert 'value="Ann Lee"' in page  # what the visitor typed is kept
    assert (count(Lead), count(Consent), count(LeadEvent)) == (0, 0, 0)


def test_the_honeypot_thanks_a_bot_and_keeps_nothing(client, seller):
    response = send(client, f"/v/{seller.token}/form", **FILLED, consent="on", website="http://spam.example")

    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    assert (count(Lead), count(Consent)) == (0, 0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "email"),
        ({"name": ""}, "name", "required"),
        ({"country": "DE"}, "country", "US, CA only"),  # outside the vertical's countries
        ({"age": "old"}, "age", "integer"),
    ],
)
def test_bad_values_come_back_named_next_to_their_inputs_and_nothing_is_written(
    client, seller, changes, field, message
):
    response = send(client, f"/v/{seller.token}/form", **(FILLED | changes), consent="on")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="field-{field}-error"' in page
    error = page.split(f'id="field-{field}-error" role="alert">')[1].split("</span>")[0]
    assert message.lower() in error.lower()
    assert (count(Lead), count(Consent)) == (0, 0)


def test_every_bad_value_is_named_at_once(client, seller):
    response = send(
        client, f"/v/{seller.token}/form", **(FILLED | {"email": "x", "country": "DE"}), consent="on"
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="field-email-error"' in page and 'id="field-country-error"' in page


def test_a_certificate_that_is_neither_trustedform_nor_jornaya_is_refused(client, seller):
    response = send(
        client,
        f"/v/{seller.token}/form",
        **FILLED,
        consent="on",
        xxTrustedFormCertUrl="https://evil.example/x",
    )

    assert response.status_code == 422
    assert 'id="certificate-error"' in response.get_data(as_text=True)
    assert (count(Lead), count(Consent)) == (0, 0)


def test_a_click_of_another_seller_or_of_an_offer_is_not_attached(client, seller, ctx):
    rival = make_seller(make_user("webmaster"), seller.vertical)
    rival_click, _ = click_through(client, rival)
    same_webmaster_other_vertical = make_seller(db.session.get(User, seller.webmaster_id), make_vertical())
    other_vertical_click, _ = click_through(client, same_webmaster_other_vertical)
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    offer_click = make_click(make_join(db.session.get(User, seller.webmaster_id), make_offer(advertiser)))

    for n, foreign in enumerate((rival_click.click_id, other_vertical_click.click_id, offer_click.click_id)):
        path = f"/v/{seller.token}/form?click_id={foreign}"
        assert f'value="{foreign}"' not in client.get(path).get_data(as_text=True)
        fields = FILLED | {"phone": f"+1 202 555 01{n:02d}", "email": f"ann{n}@example.com"}
        assert send(client, path, **fields, consent="on", click_id=foreign).status_code == 200

    tokens = db.session.scalars(select(Lead.click_token).where(Lead.vertical_id == seller.vertical_id)).all()
    assert tokens == [None, None, None]


def unusable_tokens(seller) -> dict[str, str]:
    """A token for each way a link may not serve its form."""
    paused = make_seller(make_user("webmaster"), make_vertical())
    update_vertical(paused.vertical_id, {"status": "paused"})
    pending = join_vertical(make_user("webmaster"), make_vertical(sellers_need_approval=True).id)
    banned = make_seller(make_user("webmaster"), seller.vertical)
    db.session.get(User, banned.webmaster_id).status = "banned"
    declined = make_seller(make_user("webmaster"), seller.vertical)
    declined.status = "declined"
    commit()
    assert pending.status == "pending"
    return {
        "unknown": "no-such-token",
        "vertical paused": paused.token,
        "seller pending": pending.token,
        "seller declined": declined.token,
        "webmaster banned": banned.token,
    }


def test_a_link_that_serves_no_form_is_404_and_records_no_click(client, seller):
    for why, token in unusable_tokens(seller).items():
        assert client.get(f"/v/{token}").status_code == 404, why
        assert client.get(f"/v/{token}/form").status_code == 404, why
        assert send(client, f"/v/{token}/form", **FILLED, consent="on").status_code == 404, why

    assert (count(Click), count(Lead)) == (0, 0)


def test_a_vertical_click_id_is_no_offers_click(client, seller):
    """Offer paths (lead intake, the conversion postback) refuse it clearly, never a 500."""
    click, _ = click_through(client, seller)
    webmaster = db.session.get(User, seller.webmaster_id)
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    make_join(webmaster, make_offer(advertiser))
    cpa = make_offer(
        advertiser, model="cpa", fields=[], allowed_countries=[], rate_minor=800, payout_minor=600
    )
    make_join(webmaster, cpa)
    token = client.post("/api/v1/postback-token", headers=auth(make_key(advertiser))).get_json()["token"]

    lead = client.post(
        "/api/v1/leads",
        json={"click_id": click.click_id, "fields": FILLED},
        headers=auth(make_key(webmaster)),
    )
    postback = client.get(
        "/postback", query_string={"token": token, "click_id": click.click_id, "txid": "t-1"}
    )

    assert lead.status_code == 422 and lead.get_json()["error"]["code"] == "click_not_found"
    assert postback.status_code == 422 and postback.get_json()["error"]["code"] == "click_not_found"
    assert count(Lead) == 0


def test_intake_itself_refuses_a_click_id_that_is_not_the_sellers(client, seller):
    """Defence in depth: the service, not only the form, checks whose click it is."""
    rival_click, _ = click_through(client, make_seller(make_user("webmaster"), seller.vertical))
    consent = {"text": "I agree.", "given_at": clock.now(), "page_url": "https://x.example/", "ip": None}

    with pytest.raises(Invalid) as refused:
        submit_to_vertical(
            seller.webmaster_id,
            seller.vertical_id,
            {"fields": FILLED, "consent": consent},
            Actor.system("test"),
            click_id=rival_click.click_id,
        )

    assert refused.value.code == "click_not_found"


def test_the_seller_finds_its_links_on_its_verticals_page_and_in_the_join_answer(app, client, seller):
    webmaster = db.session.get(User, seller.webmaster_id)
    pending = join_vertical(webmaster, make_vertical(sellers_need_approval=True).id)
    commit()
    signed_in(app, client, webmaster)

    text = page(app, client, "/webmaster/verticals")

    assert f"http://exchange.test/v/{seller.token}</code>" in text
    assert f'href="http://exchange.test/v/{seller.token}/form"' in text
    assert f"/v/{pending.token}" not in text  # no link before staff approve the seller
    joined = client.post(
        f"/api/v1/verticals/{seller.vertical_id}/join",
        headers=auth(make_key(webmaster)),
    )
    assert joined.get_json()["tracking_link"] == f"http://exchange.test/v/{seller.token}"
    assert client.get(f"/v/{seller.token}").status_code == 302


def test_validation_scores_a_form_lead_by_the_time_from_its_click(client, seller, frozen_clock):
    click, path = click_through(client, seller)
    frozen_clock.advance(minutes=3)

    assert send(client, path, **FILLED, consent="on", click_id=click.click_id).status_code == 200
    assert (
        send(
            client, f"/v/{seller.token}/form", **(FILLED | {"phone": "+1 202 555 0142"}), consent="on"
        ).status_code
        == 200
    )

    db.session.expire_all()
    details = [
        next(f["detail"] for f in lead.findings if f["code"] == "click_to_lead")
        for lead in db.session.scalars(select(Lead).order_by(Lead.id))
    ]
    assert details == ["180 s from click to lead", "no click"]
