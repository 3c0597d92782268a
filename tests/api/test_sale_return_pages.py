"""Sale returns on the pages: the buyer returns an approved purchase from its purchases page
(reason and evidence), the seller finds it among its disputes and concedes it on the thread,
and the purchase shows the return; a contested one reads whole on the moderators' page."""

from __future__ import annotations

import pytest

from exchange.buying.models import Sale
from exchange.disputes.models import Dispute
from exchange.extensions import db
from tests.api.test_dispute_pages import page, post, signed_in
from tests.api.test_sale_returns import EVIDENCE, answer, approved_sales, return_sale
from tests.factories import balance, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


def users_of(sale_id: int):
    from exchange.accounts.models import User

    sale = db.session.get(Sale, sale_id)
    return db.session.get(User, sale.buyer_id), db.session.get(User, sale.seller_id)


def test_the_buyer_returns_from_its_purchases_and_the_seller_concedes_on_the_thread(app, client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    buyer, seller = users_of(sale_id)

    signed_in(app, client, buyer)
    before = page(app, client, "/advertiser/purchases")
    asked = post(
        app, client, f"/advertiser/purchases/{sale_id}/return", {"reason": "no_consent", "evidence": EVIDENCE}
    )
    after = page(app, client, "/advertiser/purchases")
    dispute = db.session.query(Dispute).one()

    assert "Return this lead" in before and 'value="not_the_consumer"' in before
    assert asked.status_code == 303
    assert f"Return asked of sale {sale_id}" in after
    assert f'href="/advertiser/disputes/{dispute.id}">return {dispute.id}</a>' in after
    assert "Return this lead" not in after, "one return per sale"

    signed_in(app, client, seller)
    listed = page(app, client, "/webmaster/disputes")
    thread = page(app, client, f"/webmaster/disputes/{dispute.id}")
    post(app, client, f"/webmaster/disputes/{dispute.id}/answer", {"answer": "concede", "statement": "Fair."})
    db.session.expire_all()

    assert "sale return" in listed
    assert "The buyer asks to return its purchase of this lead" in thread and f"sale {sale_id}" in thread
    assert "its price goes back to the buyer, and your payout with it" in thread
    assert EVIDENCE in thread
    assert db.session.get(Sale, sale_id).status == "returned"
    assert balance(client, buyer_key, "available")["posted_minor"] == 100_000
    assert balance(client, seller_key, "hold")["posted_minor"] == 0


def test_a_return_without_evidence_is_refused_on_the_page_and_writes_nothing(app, client, ctx):
    _, _, _, [sale_id] = approved_sales(client)
    buyer, _ = users_of(sale_id)
    signed_in(app, client, buyer)

    refused = post(
        app, client, f"/advertiser/purchases/{sale_id}/return", {"reason": "wrong_number", "evidence": " "}
    )
    body = page(app, client, "/advertiser/purchases")

    assert refused.status_code == 303
    assert "Not done: evidence:" in body
    assert db.session.query(Dispute).count() == 0


def test_the_moderators_read_a_contested_sale_return_with_its_sale(app, client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    dispute_id = return_sale(client, buyer_key, sale_id).get_json()["id"]
    answer(client, seller_key, dispute_id, accept=False, statement="It rang.")

    signed_in(app, client, make_user("moderator"))
    queue = page(app, client, "/moderator/")
    body = page(app, client, f"/moderator/disputes/{dispute_id}")

    assert f"/moderator/disputes/{dispute_id}" in queue
    assert f"Sale return {dispute_id} on lead" in body
    assert f"sale {sale_id} on" in body and "price 2000 · payout 1600 USD" in body
    assert "the sale is returned: the buyer's price and the seller's payout are reversed" in body
