"""The exchange's auctions raced on real PostgreSQL: many auctions at once (threads, the
asyncio auctioneer in this process, ``flask exchange auctioneer`` as a subprocess), against
one buy order's cap, two buyers' last money, one consumer's register. Whatever the order,
no cap, balance, slot or exclusivity is ever passed, and the ledger's invariants hold.

The worst interleaving is forced rather than hoped for: every auction's plan (``prepare``)
is read and committed before any of them settles, so each settles on a stale plan and only
what ``settle`` reads again under its locks stands between it and an oversell.

Settles overlap: their locks are taken in one order (exchange/auctions/settle.py), and two
tests at the end hold two settles at the moment each would wait for the other under the
lock orders they replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

import exchange.auctions.market as market
import exchange.auctions.runner as runner
import exchange.auctions.settle as settling
from billing import ledger
from billing.check import run_checks
from billing.domain import advertiser_available, platform, webmaster_hold
from billing.models import Account
from exchange import jobs
from exchange.actors import Actor
from exchange.auctions.models import Auction, AuctionBid
from exchange.auctions.plan import prepare_all
from exchange.auctions.runner import Auctioneer, run_one, serve
from exchange.auctions.services import claim
from exchange.auctions.settle import settle_all
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.db import commit
from exchange.delivery.leads.settings import put_setting
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.selling.intake import submit_to_vertical
from exchange.selling.schemas import ExchangeLeadSubmitSchema
from exchange.selling.validation import validate_exchange_lead
from tests.advertiser_endpoint import Answer, Endpoint
from tests.api.test_exchange_flow import solar_lead
from tests.conftest import BACKEND
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import fund, make_user
from tests.http_harness import ROOT, process_env
from tests.services.test_concurrency import race
from tests.services.workers import wait_until

POOL = {"pool_size": 40, "max_overflow": 10}  # every racing thread has its own connection


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert BACKEND == "services", "the exchange races run on PostgreSQL (tests/services)"


def racing_app(live_app_factory, **extra):
    return live_app_factory(SQLALCHEMY_ENGINE_OPTIONS=POOL, **extra)


# -- the market ----------------------------------------------------------------------------


def sellers_on(vertical, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        webmaster = make_user("webmaster")
        make_seller(webmaster, vertical)
        ids.append(webmaster.id)
    return ids


def buyer(funds: int):
    user = make_user("advertiser")
    fund(user, funds)
    return user


def for_sale(seller_id: int, vertical_id: int, n: int, **fields) -> int:
    """Consumer ``n``'s lead submitted by the seller and validated: its auction is due, and
    nothing runs it (the test does). Returns the auction's id."""
    payload = ExchangeLeadSubmitSchema().load(solar_lead(n, **fields))
    actor = Actor(kind="user", user_id=seller_id)
    lead_id = submit_to_vertical(seller_id, vertical_id, payload, actor, enqueue=False).lead.id
    commit()
    assert validate_exchange_lead(lead_id) == "for_sale"
    jobs.discard_pending()  # the in-process auction job: the race runs the auction
    commit()
    return db.session.scalar(select(Auction.id).where(Auction.lead_id == lead_id))


def planned_together(monkeypatch, count: int) -> None:
    """Hold each of ``count`` auctions run in threads (``run_one``) once its plan is
    committed, until all are planned; then they settle at once, each on a stale plan."""
    barrier = threading.Barrier(count, timeout=30)
    waited = threading.local()

    def settle_on_a_stale_plan(batch):
        if not getattr(waited, "once", False):  # once per thread
            waited.once = True
            barrier.wait()
        return settle_all(batch)

    monkeypatch.setattr(runner, "settle_all", settle_on_a_stale_plan)


def run_all(app, auction_ids: list[int]) -> list:
    """Run the auctions at once, one thread each, as the embedded mode does (``run_one``)."""

    def claimed_and_run(auction_id: int) -> None:
        attempt = claim(auction_id, lease_seconds=60)
        commit()
        run_one(app, auction_id, attempt)

    return race(app, claimed_and_run, auction_ids)


