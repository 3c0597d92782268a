"""A catalog purchase racing a live auction of the same consumer, on real PostgreSQL over
real HTTP: buyers press buy on lead A in the catalog while another seller submits the same
consumer (one phone, one email) as lead B, whose auction runs in-process with buy orders
that bid, shared and exclusive. Whatever the order, the consumer is never sold past the
vertical's slots, an exclusive sale is its only sale, no buyer has it twice, a loser pays
nothing, and the ledger's invariants hold (docs/exchange.md, "The catalog").

The worst interleaving is asked for rather than hoped for: the first purchase of a round
and the auction's settle each wait, once they have read the register of sales, for the
other to have read it too (``read_together``). Under the consumer's lock only one of them
can be there, so that wait times out and they take turns; were both to read the register
before either writes (no lock between them), both would sell on the same stale reading.
Two locks stand between them today: the consumer's register rows, and the platform's
revenue account, which every sale in a currency locks (``lock_for_sales``) before the
register is read; the catalog's purchases also take turns at the till, but an auction does
not wait for the till.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

import exchange.auctions.market as market
import exchange.catalog.till as till
from billing.check import run_checks
from billing.domain import advertiser_available
from billing.models import Account
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.catalog.domain import Listing
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.models import CatalogListing
from exchange.extensions import db
from exchange.leads.models import Lead
from tests.api.test_exchange_flow import solar_lead, submit
from tests.conftest import BACKEND
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import fund, make_key, make_user
from tests.http_harness import LiveServer, call

ROUNDS = 5
SLOTS = 2
FUNDS = 100_000
READ_TOGETHER_S = 1.5  # how long a side that read the register waits for the other
# Each round: lead B's region (TX: S1 and S2 share it; CA: X bids to take it whole), and
# whether the buyers press once the auction's settle holds its locks, or with the seller.
ROUND_KINDS = [("TX", False), ("CA", True), ("TX", True), ("CA", False), ("CA", True)]


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "the catalog races run on PostgreSQL (tests/services)"


class Rendezvous:
    """Once per round: the first purchase and the settle, each having read the register,
    wait for the other (a broken or timed-out barrier lets them go on)."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=READ_TOGETHER_S)
        self.arrived: set[str] = set()
        self.lock = threading.Lock()
        self.settling = threading.Event()  # the settle holds its locks: about to read

    def wait(self, side: str) -> None:
        with self.lock:
            if side in self.arrived:
                return
            self.arrived.add(side)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait()


def read_together(monkeypatch) -> list[Rendezvous]:
    """Hold the purchase (``Till.open``'s stock) and the settle (``Market.read``) after
    their reads of the register, until the other side has read too; returns the list whose
    last item is the round's rendezvous."""
    rounds: list[Rendezvous] = []
    real_stock = till.Stock

    class StockReadTogether(real_stock):
        @classmethod
        def read(cls, leads, verticals, now):
            stock = real_stock.read(leads, verticals, now)
            if rounds:
                rounds[-1].wait("purchase")
            return stock

    real_read = market.Market.read

    def market_read_together(self, deals):
        if rounds:
            rounds[-1].settling.set()
        real_read(self, deals)
        if rounds:
            rounds[-1].wait("settle")

    monkeypatch.setattr(till, "Stock", StockReadTogether)
    monkeypatch.setattr(market.Market, "read", market_read_together)
    return rounds


