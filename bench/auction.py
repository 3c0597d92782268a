"""Auction throughput through the real auctioneer against the bare pings, in one run.

    python bench/auction.py [--leads 600] [--concurrency 64] [--processes 1] [--repeats 0.1]
                            [--seed 7] [--timeout 40] [--sqlite] [--detail]

In a throwaway database ``lx_bench_auction_<pid>`` beside EXCHANGE_TEST_DATABASE_URL
(dropped at the end, also on error; ``--sqlite``: a file in a temporary directory),
migrated: a vertical (3 slots, 20 % margin), two sellers, ten funded buyers each with one
buy order: five pinged (bench/auction_buyers.py, in a process of their own on 127.0.0.1:
four answer a bid after 20-300 ms, one after 2 s, always too late) and five fixed bids
(one exclusive, one under a day cap of leads/5). ``--leads`` leads are submitted and
validated through the services into due auctions (REDIS_URL is set, so nothing runs
in-process: the auctioneer finds them in the database); ``--repeats`` of them are a
consumer already submitted, sent again by the other seller a few leads later, so that
auctions of one consumer race for its slots.

Timed: ``exchange.auctions.runner.serve`` (AUCTION_CONCURRENCY at once, its database
steps on threads) from its start until the last auction is done (the last
``finished_at``); the run stops once no auction is left open, or after ``--timeout``.
``--processes N`` runs N auctioneers, each a spawned process of its own as
``flask exchange auctioneer --processes N`` runs them, timed from when all N are ready.
An auction whose run fails stays claimed until its lease runs out (AUCTION_LEASE_SECONDS),
then is run again: the failures are counted and the first shown on stderr, and a run
that leaves auctions open prints its figures over the auctions done and exits 1.
Baseline: the same pings (the same five targets and body, ``make_client`` and
``ping_all`` with the same deadline and per-buyer timeout) as many times, at the same
concurrency (AUCTION_CONCURRENCY times ``--processes``, in one process), with no decision
and no database (no round starts after ``--timeout``: the rate is then of the rounds run).
Then, from the database:

- p50_ms, p99_ms: ``Auction.duration_ms``, the time to decision as the auctioneer
  records it, from the start of the auction's run (just after its claim) to the call
  of ``settle`` (the pings' end): it leaves out the wait for a thread and the settling
  transaction. (``finished_at - started_at`` measures nothing: ``settle`` stamps
  both.) ``--detail`` adds, on stderr, the time from the run's start to ``settle``
  committed and to the run's end, measured around the auctioneer's steps;
- timeouts: auction bids whose ping timed out (one per auction expected: the slow
  buyer's; more means answers in time were lost);
- oversold: leads, or consumers, with more live (pending, approved) sales than the
  vertical's slots or an exclusive sale beside another, plus buy orders over their cap.
  ``billing.check.run_checks`` must pass too, or the run fails naming the check.

Prints:

    auction: auctions_per_s=<n> p50_ms=<n> p99_ms=<n> timeouts=<n> oversold=<n> baseline_per_s=<n> ratio=<r>

(ratio = auctions_per_s / baseline_per_s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.auction_buyers import Buyer  # noqa: E402
from bench.auction_runs import Failures, Timings, percentile, run_auctions, run_processes  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"  # set, so no auction runs in-process; nothing is sent to it
SLOTS, MARGIN_BPS = 3, 2000
FUNDS_MINOR = 10**10  # per buyer: none runs short
MAX_BID_MINOR = 3000
PINGED = [Buyer(20, 300, 600, MAX_BID_MINOR) for _ in range(4)] + [Buyer(2000, 2000, 600, MAX_BID_MINOR)]
FIXED = [  # (bid, exclusive, capped)
    (1600, False, True),
    (1400, False, False),
    (1200, False, False),
    (1000, False, False),
    (5000, True, False),
]


@dataclass
class Market:
    vertical_id: int
    capped_order_id: int
    cap: int
    auction_ids: list[int]
    targets: list  # PingTarget, as the auctions ping them
    ping_body: dict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=600, help="auctions run")
    parser.add_argument("--concurrency", type=int, default=None, help="default: AUCTION_CONCURRENCY")
    parser.add_argument("--processes", type=int, default=1, help="auctioneer processes")
    parser.add_argument(
        "--repeats", type=float, default=0.1, help="share of leads that repeat a consumer (at most 0.2)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=40.0, help="seconds for each phase at most")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--detail", action="store_true", help="more figures on stderr")
    args = parser.parse_args()
    if not 0 <= args.repeats <= 0.2:
        parser.error("--repeats is a share between 0 and 0.2")
    if args.processes < 1 or (args.processes > 1 and (args.detail or args.sqlite)):
        parser.error("--processes is at least 1; more than 1 is for PostgreSQL, without --detail")
    from bench import auction_buyers

    buyers, urls = auction_buyers.start(PINGED, args.seed)
    try:
        if args.sqlite:
            with tempfile.TemporaryDirectory() as directory:
                figures = run(f"sqlite:///{directory}/bench.sqlite", urls, args)
        else:
            from bench.clicks import fresh_database
            from bench.ledger import drop_database

            name = f"lx_bench_auction_{os.getpid()}"
            database_url = fresh_database(name)
            try:
                figures = run(database_url, urls, args)
            finally:
                drop_database(name)
    finally:
        auction_buyers.stop(buyers)
    print(
        f"auction: auctions_per_s={figures['rate']:.0f} p50_ms={figures['p50']:.0f} "
        f"p99_ms={figures['p99']:.0f} timeouts={figures['timeouts']} oversold={figures['oversold']} "
        f"baseline_per_s={figures['baseline']:.0f} "
        f"ratio={figures['rate'] / figures['baseline'] if figures['baseline'] else 0:.2f}"
    )
    failures = figures["failures"]
    if failures.count:
        print(
            f"auction: {failures.count} auction runs failed (run again after their lease), "
            f"the first: {failures.first}",
            file=sys.stderr,
        )
    if figures["left"]:
        print(f"auction: {figures['left']} auctions still open after {args.timeout:.0f} s", file=sys.stderr)
        raise SystemExit(1)


def run(database_url: str, urls: list[str], args) -> dict:
    from flask_migrate import upgrade

    from exchange import create_app
    from exchange.extensions import db

    overrides = {
        "EXCHANGE_ENV": "development",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench",
        "REDIS_URL": REDIS_URL,
        "WEBMASTER_APPROVAL": "auto",
        "AUCTION_ALLOW_PRIVATE_ADDRESSES": True,  # the buyers are on 127.0.0.1
    }
    if args.concurrency:
        overrides["AUCTION_CONCURRENCY"] = args.concurrency
    app = create_app(overrides)
    try:
        with app.app_context():
            upgrade()
            market = prepare(urls, args)
            db.session.remove()
        timings = Timings() if args.detail else None
        if args.processes > 1:
            started, failures = run_processes(overrides, args.processes, app, args.timeout)
        else:
            # After upgrade(): migrations/env.py's logging config disabled the runner's logger.
            failures = Failures.install()
            started = asyncio.run(run_auctions(app, args.timeout, timings))
        with app.app_context():
            figures = measure(market, started)
            db.session.remove()
        baseline, baseline_ms = asyncio.run(run_baseline(app, market, args.timeout, args.processes))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if timings:
        timings.report(baseline_ms)
    return {**figures, "baseline": baseline, "failures": failures}


def prepare(urls: list[str], args) -> Market:
    """The vertical, its sellers and buyers; the leads, validated into due auctions."""
    from sqlalchemy import text

    from exchange.auctions.calls import PingTarget
    from exchange.auctions.plan import prepare as plan_of
    from exchange.extensions import db
    from tests.exchange_factories import make_buy_order, make_seller, make_vertical
    from tests.factories import fund, make_user

    vertical = make_vertical(slots=SLOTS, margin_bps=MARGIN_BPS)
    sellers = [make_user("webmaster") for _ in range(2)]
    for seller in sellers:
        make_seller(seller, vertical)
    cap = max(args.leads // 5, 1)
    capped = None
    for url in urls:
        buyer = make_user("advertiser")
        fund(buyer, FUNDS_MINOR)
        make_buy_order(
            buyer, vertical, pricing="ping", bid_minor=None, ping_url=url, max_bid_minor=MAX_BID_MINOR
        )
    for bid, exclusive, is_capped in FIXED:
        buyer = make_user("advertiser")
        fund(buyer, FUNDS_MINOR)
        caps = {"day_leads": cap} if is_capped else {}
        order = make_buy_order(buyer, vertical, bid_minor=bid, exclusive=exclusive, caps=caps)
        capped = order if is_capped else capped
    auction_ids = submit_leads(sellers, vertical.id, args.leads, args.repeats)
    db.session.execute(text("ANALYZE"))  # statistics as autovacuum would keep them on a live table
    db.session.commit()
    plan = plan_of(auction_ids[0])  # a read: what the first auction will ping, and with what
    db.session.rollback()
    targets = [PingTarget(c.order_id, c.ping_url, c.max_bid_minor, c.exclusive) for c in plan.to_ping]
    if len(targets) != len(PINGED):
        raise SystemExit(f"the first auction pings {len(targets)} buyers, not {len(PINGED)}")
    return Market(vertical.id, capped.id, cap, auction_ids, targets, plan.ping_body)


def submit_leads(sellers, vertical_id: int, count: int, repeats: float) -> list[int]:
    """``count`` leads submitted and validated (each in its own transaction, as the
    validation job would); a ``repeats`` share of them repeat the consumer of the third
    last lead not itself a repeat, from the other seller (so no seller sends a duplicate
    of its own). Returns their auctions' ids, in lead order."""
    from sqlalchemy import select

    from exchange.actors import Actor
    from exchange.auctions.models import Auction
    from exchange.db import commit
    from exchange.extensions import db
    from exchange.selling.intake import submit_to_vertical
    from exchange.selling.schemas import ExchangeLeadSubmitSchema
    from exchange.selling.validation import validate_exchange_lead
    from tests.api.test_exchange_flow import solar_lead

    schema = ExchangeLeadSubmitSchema()
    every = round(1 / repeats) if repeats > 0 else 0
    originals: list[int] = []
    for n in range(count):
        repeat = every and n % every == every - 1 and len(originals) >= 3
        consumer = originals[-3] if repeat else n + 1
        if not repeat:
            originals.append(consumer)
        seller = sellers[1] if repeat else sellers[0]
        payload = schema.load(solar_lead(consumer))
        lead = submit_to_vertical(
            seller.id, vertical_id, payload, Actor(kind="user", user_id=seller.id), enqueue=False
        ).lead
        status = validate_exchange_lead(lead.id)
        if status != "for_sale":
            raise SystemExit(f"lead {n} was not offered for sale: {status}")
        commit()  # REDIS_URL is set: the auction waits in the database, nothing runs here
    return list(db.session.scalars(select(Auction.id).order_by(Auction.id)))