def sales_of(**where) -> list[Sale]:
    query = select(Sale).order_by(Sale.id)
    for name, value in where.items():
        query = query.where(getattr(Sale, name) == value)
    return list(db.session.scalars(query))


def live(sales: list[Sale]) -> list[Sale]:
    return [sale for sale in sales if sale.status in LIVE]


def available(user_id: int) -> int:
    code = advertiser_available(user_id, "USD").code
    return db.session.scalar(select(Account).where(Account.code == code)).balance.available


def assert_ledger_clean() -> None:
    problems = run_checks()
    assert not any(problems.values()), problems


# -- 1. a buy order's cap --------------------------------------------------------------------


def test_fifty_leads_racing_for_a_buy_order_capped_at_ten_sell_exactly_ten(
    live_app_factory, redis_url, monkeypatch
):
    """Slots=1 (a lead sells once at most); one buy order, a fixed bid, {"day_leads": 10},
    money for all fifty; fifty leads of fifty consumers from ten sellers. The auctioneer
    (``serve``, not inline: its database steps on threads, each in its own app context and
    connection) runs all fifty at once, and none settles before all fifty are planned: every
    plan saw the order's cap unused, so the cap read again under the order's lock stops 40."""
    leads, cap, price = 50, 10, 2000
    # REDIS_URL: nothing runs the auctions in-process; the auctioneer claims them.
    app = racing_app(live_app_factory, REDIS_URL=redis_url, AUCTION_CONCURRENCY=64)
    with app.app_context():
        vertical = make_vertical(slots=1)
        sellers = sellers_on(vertical, 10)
        rich = buyer(100 * price)
        order = make_buy_order(rich, vertical, bid_minor=price, caps={"day_leads": cap})
        auction_ids = [for_sale(sellers[n % 10], vertical.id, 100 + n) for n in range(leads)]
        vertical_id, order_id, rich_id = vertical.id, order.id, rich.id

    planned: list[int] = []
    all_planned = asyncio.Event()
    real_step = Auctioneer.step

    async def step(self, work, *args):
        if work is settle_all:
            await all_planned.wait()
            return await real_step(self, work, *args)
        result = await real_step(self, work, *args)
        if work is prepare_all:
            planned.extend(args[0])
            if len(set(planned)) == leads:
                all_planned.set()
        return result

    def still_open() -> int:
        with app.app_context():
            return db.session.scalar(
                select(func.count()).select_from(Auction).where(Auction.status.in_(("due", "posting")))
            )

    async def auctioneer_until_done() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, stop=stop, idle_s=0.05))
        try:
            while await asyncio.to_thread(still_open):
                assert not serving.done(), serving
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(serving, timeout=30)

    monkeypatch.setattr(Auctioneer, "step", step)
    asyncio.run(asyncio.wait_for(auctioneer_until_done(), timeout=45))

    assert sorted(planned) == sorted(auction_ids), "each auction planned once, all before any settled"
    with app.app_context():
        sales = sales_of(buy_order_id=order_id)
        assert [sale.status for sale in sales] == ["pending"] * cap, [(s.id, s.status) for s in sales]
        assert len({sale.lead_id for sale in sales}) == cap
        auctions = db.session.scalars(select(Auction).where(Auction.id.in_(auction_ids))).all()
        assert Counter((a.status, a.outcome) for a in auctions) == {
            ("done", "sold"): cap,
            ("done", "unsold"): leads - cap,
        }
        statuses = Counter(db.session.scalars(select(Lead.status).where(Lead.vertical_id == vertical_id)))
        assert statuses == {"sold": cap, "unsold": leads - cap}
        stopped_by_cap = [
            a
            for a in auctions
            if any(s["kind"] == "failed" and s["reason"].startswith("cap") for s in a.steps)
        ]
        assert len(stopped_by_cap) == leads - cap  # under the lock, not by the stale plans
        assert available(rich_id) == (100 - cap) * price
        assert_ledger_clean()


