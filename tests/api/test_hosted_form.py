"""The hosted lead form /f/<token>: accessible fields, the click id carried,
consent stored with the lead, a honeypot, the same intake and validation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from exchange.leads.models import Consent, Lead
from tests.factories import fund, make_click, make_join, make_offer, make_user

GOOD = {"name": "Ann Lee", "phone": "+1 202 555 0199", "email": "ann@example.com", "country": "US"}


@pytest.fixture
def link(client, ctx):
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    return make_join(make_user("webmaster"), make_offer(advertiser, name="Solar quotes"))


def leads(ctx) -> int:
    return ctx.scalar(select(func.count()).select_from(Lead))


def test_the_form_shows_every_field_with_a_label_and_carries_the_click_id(client, link):
    click = make_click(link)

    page = client.get(f"/f/{link.token}?click_id={click.click_id}").get_data(as_text=True)

    for name in ("name", "phone", "email", "country", "consent"):
        assert re.search(rf'<label for="(field-)?{name}"', page), name
        assert re.search(rf'id="(field-)?{name}"', page), name
    assert f'name="click_id" value="{click.click_id}"' in page
    assert 'type="email"' in page and 'type="tel"' in page
    assert "I agree to be contacted about \u201cSolar quotes\u201d" in page


def test_a_submitted_form_becomes_a_validated_lead_with_its_consent_record(client, ctx, link, frozen_clock):
    click = make_click(link, sub1="fb")

    response = client.post(
        f"/f/{link.token}?click_id={click.click_id}",
        data={**GOOD, "consent": "on", "click_id": click.click_id},
        environ_base={"REMOTE_ADDR": "8.8.8.8"},
    )

    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    lead = ctx.scalar(select(Lead))
    assert (lead.status, lead.click_token, lead.sub1, lead.ip_country) == (
        "pending",
        click.click_id,
        "fb",
        "US",
    )
    consent = ctx.scalar(select(Consent).where(Consent.lead_id == lead.id))
    assert consent.text.startswith("I agree to be contacted about \u201cSolar quotes\u201d")
    assert (consent.given_at, consent.ip) == (frozen_clock.now, "8.8.8.8")
    assert consent.page_url.endswith(f"/f/{link.token}?click_id={click.click_id}")


def test_without_consent_nothing_is_stored_and_the_form_says_why(client, ctx, link):
    response = client.post(f"/f/{link.token}", data=GOOD)

    assert response.status_code == 422
    assert 'id="consent-error"' in response.get_data(as_text=True)
    assert leads(ctx) == 0


def test_invalid_fields_come_back_named_next_to_their_inputs(client, ctx, link):
    response = client.post(f"/f/{link.token}", data={**GOOD, "email": "not-an-email", "consent": "on"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="field-email-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Ann Lee"' in page  # what the visitor typed is kept
    assert leads(ctx) == 0


def test_a_filled_honeypot_is_thanked_and_nothing_is_stored(client, ctx, link):
    response = client.post(
        f"/f/{link.token}", data={**GOOD, "consent": "on", "website": "http://spam.example"}
    )

    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    assert leads(ctx) == 0


def test_an_unknown_or_inactive_link_has_no_form(client, ctx, link):
    assert client.get("/f/no-such-token").status_code == 404
    link.status = "banned"
    ctx.commit()
    assert client.get(f"/f/{link.token}").status_code == 404


def test_a_click_id_that_is_not_this_links_is_dropped_and_the_link_still_attributes_the_lead(
    client, ctx, link
):
    other = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))
    foreign = make_click(other).click_id

    page = client.get(f"/f/{link.token}?click_id={foreign}").get_data(as_text=True)
    response = client.post(f"/f/{link.token}?click_id={foreign}", data={**GOOD, "consent": "on"})

    assert f'value="{foreign}"' not in page
    assert response.status_code == 200
    lead = ctx.scalar(select(Lead))
    assert (lead.webmaster_id, lead.click_token) == (link.webmaster_id, None)