async def run_baseline(app, market: Market, timeout: float, processes: int) -> tuple[float, list[float]]:
    """The auctions' pings alone: ``len(auction_ids)`` rounds of ``ping_all`` to the same
    targets with the same body and timeouts, as many at once as the auctioneers ran
    (AUCTION_CONCURRENCY for each of ``processes``), on one client (no round starts after
    ``timeout`` seconds: the rate is then of the rounds run)."""
    from exchange.auctions.calls import make_client, ping_all

    config = app.config
    deadline_s = config["AUCTION_DEADLINE_MS"] / 1000
    per_buyer_s = config["AUCTION_PING_TIMEOUT_MS"] / 1000
    rounds = iter(range(len(market.auction_ids)))
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    last_start = loop.time() + timeout

    async def worker(client) -> None:
        for _ in rounds:
            if loop.time() > last_start:
                return
            started = loop.time()
            await ping_all(
                client,
                market.targets,
                market.ping_body,
                deadline=started + deadline_s,
                per_buyer_s=per_buyer_s,
            )
            latencies.append((loop.time() - started) * 1000)

    async with make_client(allow_private=True) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(config["AUCTION_CONCURRENCY"] * processes)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def measure(market: Market, started) -> dict:
    """Rate and latencies of the auctions done, timeouts and oversold, from the database;
    the ledger checked."""
    from sqlalchemy import case, func, or_, select

    from billing.check import run_checks
    from exchange.auctions.models import Auction, AuctionBid
    from exchange.buying.models import Sale
    from exchange.extensions import db

    rows = db.session.execute(
        select(Auction.duration_ms, Auction.finished_at).where(Auction.status == "done")
    ).all()
    left = db.session.scalar(select(func.count()).select_from(Auction).where(Auction.status != "done"))
    last = max((finished_at for _, finished_at in rows), default=started)
    rate = len(rows) / (last - started).total_seconds() if rows else 0.0
    durations = [duration for duration, _ in rows if duration is not None]
    timeouts = db.session.scalar(
        select(func.count()).select_from(AuctionBid).where(AuctionBid.ping_status == "timed_out")
    )
    live = Sale.status.in_(("pending", "approved"))
    exclusive = func.sum(case((Sale.exclusive, 1), else_=0))
    too_many = or_(func.count() > SLOTS, (exclusive > 0) & (func.count() > 1))
    oversold = 0
    for key in (Sale.lead_id, Sale.phone_hash):
        groups = select(key).where(live, key.is_not(None)).group_by(key).having(too_many).subquery()
        oversold += db.session.scalar(select(func.count()).select_from(groups))
    capped_sales = db.session.scalar(
        select(func.count()).select_from(Sale).where(live, Sale.buy_order_id == market.capped_order_id)
    )
    oversold += int(capped_sales > market.cap)
    failed = {name: problems for name, problems in run_checks().items() if problems}
    db.session.rollback()
    if failed:
        for name, problems in failed.items():
            print(f"billing check: {name}: {'; '.join(problems[:3])}", file=sys.stderr)
        raise SystemExit(f"auction: the billing check failed: {', '.join(failed)}")
    return {
        "rate": rate,
        "p50": percentile(durations, 50),
        "p99": percentile(durations, 99),
        "timeouts": timeouts,
        "oversold": oversold,
        "left": left,
    }


if __name__ == "__main__":
    main()
