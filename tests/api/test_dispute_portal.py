"""Each party's portal page shows its disputes and the exchange's messages about them."""

from __future__ import annotations

from tests.api.test_disputes import Market
from tests.api.test_web_portal import login, request


def test_both_parties_see_the_decided_appeal_and_the_message_on_their_pages(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])
    market.decide(dispute["id"], "overturn")

    pages = {}
    for user, path in ((market.webmaster, "/webmaster/"), (market.advertiser, "/advertiser/")):
        client.delete_cookie("session", domain="exchange.test")
        assert login(app, client, user.email).status_code == 302
        response = request(app, client, "GET", path)
        assert response.status_code == 200
        pages[path] = response.get_data(as_text=True)

    for path, page in pages.items():
        title = page.split("<title>", 1)[1].split("</title>", 1)[0]
        assert title == f"{path.strip('/').capitalize()} · Lead exchange"
        body = page.split("<body", 1)[1]
        assert (
            f"<td>{dispute['id']}</td><td>{lead_id}</td><td><abbr" in body
            and 'data-code="appeal">Appeal</abbr>' in body
        )
        assert 'data-code="overturned">Overturned</abbr></td>' in page
    assert "you won" in pages["/webmaster/"].split("<body", 1)[1]
    assert "you lost" in pages["/advertiser/"].split("<body", 1)[1]
