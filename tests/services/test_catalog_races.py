"""Catalog purchases raced on real PostgreSQL over real HTTP: twenty buyers pressing buy at
once on the last slots of five leads sell exactly five slots, the losers get a 409 and
are charged nothing, and the ledger's invariants hold (docs/exchange.md, "The catalog")."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from billing.check import run_checks
from billing.domain import advertiser_available
from billing.models import Account
from exchange.buying.models import Sale
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from tests.api.test_exchange_flow import solar_lead, submit
from tests.conftest import BACKEND
from tests.exchange_factories import make_seller, make_vertical
from tests.factories import fund, make_key, make_user
from tests.http_harness import LiveServer, call

BUYERS = 20
LEADS = 5
FUNDS = 10_000


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "the catalog races run on PostgreSQL (tests/services)"


def test_twenty_buyers_racing_for_the_last_slots_of_five_leads_buy_exactly_five(live_app_factory):
    app = live_app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": BUYERS + 5, "max_overflow": 5})
    with app.app_context():
        vertical = make_vertical(slots=2)
        seller = make_user("webmaster")
        make_seller(seller, vertical)
        client = app.test_client()
        lead_ids = [
            submit(client, make_key(seller), vertical.id, solar_lead(80 + n)).get_json()["id"]
            for n in range(LEADS)
        ]
        sweep_catalog()
        early = make_user("advertiser")  # one slot of each lead already sold: one left each
        fund(early, FUNDS)
        early_key = make_key(early)
        with LiveServer(app) as server:
            for lead_id in lead_ids:
                assert (
                    call(server.port, "POST", f"/api/v1/catalog/{lead_id}/buy", early_key, {}).status == 201
                )
        buyers = [make_user("advertiser") for _ in range(BUYERS)]
        for buyer in buyers:
            fund(buyer, FUNDS)
        keys = {buyer.id: make_key(buyer) for buyer in buyers}
        db.session.commit()
        buyer_ids = list(keys)

    barrier = threading.Barrier(BUYERS)
    outcomes: list[tuple[int, int, int, str]] = []

    with LiveServer(app) as server:

        def press_buy(n: int, buyer_id: int) -> None:
            lead_id = lead_ids[n % LEADS]  # four buyers on each lead
            barrier.wait(timeout=30)
            reply = call(server.port, "POST", f"/api/v1/catalog/{lead_id}/buy", keys[buyer_id], {})
            code = reply.body["error"]["code"] if reply.status != 201 else ""
            outcomes.append((buyer_id, lead_id, reply.status, code))

        threads = [
            threading.Thread(target=press_buy, args=(n, buyer_id)) for n, buyer_id in enumerate(buyer_ids)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert len(outcomes) == BUYERS
    assert Counter(status for _, _, status, _ in outcomes) == {201: LEADS, 409: BUYERS - LEADS}
    assert {code for _, _, status, code in outcomes if status == 409} == {"sold_out"}
    assert sorted(lead for _, lead, status, _ in outcomes if status == 201) == sorted(lead_ids)
    winners = {buyer for buyer, _, status, _ in outcomes if status == 201}
    with app.app_context():
        live = db.session.execute(
            select(Sale.lead_id, func.count()).where(Sale.lead_id.in_(lead_ids)).group_by(Sale.lead_id)
        ).all()
        assert dict(live) == {lead_id: 2 for lead_id in lead_ids}  # never more than the slots
        listings = db.session.scalars(
            select(CatalogListing).where(CatalogListing.lead_id.in_(lead_ids))
        ).all()
        assert all((row.sold, row.listed) == (2, False) for row in listings)
        paid = dict(
            db.session.execute(select(Sale.buyer_id, Sale.price_minor).where(Sale.buyer_id.in_(keys))).all()
        )
        for buyer_id in buyer_ids:
            account = db.session.scalar(
                select(Account).where(Account.code == advertiser_available(buyer_id, "USD").code)
            )
            assert account.balance.available == FUNDS - paid.get(buyer_id, 0)  # a loser is charged nothing
        assert set(paid) == winners
        assert not any(run_checks().values()), run_checks()