# -- 2. two buyers' last money ---------------------------------------------------------------


def test_two_buyers_with_money_for_one_lead_each_never_go_below_zero(live_app_factory, monkeypatch):
    """Slots=1; two buyers with fixed bids, each funded exactly its bid; five leads, all
    planned while both buyers could still pay for each, then settled."""
    app = racing_app(live_app_factory)
    bids = (3000, 2500)
    with app.app_context():
        vertical = make_vertical(slots=1)
        sellers = sellers_on(vertical, 5)
        buyers = [buyer(amount) for amount in bids]
        for each, amount in zip(buyers, bids, strict=True):
            make_buy_order(each, vertical, bid_minor=amount)
        auction_ids = [for_sale(sellers[n], vertical.id, 200 + n) for n in range(5)]
        vertical_id, buyer_ids = vertical.id, [each.id for each in buyers]
    planned_together(monkeypatch, len(auction_ids))

    outcomes = run_all(app, auction_ids)

    assert outcomes == [("ok", None)] * len(auction_ids), outcomes
    with app.app_context():
        sales = live(sales_of(vertical_id=vertical_id))
        assert len(sales) <= 2
        per_buyer = Counter(sale.buyer_id for sale in sales)
        assert all(count <= 1 for count in per_buyer.values()), per_buyer
        assert all(available(buyer_id) >= 0 for buyer_id in buyer_ids)
        # And no money is left unspent while a lead it could buy goes unsold.
        assert per_buyer == {buyer_ids[0]: 1, buyer_ids[1]: 1}
        assert [available(buyer_id) for buyer_id in buyer_ids] == [0, 0]
        assert Counter(db.session.scalars(select(Lead.status))) == {"sold": 2, "unsold": 3}
        assert_ledger_clean()


# -- 3. exclusivity across sellers -----------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "one_after_the_other",
        "at_once",
    ],
)
def test_an_exclusive_lead_resubmitted_by_another_seller_is_not_sold_again(
    live_app_factory, monkeypatch, when
):
    """Slots=3. Buyer A buys exclusively (3000), buyer B shares (1500): A wins the consumer.
    Another seller's lead of the same phone and email sells nothing, whether its auction
    runs after the sale (its plan sees the register) or at once (both auctions planned
    before either sells: the register is read again under the consumer's lock)."""
    app = racing_app(live_app_factory)
    with app.app_context():
        vertical = make_vertical(slots=3)
        first, second = sellers_on(vertical, 2)
        a, b = buyer(100_000), buyer(100_000)
        exclusive = make_buy_order(a, vertical, exclusive=True, bid_minor=3000)
        make_buy_order(b, vertical, bid_minor=1500)
        auction_ids = [for_sale(first, vertical.id, 300), for_sale(second, vertical.id, 300)]
        vertical_id, exclusive_id, a_id, b_id = vertical.id, exclusive.id, a.id, b.id

    if when == "one_after_the_other":
        assert run_all(app, auction_ids[:1]) == [("ok", None)]
        assert run_all(app, auction_ids[1:]) == [("ok", None)]
        with app.app_context():
            again = db.session.get(Auction, auction_ids[1])
            assert (again.status, again.outcome) == ("done", "unsold")
            assert "register" in again.unsold_reason, again.unsold_reason
    else:
        planned_together(monkeypatch, 2)
        assert run_all(app, auction_ids) == [("ok", None)] * 2

    with app.app_context():
        sales = live(sales_of(vertical_id=vertical_id))
        assert [(s.buyer_id, s.buy_order_id, s.exclusive) for s in sales] == [(a_id, exclusive_id, True)], [
            (s.lead_id, s.buyer_id, s.exclusive) for s in sales
        ]
        assert Counter(db.session.scalars(select(Auction.outcome))) == {"sold": 1, "unsold": 1}
        assert available(b_id) == 100_000
        assert_ledger_clean()


# -- 4. shared slots across sellers ----------------------------------------------------------


