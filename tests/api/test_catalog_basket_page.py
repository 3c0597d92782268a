"""The catalog page's basket (/advertiser/catalog, POST /advertiser/catalog/basket), driven
with the test client: the rows ticked are bought as one order at the prices the page
showed (the sales, the money reserved for them all, the notice on Purchases); a refusal of
any one is the catalog again naming the lead and why, and nothing bought; an empty, a
tampered or an oversized selection is the page again with a message (422), never a 500;
CSRF; buyers only (docs/exchange.md, "The catalog")."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from exchange import clock
from exchange.catalog.purchases import MAX_BASKET
from tests.api import test_catalog_pages
from tests.api.test_advertiser_pages import page, post, signed_in
from tests.api.test_catalog_pages import (
    FLOOR,
    buyer,
    problem_of,
    rows,
    sales_of,
    set_facts,
    transfers,
)
from tests.factories import balance, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

BASKET = "/advertiser/catalog/basket"
catalog = test_catalog_pages.catalog  # the fixture: four listed leads of a two-slot vertical


def shared(lead_id: int, price: int = FLOOR) -> str:
    return f"{lead_id}:shared:{price}"


def every(lead_id: int, price: int = 2 * FLOOR) -> str:
    return f"{lead_id}:exclusive:{price}"


def boxes(body: str) -> dict[str, bool]:
    """The basket's boxes on the page: each one's value, and whether it is ticked."""
    return {
        value: "checked" in tag
        for tag in re.findall(r'<input type="checkbox" form="basket"[^>]*>', body)
        for value in re.findall(r'value="([^"]+)"', tag)
    }


def test_each_row_has_a_box_for_a_slot_and_for_every_slot_while_offered_both_at_the_price_shown(
    app, client, catalog
):
    _, ids = catalog
    set_facts(ids[1], sold=1)
    buyer(app, client)

    body = page(app, client, "/advertiser/catalog")

    assert rows(body)[ids[0]][12] == "Select Select exclusively"
    assert rows(body)[ids[1]][12] == "Select"  # a slot sold: shared only
    assert {value for value, ticked in boxes(body).items() if not ticked} == {
        *(shared(lead_id) for lead_id in ids),
        *(every(lead_id) for lead_id in ids if lead_id != ids[1]),
    }
    assert re.search(r'<form method="post" id="basket" action="/advertiser/catalog/basket\?page=1"', body)
    assert "Buy the selected leads" in body


def test_two_leads_are_bought_as_one_order_and_both_are_on_purchases(app, client, catalog):
    _, ids = catalog
    user = buyer(app, client, funds=5000)

    response = post(app, client, BASKET, {"selected": [shared(ids[0]), every(ids[2])]})

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/advertiser/purchases"
    [first], [second] = sales_of(ids[0]), sales_of(ids[2])
    assert [(s.buyer_id, s.price_minor, s.exclusive, s.status) for s in (first, second)] == [
        (user.id, FLOOR, False, "pending"),
        (user.id, 2 * FLOOR, True, "pending"),
    ]
    assert balance(client, make_key(user), "available")["available_minor"] == 5000 - 3 * FLOOR
    purchases = page(app, client, "/advertiser/purchases")
    assert (
        f"Leads {ids[0]}, {ids[2]} (exclusively) are yours: sales {first.id}, {second.id}, "
        "24.00 USD reserved from your balance." in purchases
    )
    assert f'id="sale-{first.id}"' in purchases and f'id="sale-{second.id}"' in purchases
    after = rows(page(app, client, "/advertiser/catalog"))
    assert after[ids[0]][8] == "1 of 2" and ids[2] not in after  # every slot of the second sold


def test_one_lead_refused_buys_none_names_it_and_shows_the_selection_again(app, client, catalog):
    _, ids = catalog
    buyer(app, client)
    assert post(app, client, BASKET, {"selected": [shared(ids[1])]}).status_code == 303  # one
    user = buyer(app, client, funds=5000)  # and another, who saw the page before that sale
    before = transfers()

    response = post(
        app, client, BASKET + "?sort=cheapest", {"selected": [shared(ids[0]), every(ids[1]), shared(ids[3])]}
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert problem_of(body) == (
        f"None of the 3 selected leads was bought, because of lead {ids[1]}: "
        "Sold out: exclusive only while no slot is sold."
    )
    assert (sales_of(ids[0]), sales_of(ids[3]), len(sales_of(ids[1])), transfers()) == ([], [], 1, before)
    assert balance(client, make_key(user), "available")["available_minor"] == 5000
    ticked = {value for value, on in boxes(body).items() if on}
    assert ticked == {shared(ids[0]), shared(ids[3])}  # the refused choice is no longer offered
    assert '<option value="cheapest" selected>' in body  # the page as it was


def test_a_price_that_moved_in_the_selection_names_the_lead_and_its_new_price(app, client, catalog):
    _, ids = catalog
    buyer(app, client)
    set_facts(ids[1], captured_at=clock.now() - timedelta(hours=25))  # since the page: the 50 % step
    before = transfers()

    response = post(app, client, BASKET, {"selected": [shared(ids[0]), shared(ids[1])]})

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert problem_of(body) == (
        f"None of the 2 selected leads was bought, because of lead {ids[1]}: its price is now 4.00 USD "
        "(the page showed 8.00 USD). Its row below has the new price: buy it again if you want it."
    )
    assert (sales_of(ids[0]), sales_of(ids[1]), transfers()) == ([], [], before)
    assert boxes(body)[shared(ids[0])] and not boxes(body)[shared(ids[1], 400)]


def test_a_selection_the_balance_does_not_cover_buys_nothing(app, client, catalog):
    _, ids = catalog
    buyer(app, client, funds=FLOOR + FLOOR // 2)
    before = transfers()

    response = post(app, client, BASKET, {"selected": [shared(ids[0]), shared(ids[1])]})

    assert response.status_code == 409
    assert problem_of(response.get_data(as_text=True)) == (
        f"None of the 2 selected leads was bought, because of lead {ids[1]}: "
        "Your available balance does not cover the price."
    )
    assert (sales_of(ids[0]), sales_of(ids[1]), transfers()) == ([], [], before)


@pytest.mark.parametrize(
    "selected, message",
    [
        ([], "no lead is selected. Tick the leads you want in the table, then buy them."),
        (["12"], "the selection is not one the table sends. Tick the leads again."),
        (["x:shared:800"], "the selection is not one the table sends. Tick the leads again."),
        (["1:half:800"], "the selection is not one the table sends. Tick the leads again."),
        (["1:shared:-800"], "the selection is not one the table sends. Tick the leads again."),
        (["1:shared:" + "9" * 5000], "the selection is not one the table sends. Tick the leads again."),
        (["1:shared:0"], "0: expected_price_minor: Must be greater than or equal to 1"),
        (["LEAD:shared:800", "LEAD:exclusive:1600"], "lead LEAD is selected twice."),
        ([f"{n}:shared:800" for n in range(1, MAX_BASKET + 2)], f"one order buys {MAX_BASKET} at most."),
    ],
)
def test_an_empty_or_malformed_selection_is_the_page_again_with_a_message(
    app, client, catalog, selected, message
):
    _, ids = catalog
    buyer(app, client)
    selected = [value.replace("LEAD", str(ids[0])) for value in selected]

    response = post(app, client, BASKET, {"selected": selected})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    problem = problem_of(body)
    assert problem.startswith("Nothing was bought: ") and message.replace("LEAD", str(ids[0])) in problem
    assert 'id="catalog"' in body and all(sales_of(lead_id) == [] for lead_id in ids)


def test_a_basket_without_the_csrf_token_is_refused_and_one_with_it_goes_through(
    app, client, catalog, monkeypatch
):
    _, ids = catalog
    buyer(app, client)
    body = page(app, client, "/advertiser/catalog")
    basket = re.search(r'<form method="post" id="basket".*?</form>', body, re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', basket).group(1)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off
    selected = [shared(ids[0]), shared(ids[1])]

    refused = post(app, client, BASKET, {"selected": selected})
    assert refused.status_code == 400 and sales_of(ids[0]) == sales_of(ids[1]) == []

    done = post(app, client, BASKET, {"selected": selected, "csrf_token": token})
    assert done.status_code == 303 and len(sales_of(ids[0])) == len(sales_of(ids[1])) == 1


def test_only_a_buyer_buys_a_selection(app, client, catalog):
    _, ids = catalog
    assert urlsplit(post(app, client, BASKET, {"selected": [shared(ids[0])]}).headers["Location"]).path == (
        "/login"
    )
    signed_in(app, client, make_user("webmaster"))

    assert post(app, client, BASKET, {"selected": [shared(ids[0])]}).status_code == 403
    assert sales_of(ids[0]) == []
