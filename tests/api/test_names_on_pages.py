"""Names in place of ids (issue 20, point 1, begun): a lead's offer and its webmaster by
name, the offer linked; a company's name before a person's; an id kept beside a name
where staff need it; each name looked up once per page."""

from __future__ import annotations

from html import unescape

from sqlalchemy import event

from exchange.accounts.models import User
from exchange.db import commit
from exchange.extensions import db
from exchange.offers.models import Offer
from tests.api.test_advertiser_pages import page, signed_in
from tests.api.test_disputes import Market


def test_the_advertisers_lead_page_names_the_offer_and_the_webmaster(app, client, ctx):
    market = Market(client)
    lead_id = market.pending_lead()
    market.webmaster.company_name = "Traffic Garden Ltd"
    commit()
    signed_in(app, client, market.advertiser)

    text = unescape(page(app, client, f"/advertiser/leads/{lead_id}"))

    offer = db.session.get(Offer, market.offer_id)
    header = text.split("<article>", 1)[1].split("</header>", 1)[0]
    assert f'<a href="/advertiser/offers/{offer.id}">{offer.name}</a>' in header
    assert f"from Traffic Garden Ltd <small>(webmaster #{market.webmaster.id})</small>" in header
    assert f"Offer {offer.id} ·" not in text


def test_lead_lists_name_each_leads_offer_and_ask_for_it_once(app, client, ctx):
    market = Market(client)
    for _ in range(3):
        market.pending_lead()
    signed_in(app, client, market.advertiser)
    asked: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().startswith("SELECT offers.name"):
            asked.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        text = unescape(page(app, client, "/advertiser/leads"))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    offer = db.session.get(Offer, market.offer_id)
    link = f'<a href="/advertiser/offers/{offer.id}">{offer.name}</a>'
    assert text.count(link) == 3
    assert len(asked) == 1, "one look-up for the three leads of one offer"


def test_a_user_without_a_company_is_named_by_its_display_name(app, client, ctx):
    from exchange.page_names import user_name

    market = Market(client)
    assert db.session.get(User, market.webmaster.id).company_name is None
    with app.test_request_context():
        assert user_name(market.webmaster.id) == market.webmaster.name
        assert user_name(10**9) == f"#{10**9}"