def test_a_shared_consumer_is_never_sold_more_than_its_slots_across_resubmissions(
    live_app_factory, monkeypatch
):
    """Slots=2, four shared buyers, three sellers submitting one consumer (one phone, one
    email) at once, each from another region. Each seller's thread runs the whole embedded
    pipeline (intake, the validation job, the auction job), and the three auctions settle
    on plans that all saw the consumer unsold.

    B1 buys anywhere; B2 only in CA; B3 and B4 only in NY. Alone, the TX lead would sell
    one slot (B1), the CA lead two (B1, B2), the NY lead two (B1, B3): whatever order the
    three settle in, the consumer is sold twice at most, to B1 once."""
    app = racing_app(live_app_factory)
    regions = ("TX", "CA", "NY")
    with app.app_context():
        vertical = make_vertical(slots=2)
        sellers = sellers_on(vertical, 3)
        anywhere = make_buy_order(buyer(100_000), vertical, bid_minor=3000)
        make_buy_order(buyer(100_000), vertical, bid_minor=2000, filters={"regions": ["CA"]})
        make_buy_order(buyer(100_000), vertical, bid_minor=2000, filters={"regions": ["NY"]})
        make_buy_order(buyer(100_000), vertical, bid_minor=1500, filters={"regions": ["NY"]})
        vertical_id, anywhere_buyer = vertical.id, anywhere.buyer_id
    planned_together(monkeypatch, len(regions))

    def seller_submits(index: int) -> str:
        seller_id = sellers[index]
        payload = ExchangeLeadSubmitSchema().load(solar_lead(400, region=regions[index]))
        actor = Actor(kind="user", user_id=seller_id)
        lead_id = submit_to_vertical(seller_id, vertical_id, payload, actor).lead.id
        commit()  # in-process: validated, then auctioned, before this returns
        return db.session.get(Lead, lead_id).status

    outcomes = race(app, seller_submits, list(range(len(regions))))

    assert [kind for kind, _ in outcomes] == ["ok"] * len(regions), outcomes
    with app.app_context():
        sales = live(sales_of(vertical_id=vertical_id))
        # Whichever settles first takes B1 and at most one more; the next takes the free slot
        # (if any) with a buyer other than B1; then the consumer is sold out: always two.
        assert len(sales) == 2, [(s.lead_id, s.buyer_id) for s in sales]
        assert len({sale.buyer_id for sale in sales}) == len(sales), "a buyer bought the consumer twice"
        assert anywhere_buyer in {sale.buyer_id for sale in sales}
        assert len({(sale.phone_hash, sale.email_hash) for sale in sales}) == 1
        assert [a.status for a in db.session.scalars(select(Auction))] == ["done"] * len(regions)
        assert_ledger_clean()


# -- two settles at once, held where the old lock orders deadlocked ----------------------------


def test_two_auctions_sharing_a_buy_order_settle_at_once_without_a_deadlock(live_app_factory, monkeypatch):
    """Two leads of two consumers, one fixed buy order on their vertical, both auctions
    settling at the same moment (held together just before they lock the buy orders they
    sell to). Each had inserted its bids (a key-share lock on the order, through the foreign
    key) when they were locked FOR UPDATE: each waited for the other's share lock. Now
    FOR NO KEY UPDATE, which key-share locks do not block: both sell."""
    app = racing_app(live_app_factory)
    with app.app_context():
        vertical = make_vertical(slots=1)
        sellers = sellers_on(vertical, 2)
        make_buy_order(buyer(100_000), vertical, bid_minor=2000)
        auction_ids = [for_sale(sellers[n], vertical.id, 600 + n) for n in range(2)]
    barrier = threading.Barrier(2, timeout=10)
    real_lock = market.lock_buy_orders

    def lock_together(order_ids):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_lock(order_ids)

    monkeypatch.setattr(market, "lock_buy_orders", lock_together)

    outcomes = run_all(app, auction_ids)

    assert outcomes == [("ok", None)] * 2, outcomes
    with app.app_context():
        assert Counter(db.session.scalars(select(Auction.outcome))) == {"sold": 2}
        assert_ledger_clean()


