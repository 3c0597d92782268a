"""The first minutes (issue 20, point 6): an advertiser or webmaster that has not begun
sees its first steps on its dashboard, each a link to the page where it is done; the
steps go once it has begun; a webmaster waiting for approval is told so."""

from __future__ import annotations

import re

from exchange.accounts.services import create_user
from exchange.db import commit
from tests.api.test_advertiser_pages import page, signed_in
from tests.api.test_web_portal import PASSWORD
from tests.factories import fund, make_join, make_key, make_offer, make_user


def steps_on(text: str) -> list[tuple[str, bool]]:
    """Each step's link and whether it is ticked, from the page's first-steps panel."""
    panel = text.split('id="first-steps"', 1)[1].split("</article>", 1)[0]
    items = re.findall(r'<li( class="done")?><a href="([^"]+)">', panel)
    return [(href, bool(done)) for done, href in items]


def test_a_new_advertiser_is_shown_how_to_top_up_make_an_offer_or_buy(app, client, ctx):
    signed_in(app, client, make_user("advertiser"))

    steps = steps_on(page(app, client, "/advertiser/"))

    assert steps == [
        ("/advertiser/topup", False),
        ("/advertiser/offers/new", False),
        ("/advertiser/catalog", False),
        ("/advertiser/keys", False),
    ]


def test_the_top_up_step_is_ticked_once_the_advertiser_has_money(app, client, ctx):
    advertiser = make_user("advertiser")
    fund(advertiser, 10_000)
    signed_in(app, client, advertiser)

    assert steps_on(page(app, client, "/advertiser/"))[0] == ("/advertiser/topup", True)


def test_an_advertiser_with_an_offer_sees_no_first_steps(app, client, ctx):
    advertiser = make_user("advertiser")
    make_offer(advertiser)
    signed_in(app, client, advertiser)

    assert 'id="first-steps"' not in page(app, client, "/advertiser/")


def test_a_new_webmaster_is_shown_the_offers_a_key_payouts_and_the_exchange(app, client, ctx):
    webmaster = make_user("webmaster")
    make_key(webmaster)
    signed_in(app, client, webmaster)

    text = page(app, client, "/webmaster/")

    assert steps_on(text) == [
        ("/webmaster/offers", False),
        ("/webmaster/keys", True),
        ("/webmaster/payouts", False),
        ("/webmaster/verticals", False),
    ]
    assert 'id="pending-approval"' not in text


def test_a_webmaster_that_joined_an_offer_sees_no_first_steps(app, client, ctx):
    webmaster = make_user("webmaster")
    make_join(webmaster, make_offer(make_user("advertiser")))
    signed_in(app, client, webmaster)

    assert 'id="first-steps"' not in page(app, client, "/webmaster/")


def test_a_webmaster_waiting_for_approval_is_told_so(app, client, ctx):
    newcomer = create_user("new@example.test", "New Co", "webmaster", PASSWORD, status="pending")
    commit()
    signed_in(app, client, newcomer)

    text = page(app, client, "/webmaster/")

    assert "Your account waits for a moderator's approval." in text
    assert steps_on(text)[0] == ("/webmaster/offers", False)
