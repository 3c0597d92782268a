"""Returning a sale: the buyer returns an approved sale within the vertical's return window
with a reason from the fixed list and its evidence; the seller concedes or contests; the
moderators decide a contested one; an upheld return reverses the sale's money once and
frees its slot, sold again from the catalog unless the reason condemns the lead; a buyer's
returns are capped per month of purchases (docs/exchange.md, "Returns")."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing.models import Transfer
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.periodic import sweep
from tests.api.test_exchange_flow import solar_lead, submit
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import auth, balance, fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")  # the ledger checks out after each

HOUR = 3600
EVIDENCE = "Called 3 times on 14 Jan at 10:02, 14:30 and 18:45: the number is not in service."


def approved_sales(client, *, count: int = 1, slots: int = 1, cap: int | None = None, **vertical):
    """``count`` leads sold at 2000 (20 % margin) to one buyer, approved: review 1 h, hold
    48 h, returns for 24 h after approval."""
    settings = {"review_window_seconds": HOUR, "hold_seconds": 48 * HOUR, "return_window_seconds": 24 * HOUR}
    made = make_vertical(slots=slots, margin_bps=2000, return_cap_percent=cap, **(settings | vertical))
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, made)
    fund(buyer, 100_000)
    make_buy_order(buyer, made, bid_minor=2000)
    seller_key, buyer_key = make_key(seller), make_key(buyer)
    sales = []
    for n in range(count):
        lead_id = submit(client, seller_key, made.id, solar_lead(n + 1)).get_json()["id"]
        sale = db.session.scalar(select(Sale).where(Sale.lead_id == lead_id))
        assert client.post(f"/api/v1/sales/{sale.id}/approve", headers=auth(buyer_key)).status_code == 200
        sales.append(sale.id)
    return made, seller_key, buyer_key, sales


def return_sale(client, key: str, sale_id: int, reason: str = "wrong_number", evidence: str = EVIDENCE):
    return client.post(
        f"/api/v1/sales/{sale_id}/return", json={"reason": reason, "evidence": evidence}, headers=auth(key)
    )


def answer(client, key: str, dispute_id: int, accept: bool, statement: str = "Checked the call log."):
    body = {"accept": accept, "statement": statement}
    return client.post(f"/api/v1/disputes/{dispute_id}/answer", json=body, headers=auth(key))


def sale(sale_id: int) -> Sale:
    db.session.expire_all()
    return db.session.get(Sale, sale_id)


def reversals(sale_id: int) -> int:
    pattern = f"sale:{sale_id}:return:%"
    return db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.id.like(pattern)))


def test_the_seller_concedes_a_return_and_the_price_and_payout_go_back(client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    assert balance(client, buyer_key, "available")["posted_minor"] == 98_000
    assert balance(client, seller_key, "hold")["posted_minor"] == 1600

    opened = return_sale(client, buyer_key, sale_id)
    assert opened.status_code == 201, opened.get_json()
    dispute = opened.get_json()
    assert (dispute["kind"], dispute["sale_id"], dispute["status"]) == (
        "sale_return",
        sale_id,
        "awaiting_answer",
    )
    assert dispute["messages"][0]["body"] == EVIDENCE
    assert sale(sale_id).status == "approved", "nothing moves before the seller answers"

    conceded = answer(client, seller_key, dispute["id"], accept=True)
    again = answer(client, seller_key, dispute["id"], accept=True)

    assert conceded.status_code == 200 and conceded.get_json()["outcome"] == "upheld"
    assert again.status_code == 409
    assert sale(sale_id).status == "returned"
    assert reversals(sale_id) == 2  # the payout from the seller's hold, the margin from revenue
    assert balance(client, buyer_key, "available")["posted_minor"] == 100_000
    assert balance(client, seller_key, "hold")["posted_minor"] == 0
    read = client.get(f"/api/v1/sales/{sale_id}", headers=auth(buyer_key)).get_json()
    assert (read["status"], read["return_dispute_id"], read["return_until"]) == (
        "returned",
        dispute["id"],
        None,
    )
    assert read["lead"] == {}, "a returned sale no longer shows the lead"


def test_a_contested_return_reaches_the_moderators_who_uphold_it_once(client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    moderator_key = make_key(make_user("moderator"))
    dispute_id = return_sale(client, buyer_key, sale_id, "not_the_consumer").get_json()["id"]

    contested = answer(
        client, seller_key, dispute_id, accept=False, statement="The consent shows who it was."
    )
    queue = client.get("/api/v1/moderation/disputes", headers=auth(moderator_key)).get_json()
    evidence = client.get(f"/api/v1/moderation/disputes/{dispute_id}/evidence", headers=auth(moderator_key))
    decision = {"decision": "uphold", "reason": "The recording shows another person."}
    first = client.post(f"/api/v1/disputes/{dispute_id}/resolve", json=decision, headers=auth(moderator_key))
    second = client.post(f"/api/v1/disputes/{dispute_id}/resolve", json=decision, headers=auth(moderator_key))

    assert contested.get_json()["status"] == "escalated"
    assert dispute_id in [item["id"] for item in queue["items"]]
    assert evidence.status_code == 200
    assert evidence.get_json()["sale"]["id"] == sale_id
    assert evidence.get_json()["sale"]["price_minor"] == 2000
    assert first.status_code == 200 and second.status_code == 200
    assert sale(sale_id).status == "returned"
    assert reversals(sale_id) == 2, "decided twice, reversed once"
    assert balance(client, buyer_key, "available")["posted_minor"] == 100_000


def test_an_overturned_return_leaves_the_sale_and_its_hold_released_after_the_decision(
    client, ctx, frozen_clock
):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    moderator_key = make_key(make_user("moderator"))
    frozen_clock.advance(hours=23)
    dispute_id = return_sale(client, buyer_key, sale_id).get_json()["id"]
    answer(client, seller_key, dispute_id, accept=False, statement="It rang: see the log.")

    frozen_clock.advance(hours=30)  # past the hold (48 h after approval)
    held = sweep()
    decision = {"decision": "overturn", "reason": "The call log shows a 4-minute call."}
    overturned = client.post(
        f"/api/v1/disputes/{dispute_id}/resolve", json=decision, headers=auth(moderator_key)
    )
    released = sweep()

    assert held.sale_holds_released == 0, "the payout stays held while the return is open"
    assert overturned.get_json()["outcome"] == "overturned"
    assert released.sale_holds_released == 1
    assert (sale(sale_id).status, reversals(sale_id)) == ("approved", 0)
    assert balance(client, seller_key, "available")["posted_minor"] == 1600
    assert balance(client, buyer_key, "available")["posted_minor"] == 98_000


def test_a_return_is_refused_outside_the_window_and_before_approval(client, ctx, frozen_clock):
    made, seller_key, buyer_key, [sale_id] = approved_sales(client)
    pending_lead = submit(client, seller_key, made.id, solar_lead(7)).get_json()["id"]
    pending = db.session.scalar(select(Sale).where(Sale.lead_id == pending_lead))

    not_yet = return_sale(client, buyer_key, pending.id)
    frozen_clock.advance(hours=24)  # the window is 24 h after approval: closed at its end
    too_late = return_sale(client, buyer_key, sale_id)

    assert not_yet.status_code == 409 and not_yet.get_json()["error"]["code"] == "sale_not_approved"
    assert "review window" in not_yet.get_json()["error"]["message"]
    assert too_late.status_code == 409 and too_late.get_json()["error"]["code"] == "return_window_closed"
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0
    assert sale(sale_id).status == "approved"


def test_a_return_inside_the_window_is_taken_up_to_its_last_second(client, ctx, frozen_clock):
    _, _, buyer_key, [sale_id] = approved_sales(client)
    frozen_clock.advance(hours=23, minutes=59, seconds=59)

    assert return_sale(client, buyer_key, sale_id).status_code == 201


def test_bad_returns_get_field_messages_and_write_nothing(client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    stranger_key = make_key(make_user("advertiser"))

    bad_reason = return_sale(client, buyer_key, sale_id, reason="changed_my_mind")
    blank = return_sale(client, buyer_key, sale_id, evidence="   ")
    by_seller = return_sale(client, seller_key, sale_id)
    by_stranger = return_sale(client, stranger_key, sale_id)
    no_sale = return_sale(client, buyer_key, 999_999)

    assert bad_reason.status_code == 422 and "reason" in bad_reason.get_json()["error"]["fields"]
    assert blank.status_code == 422 and "evidence" in blank.get_json()["error"]["fields"]
    assert by_seller.status_code == 403
    assert by_stranger.status_code == 404 and no_sale.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_a_sale_is_returned_once(client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)

    first = return_sale(client, buyer_key, sale_id)
    answer(client, seller_key, first.get_json()["id"], accept=False, statement="No.")
    client.post(f"/api/v1/disputes/{first.get_json()['id']}/withdraw", headers=auth(buyer_key))
    second = return_sale(client, buyer_key, sale_id, reason="duplicate")

    assert second.status_code == 409 and second.get_json()["error"]["code"] == "dispute_exists"


def test_the_cap_refuses_the_return_past_its_percent_of_the_months_purchases(client, ctx):
    # 25 % of 4 purchases: one return.
    _, seller_key, buyer_key, sales = approved_sales(client, count=4, cap=25)

    first = return_sale(client, buyer_key, sales[0])
    second = return_sale(client, buyer_key, sales[1])
    client.post(f"/api/v1/disputes/{first.get_json()['id']}/withdraw", headers=auth(buyer_key))
    after_withdrawal = return_sale(client, buyer_key, sales[2])

    assert first.status_code == 201
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "return_cap_reached"
    assert "25 %" in second.get_json()["error"]["message"]
    assert after_withdrawal.status_code == 201, "a withdrawn return does not count"


def test_an_exchange_lead_is_not_disputed_as_an_offers_lead(client, ctx):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)
    lead_id = sale(sale_id).lead_id

    as_offer = client.post(
        "/api/v1/disputes",
        json={"lead_id": lead_id, "reason": "contact_valid", "statement": "It is valid."},
        headers=auth(seller_key),
    )

    assert as_offer.status_code == 409 and as_offer.get_json()["error"]["code"] == "exchange_lead"


def catalog_sale_returned(client, reason: str):
    """A lead of a three-slot vertical bought from the catalog, approved, then returned for
    ``reason`` and conceded; the sweep has run since."""
    made = make_vertical(slots=3, margin_bps=2000, review_window_seconds=HOUR, return_cap_percent=None)
    seller, buyer = make_user("webmaster"), make_user("advertiser")
    make_seller(seller, made)
    fund(buyer, 100_000)
    seller_key, buyer_key = make_key(seller), make_key(buyer)
    lead_id = submit(client, seller_key, made.id, solar_lead(5)).get_json()["id"]
    sweep_catalog()
    bought = client.post(f"/api/v1/catalog/{lead_id}/buy", json={}, headers=auth(buyer_key)).get_json()
    client.post(f"/api/v1/sales/{bought['id']}/approve", headers=auth(buyer_key))
    dispute_id = return_sale(client, buyer_key, bought["id"], reason).get_json()["id"]
    answer(client, seller_key, dispute_id, accept=True)
    sweep_catalog()
    db.session.expire_all()
    return lead_id, buyer_key, db.session.get(CatalogListing, lead_id)


def test_a_slot_returned_as_a_duplicate_is_sold_again_but_not_to_its_returner(client, ctx):
    lead_id, buyer_key, listing = catalog_sale_returned(client, "duplicate")
    listed, sold = listing.listed, listing.sold
    other = make_user("advertiser")
    fund(other, 100_000)

    again = client.post(f"/api/v1/catalog/{lead_id}/buy", json={}, headers=auth(buyer_key))
    resold = client.post(f"/api/v1/catalog/{lead_id}/buy", json={}, headers=auth(make_key(other)))

    assert listed and sold == 0, "the slot is back in the catalog"
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_bought"
    assert resold.status_code == 201


@pytest.mark.parametrize("reason", ["wrong_number", "not_the_consumer", "no_consent"])
def test_a_slot_returned_for_a_reason_that_condemns_the_lead_is_never_sold_again(client, ctx, reason):
    lead_id, _, listing = catalog_sale_returned(client, reason)
    other = make_user("advertiser")
    fund(other, 100_000)

    refused = client.post(f"/api/v1/catalog/{lead_id}/buy", json={}, headers=auth(make_key(other)))

    assert not listing.listed
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "gone"


def test_a_page_of_sales_reads_their_returns_in_one_query(client, ctx):
    from sqlalchemy import event

    _, _, buyer_key, sales = approved_sales(client, count=5, cap=None)
    return_sale(client, buyer_key, sales[0])
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        listed = client.get("/api/v1/sales", headers=auth(buyer_key)).get_json()["items"]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    assert [item["return_dispute_id"] is not None for item in listed] == [False] * 4 + [True]
    assert all(item["return_until"] for item in listed[:4])
    assert sum("FROM disputes" in statement for statement in statements) == 1