def test_two_auctions_selling_two_slots_to_buyers_ranked_the_other_way_do_not_deadlock(
    live_app_factory, monkeypatch
):
    """Slots=2 on two verticals (no buy order in common), buyers X and Y on both: X bids
    more on the first, Y on the second, so one settle reserves X's price then Y's, the other
    Y's then X's. Each waits, after its first reservation, a moment for the other to make
    its own first one. When each sale locked its accounts as it was reserved, each then
    waited for the buyer the other had locked; now a settle locks every account its sales
    may touch in one statement, before the first."""
    app = racing_app(live_app_factory)
    with app.app_context():
        x, y = buyer(100_000), buyer(100_000)
        seller = make_user("webmaster")
        auction_ids = []
        for n, (x_bid, y_bid) in enumerate(((3000, 2000), (2000, 3000))):
            vertical = make_vertical(slots=2)
            make_seller(seller, vertical)
            make_buy_order(x, vertical, bid_minor=x_bid)
            make_buy_order(y, vertical, bid_minor=y_bid)
            auction_ids.append(for_sale(seller.id, vertical.id, 650 + n))
        buyer_ids = (x.id, y.id)
        # The accounts every sale credits, opened now (after the buyers'): were they opened by
        # the first sale, the other settle would wait for that before it locks anything.
        ledger.account_for(webmaster_hold(seller.id, "USD"))
        ledger.account_for(platform("revenue", "USD"))
        commit()
    barrier = threading.Barrier(2, timeout=3)
    reservations = threading.local()
    real_reserve = settling.reserve_lead_prices

    def reserve_after_the_others_first(prices):
        reservations.made = getattr(reservations, "made", 0) + 1
        if reservations.made == 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return real_reserve(prices)

    monkeypatch.setattr(settling, "reserve_lead_prices", reserve_after_the_others_first)

    outcomes = run_all(app, auction_ids)

    assert outcomes == [("ok", None)] * 2, outcomes
    with app.app_context():
        sold = Counter((sale.auction_id, sale.buyer_id) for sale in live(sales_of()))
        assert sold == {(auction, each): 1 for auction in auction_ids for each in buyer_ids}
        assert_ledger_clean()


# -- 5. the auctioneer process, killed ---------------------------------------------------------

LEASE = 2  # seconds: how soon another auctioneer takes a killed one's auctions over


def auctioneer(env: dict, log_path, *options: str) -> subprocess.Popen:
    """``flask exchange auctioneer`` in a session of its own (a SIGKILL takes all of it);
    its output to a file, never a pipe nobody reads (a full pipe would stop it)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "exchange", "auctioneer", *options],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_hard(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def stop_gently(process: subprocess.Popen) -> int:
    """SIGTERM (it finishes the auctions it runs, then exits); SIGKILL if it does not."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=30)


def sale_posted(body: bytes) -> int | None:
    """The sale a post was for; None for a post the kill cut off in the middle of its body."""
    try:
        return json.loads(body)["sale"]["id"]
    except ValueError:
        return None


def bid(amount: int, delay: float) -> Answer:
    return Answer(200, json.dumps({"bid_minor": amount}).encode(), delay)