def test_a_purchase_racing_a_live_auction_of_the_same_consumer_never_oversells(live_app_factory, monkeypatch):
    """Slots=2. Five consumers, each listed in the catalog as lead A (unsold at its auction:
    no buy order yet). Then three buy orders: S1 (1500) and S2 (1400) shared anywhere, X
    (3000) exclusive in CA only. Each round, at once: four buyers press buy on lead A (two
    shared, one exclusive, and S1's own buyer, shared), and a second seller submits the same
    consumer as lead B (TX: S1 and S2 share it; CA: X takes it whole)."""
    app = live_app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 5})
    with app.app_context():
        vertical = make_vertical(slots=SLOTS)
        first_seller, second_seller = make_user("webmaster"), make_user("webmaster")
        make_seller(first_seller, vertical)
        make_seller(second_seller, vertical)
        client = app.test_client()
        consumers = [1000 + n for n in range(ROUNDS)]
        leads_a = [
            submit(client, make_key(first_seller), vertical.id, solar_lead(n)).get_json()["id"]
            for n in consumers
        ]
        assert {db.session.get(Lead, lead_id).status for lead_id in leads_a} == {"unsold"}
        sweep_catalog()
        assert all(db.session.get(CatalogListing, lead_id).listed for lead_id in leads_a)
        shared_1, shared_2, exclusive, *pressers = (make_user("advertiser") for _ in range(6))
        for each in (shared_1, shared_2, exclusive, *pressers):
            fund(each, FUNDS)
        make_buy_order(shared_1, vertical, bid_minor=1500)
        make_buy_order(shared_2, vertical, bid_minor=1400)
        make_buy_order(exclusive, vertical, bid_minor=3000, exclusive=True, filters={"regions": ["CA"]})
        # Each round: (buyer, exclusive?) pressing buy on lead A; S1's buyer among them.
        presses = [(each.id, False) for each in pressers[:2]] + [(pressers[2].id, True), (shared_1.id, False)]
        keys = {each.id: make_key(each) for each in (*pressers, shared_1)}
        seller_key = make_key(second_seller)
        vertical_id = vertical.id
        every_buyer = [shared_1.id, shared_2.id, exclusive.id, *(each.id for each in pressers)]
    rounds = read_together(monkeypatch)

    outcomes: list[dict] = []
    with LiveServer(app) as server:
        for n, lead_a, (region, auction_first) in zip(consumers, leads_a, ROUND_KINDS, strict=True):
            rounds.append(Rendezvous())
            buying = [
                (f"/api/v1/catalog/{lead_a}/buy", keys[buyer_id], {"exclusive": alone})
                for buyer_id, alone in presses
            ]
            selling = (f"/api/v1/verticals/{vertical_id}/leads", seller_key, solar_lead(n, region=region))
            replies = at_once(server.port, buying, selling, rounds[-1].settling if auction_first else None)
            pressed = {buyer_id: reply for (buyer_id, _), reply in zip(presses, replies, strict=False)}
            outcomes.append(pressed | {"seller": replies[-1]})

    with app.app_context():
        sweep_catalog()
        for round_, (lead_a, replies) in enumerate(zip(leads_a, outcomes, strict=True)):
            assert replies["seller"].status == 202, replies["seller"].body
            lead_b = replies["seller"].body["id"]
            assert_one_consumer_not_oversold(round_, lead_a, lead_b, replies)
            assert_listings_say_what_the_register_says(lead_a, lead_b)
        live_sales = db.session.scalars(
            select(Sale).where(Sale.vertical_id == vertical_id, Sale.status.in_(LIVE))
        ).all()
        # Both ways round were played: the auction first (X's exclusive sale), a purchase first.
        made = {(sale.auction_id is None, sale.exclusive) for sale in live_sales}
        assert (False, True) in made and {(True, False), (True, True)} & made, made
        spent = Counter()
        for sale in live_sales:
            spent[sale.buyer_id] += sale.price_minor
        for buyer_id in every_buyer:
            assert available(buyer_id) == FUNDS - spent[buyer_id], buyer_id  # a loser pays nothing
        problems = run_checks()
        assert not any(problems.values()), problems


