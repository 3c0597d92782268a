"""GET /c/<token>/form: the hosted form's link that a webmaster shares. A click is recorded
as on the tracking link (sub ids, GEO and trafficback alike), then the visitor lands on the
form with the click's id, so the lead the form sends is tied to its click."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from exchange.accounts.models import User
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.tracking.models import Click
from tests.factories import auth, fund, make_join, make_key, make_offer, make_user

GOOD = {"name": "Ann Lee", "phone": "+1 202 555 0199", "email": "ann@example.com", "country": "US"}
FROM_US, FROM_GERMANY = "8.8.8.8", "193.99.144.80"  # as tests/api/test_click_redirect.py


def joined(**offer_settings):
    advertiser = make_user("advertiser")
    fund(advertiser, 100_000)
    return make_join(make_user("webmaster"), make_offer(advertiser, **offer_settings))


def clicks() -> list[Click]:
    db.session.expire_all()
    return list(db.session.scalars(select(Click).order_by(Click.id)))


def test_the_form_link_records_a_click_and_the_lead_sent_through_the_form_is_tied_to_it(client, ctx):
    participation = joined()
    token = participation.token

    response = client.get(f"/c/{token}/form?sub1=fb&sub2=ad%207", environ_base={"REMOTE_ADDR": FROM_US})

    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    (click,) = clicks()
    assert (click.participation_id, click.sub1, click.sub2, click.country) == (
        participation.id,
        "fb",
        "ad 7",
        "US",
    )
    landing = urlsplit(response.headers["Location"])
    assert landing.path == f"/f/{token}"
    assert parse_qs(landing.query) == {"click_id": [click.click_id]}

    form = client.get(f"{landing.path}?{landing.query}").get_data(as_text=True)
    assert f'name="click_id" value="{click.click_id}"' in form
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', form)
    sent = client.post(
        f"{landing.path}?{landing.query}",
        data={**GOOD, "consent": "on", "click_id": click.click_id}
        | ({"csrf_token": token_field.group(1)} if token_field else {}),
        environ_base={"REMOTE_ADDR": FROM_US},
    )

    assert sent.status_code == 200 and "Thank you" in sent.get_data(as_text=True)
    lead = db.session.scalar(select(Lead))
    assert (lead.click_token, lead.sub1, lead.sub2) == (click.click_id, "fb", "ad 7")
    assert len(clicks()) == 1  # showing and sending the form added no click


def test_a_visitor_the_offer_does_not_take_goes_to_the_trafficback_not_the_form(client, ctx):
    participation = joined(
        allowed_countries=["US"], trafficback_url="https://back.example.net/t?c={click_id}"
    )

    response = client.get(f"/c/{participation.token}/form", environ_base={"REMOTE_ADDR": FROM_GERMANY})

    assert response.status_code == 302
    back = urlsplit(response.headers["Location"])
    (click,) = clicks()
    assert (back.netloc, parse_qs(back.query)["c"]) == ("back.example.net", [click.click_id])
    assert click.trafficback_reason == "geo_not_allowed"


def test_an_offer_that_serves_no_form_has_no_form_link_and_records_no_click(client, ctx):
    cpa = joined(model="cpa", fields=[], allowed_countries=[])
    paused = joined()
    advertiser_key = make_key(db.session.get(User, paused.offer.advertiser_id))
    pausing = client.patch(
        f"/api/v1/offers/{paused.offer_id}", json={"status": "paused"}, headers=auth(advertiser_key)
    )
    assert pausing.status_code == 200

    for participation in (cpa, paused):
        assert client.get(f"/c/{participation.token}/form").status_code == 404
    assert client.get("/c/no-such-token/form").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Click)) == 0