def test_the_auctioneer_process_runs_auctions_and_a_killed_one_loses_none(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    """Twenty leads due, slots=2; three pinged buyers answering after 200 ms (3000, 2500,
    2000), each taking its posts after 300 ms. ``flask exchange auctioneer`` (four auctions
    at once) is SIGKILLed in the middle of the run, with auctions in flight; a second one
    takes them over once the dead one's lease runs out. Every auction ends, each lead sold
    once to its two best bidders and posted to them.

    Each lead is on a vertical of its own (the buyers bid on all twenty). The processes get
    their settings as ``create_app`` overrides through FLASK_APP (Flask's
    ``module:factory(literal arguments)``), the deadlines included, which the environment
    would also carry."""
    count = 20
    app = racing_app(live_app_factory, REDIS_URL=redis_url)
    # A deadline generous enough that a process starting cold (its first queries compiled
    # while it pings) does not time its first pings out: every lead has the same two winners.
    overrides = {
        "AUCTION_LEASE_SECONDS": LEASE,
        "AUCTION_CONCURRENCY": 4,
        "AUCTION_DEADLINE_MS": 5000,
        "AUCTION_PING_TIMEOUT_MS": 4000,
    }
    env = {
        **process_env(live_database_url, str(tmp_path / "instance"), redis_url),
        "FLASK_APP": f"exchange:create_app({overrides!r})",
    }

    def done() -> int:
        with app.app_context():
            query = select(func.count()).select_from(Auction).where(Auction.status == "done")
            return db.session.scalar(query)

    with (
        Endpoint([bid(3000, 0.2)]) as best,
        Endpoint([bid(2500, 0.2)]) as second_best,
        Endpoint([bid(2000, 0.2)]) as third,
        Endpoint([Answer(200, b'{"decision": "approve"}', 0.3)]) as posts,
    ):
        with app.app_context():
            seller = make_user("webmaster")
            buyers = [buyer(1_000_000) for _ in range(3)]
            for each in buyers:
                put_setting(each.id, None, posts.url)
            commit()
            auction_ids = []
            for n in range(count):
                vertical = make_vertical(slots=2)
                make_seller(seller, vertical)
                for each, endpoint in zip(buyers, (best, second_best, third), strict=True):
                    pinged = {"pricing": "ping", "bid_minor": None, "max_bid_minor": 9000}
                    make_buy_order(each, vertical, ping_url=endpoint.url, **pinged)
                auction_ids.append(for_sale(seller.id, vertical.id, 500 + n))
            best_two = {buyers[0].id, buyers[1].id}

        first = auctioneer(env, tmp_path / "first.log")
        try:
            wait_until(lambda: done() >= 4, "the first auctioneer finished a few auctions", 45)
        finally:
            kill_hard(first)
        with app.app_context():
            left = db.session.scalars(select(Auction).where(Auction.status != "done")).all()
            in_flight = [a.id for a in left if a.claimed_until is not None]
        assert left, "the first auctioneer finished everything before it was killed"
        assert in_flight, "no auction was in flight when the first auctioneer died"

        second = auctioneer(env, tmp_path / "second.log")
        try:
            wait_until(lambda: done() == count, "the second auctioneer finished every auction", 45)
        finally:
            code = stop_gently(second)
        assert code == 0, (tmp_path / "second.log").read_text()[-3000:]
        posted = Counter(sale_posted(received.body) for received in posts.received)

    with app.app_context():
        auctions = db.session.scalars(select(Auction).where(Auction.id.in_(auction_ids))).all()
        assert [(a.status, a.outcome) for a in auctions] == [("done", "sold")] * count
        taken_over = {a.id for a in auctions if a.attempts >= 2}
        assert set(in_flight) <= taken_over, (in_flight, taken_over)
        sales = sales_of()
        assert len(sales) == 2 * count
        per_lead_buyer = Counter((sale.lead_id, sale.buyer_id) for sale in sales)
        assert set(per_lead_buyer.values()) == {1}, per_lead_buyer
        by_lead: dict[int, set[int]] = {}
        for sale in sales:
            by_lead.setdefault(sale.lead_id, set()).add(sale.buyer_id)
        assert all(bought == best_two for bought in by_lead.values()), by_lead
        assert {(s.status, s.post_status) for s in sales} == {("pending", "delivered")}
        assert set(posted) - {None} == {sale.id for sale in sales}  # a post cut by the kill is made again
        # One bid row per buy order per auction: no auction was settled twice.
        assert set(Counter(db.session.scalars(select(AuctionBid.auction_id))).values()) == {3}
        assert Counter(db.session.scalars(select(Lead.status))) == {"sold": count}
        assert_ledger_clean()


def test_auctioneer_processes_share_the_auctions_and_run_each_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    """``flask exchange auctioneer --processes 2``, each process two auctions at once, and
    twelve leads due whose buyer answers after 300 ms: more than two auctions are in flight
    at a time (so both processes run some), every auction ends sold, none is claimed twice;
    SIGTERM stops the processes, each after the auctions it runs."""
    count = 12
    app = racing_app(live_app_factory, REDIS_URL=redis_url)
    overrides = {"AUCTION_CONCURRENCY": 2, "AUCTION_DEADLINE_MS": 5000, "AUCTION_PING_TIMEOUT_MS": 4000}
    env = {
        **process_env(live_database_url, str(tmp_path / "instance"), redis_url),
        "FLASK_APP": f"exchange:create_app({overrides!r})",
    }
    in_flight = (
        select(func.count())
        .select_from(Auction)
        .where(Auction.status != "done", Auction.claimed_until.is_not(None))
    )
    done = select(func.count()).select_from(Auction).where(Auction.status == "done")
    with Endpoint([bid(3000, 0.3)]) as endpoint:
        with app.app_context():
            seller = make_user("webmaster")
            bidder = buyer(1_000_000)
            auction_ids = []
            for n in range(count):
                vertical = make_vertical(slots=1)
                make_seller(seller, vertical)
                pinged = {"pricing": "ping", "bid_minor": None, "max_bid_minor": 9000}
                make_buy_order(bidder, vertical, ping_url=endpoint.url, **pinged)
                auction_ids.append(for_sale(seller.id, vertical.id, 700 + n))
        most_at_once = 0
        process = auctioneer(env, tmp_path / "auctioneer.log", "--processes", "2")
        try:
            with app.app_context():
                for _ in range(600):  # 60 s at most
                    most_at_once = max(most_at_once, db.session.scalar(in_flight))
                    finished = db.session.scalar(done)
                    db.session.rollback()
                    if finished == count:
                        break
                    time.sleep(0.1)
        finally:
            code = stop_gently(process)
        assert code == 0, (tmp_path / "auctioneer.log").read_text()[-3000:]

    assert most_at_once > 2, f"at most {most_at_once} auctions in flight: one process did all the work"
    with app.app_context():
        auctions = db.session.scalars(select(Auction).where(Auction.id.in_(auction_ids))).all()
        assert [(a.status, a.outcome, a.attempts) for a in auctions] == [("done", "sold", 1)] * count
        assert len(sales_of()) == count
        assert_ledger_clean()


def test_the_auctioneers_database_steps_run_on_its_own_few_threads(live_app_factory, redis_url, monkeypatch):
    """``AUCTION_DB_THREADS`` threads, named for it, take every database step of ``serve``
    (not asyncio's default pool, sized on the machine's cores)."""
    app = racing_app(live_app_factory, REDIS_URL=redis_url, AUCTION_DB_THREADS=1)
    with app.app_context():
        vertical = make_vertical(slots=1)
        (seller,) = sellers_on(vertical, 1)
        make_buy_order(buyer(100_000), vertical, bid_minor=2000)
        for n in range(6):
            for_sale(seller, vertical.id, 950 + n)
    threads: set[str] = set()
    real_prepare = runner.prepare_all

    def prepare_noting_the_thread(auction_ids: list[int]):
        threads.add(threading.current_thread().name)
        return real_prepare(auction_ids)

    monkeypatch.setattr(runner, "prepare_all", prepare_noting_the_thread)

    def open_auctions() -> int:
        with app.app_context():
            query = select(func.count()).select_from(Auction).where(Auction.status != "done")
            return db.session.scalar(query)

    async def serve_until_done() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, stop=stop, idle_s=0.05))
        try:
            for _ in range(300):
                if not await asyncio.to_thread(open_auctions):
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await serving

    asyncio.run(serve_until_done())

    assert open_auctions() == 0
    assert threads == {"auction-db_0"}, threads