def at_once(port: int, buying: list[tuple], selling: tuple, settling: threading.Event | None) -> list:
    """The presses (path, key, body) and the seller's submission, one thread each, released
    together; with ``settling``, the presses wait until the auction's settle holds its locks.
    Returns the replies: the presses', then the seller's."""
    barrier = threading.Barrier(len(buying) + 1)
    replies: list = [None] * (len(buying) + 1)

    def send(index: int, path: str, key: str, body: dict) -> None:
        barrier.wait(timeout=30)
        if settling is not None and index < len(buying):
            settling.wait(timeout=10)
        replies[index] = call(port, "POST", path, key, body)

    threads = [threading.Thread(target=send, args=(i, *req)) for i, req in enumerate([*buying, selling])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return replies


def assert_one_consumer_not_oversold(round_: int, lead_a: int, lead_b: int, replies: dict) -> None:
    sales = db.session.scalars(select(Sale).where(Sale.lead_id.in_((lead_a, lead_b))).order_by(Sale.id)).all()
    live = [sale for sale in sales if sale.status in LIVE]
    seen = [(s.id, s.lead_id, s.buyer_id, s.exclusive, s.auction_id is None, s.status) for s in sales]
    codes = {
        who: (reply.status, reply.body["error"]["code"] if reply.status != 201 else "")
        for who, reply in replies.items()
        if who != "seller"
    }
    where = f"round {round_}: sales (id, lead, buyer, exclusive, catalog, status) {seen}, presses {codes}"
    assert len(live) <= SLOTS, where
    if any(sale.exclusive for sale in live):
        assert len(live) == 1, where
    assert len({sale.buyer_id for sale in live}) == len(live), where  # nobody has it twice
    assert len({(sale.phone_hash, sale.email_hash) for sale in live}) <= 1, where
    bought = {who for who, (status, _) in codes.items() if status == 201}
    assert bought == {sale.buyer_id for sale in live if sale.lead_id == lead_a}, where
    assert {code for status, code in codes.values() if status != 201} <= {"sold_out", "already_bought"}, where


def register_slots(lead_ids: list[int]) -> tuple[Listing, list[Sale]]:
    """The consumer's slots as the register reads them: its live sales, of whichever lead."""
    live = db.session.scalars(select(Sale).where(Sale.lead_id.in_(lead_ids), Sale.status.in_(LIVE))).all()
    return Listing.of(SLOTS, len(live), any(sale.exclusive for sale in live)), live


def shown(listing: CatalogListing) -> tuple[int, bool, bool]:
    return listing.sold, listing.exclusive_sold, listing.listed


def assert_listings_say_what_the_register_says(lead_a: int, lead_b: int) -> None:
    """After the race and a sweep, both listings say what the register says: lead B's was
    written by the sweep, lead A's read again by it when lead B's auction sold the consumer
    after lead A's own purchases (``refresh_sold_elsewhere``)."""
    slots, live = register_slots([lead_a, lead_b])
    listing_a, listing_b = db.session.get(CatalogListing, lead_a), db.session.get(CatalogListing, lead_b)
    assert listing_b is not None, f"lead {lead_b} never swept into the catalog"
    assert shown(listing_b) == (slots.sold, slots.exclusive_sold, slots.listed), per_lead(live)
    assert shown(listing_a) == (slots.sold, slots.exclusive_sold, slots.listed), per_lead(live)


def per_lead(sales: list[Sale]) -> dict:
    found = defaultdict(list)
    for sale in sales:
        found[sale.lead_id].append((sale.buyer_id, sale.exclusive))
    return dict(found)


def available(user_id: int) -> int:
    code = advertiser_available(user_id, "USD").code
    return db.session.scalar(select(Account).where(Account.code == code)).balance.available


def test_a_listing_whose_consumer_another_leads_auction_sold_out_leaves_the_catalog_at_the_next_sweep(
    live_app_factory,
):
    """Slots=2: lead A unsold at its auction and listed; the same consumer submitted again
    by another seller sells both slots at its auction (two shared buy orders); after the
    next sweep, lead A's listing should say what the register says: sold out, not listed."""
    app = live_app_factory()
    with app.app_context():
        vertical = make_vertical(slots=SLOTS)
        first_seller, second_seller = make_user("webmaster"), make_user("webmaster")
        make_seller(first_seller, vertical)
        make_seller(second_seller, vertical)
        client = app.test_client()
        lead_a = submit(client, make_key(first_seller), vertical.id, solar_lead(1100)).get_json()["id"]
        sweep_catalog()
        assert db.session.get(CatalogListing, lead_a).listed
        for bid in (1500, 1400):
            buyer = make_user("advertiser")
            fund(buyer, FUNDS)
            make_buy_order(buyer, vertical, bid_minor=bid)
        lead_b = submit(client, make_key(second_seller), vertical.id, solar_lead(1100)).get_json()["id"]

        sweep_catalog()

        slots, live = register_slots([lead_a, lead_b])
        assert (slots.sold, slots.listed) == (SLOTS, False), per_lead(live)
        assert shown(db.session.get(CatalogListing, lead_b)) == (SLOTS, False, False)
        assert shown(db.session.get(CatalogListing, lead_a)) == (SLOTS, False, False)
