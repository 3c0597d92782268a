"""The catalog of ready leads: one filtered page with its index and without, and buyers
racing for slots, in one run.

    python bench/catalog.py [--listings 1000000] [--runs 20] [--raw-runs 5]
                            [--buyers 20] [--processes 4] [--seconds 10]

In a throwaway database ``lx_bench_catalog_<pid>`` beside EXCHANGE_TEST_DATABASE_URL
(dropped at the end, also on error), migrated: three verticals (3 slots, 20 % margin, the
default ageing), 20 sellers, and ``--listings`` listed leads spread evenly over the three
verticals, 8 countries and 3 temperatures, captured over the last 90 days: the ``leads``
rows (unsold) and their ``catalog_listings`` rows as the sweep writes them, both by
INSERT ... SELECT generate_series. Then:

- page: one catalog page as ``GET /api/v1/catalog`` asks for it (vertical, country US,
  temperature hot, captured in the last 72 h, newest first, 50 a page) through
  ``exchange.catalog.search.search``, each call ended as a request ends it (p50 of
  ``--runs``, after one untimed warm-up), with ``ix_catalog_listings_search``;
- purchases: ``--buyers`` funded buyers dealt round ``--processes`` worker processes (4:
  as gunicorn's workers would serve them, one interpreter each), a thread per buyer, buy
  one slot at a time through ``exchange.catalog.purchases.buy`` (an order each, filled in
  turns with the orders placed beside it; the price they were shown passed along) for
  ``--seconds``, from a pool of leads of a fourth vertical (captured an hour ago, a
  consumer's phone and email each, so the register of sales has keys). Each lead is
  handed to slots + 1 buyers at once (never twice to one): its slots are all raced for,
  and one buyer is mostly refused ``sold_out``. Afterwards, from the database: oversold
  slots (live sales of a lead past its vertical's slots) and, which must be none too, a
  buyer with two sales of one lead, a listing whose ``sold`` is not its live sales, or a
  failing ``billing.check``;
- raw: the index dropped and the table analysed, the same page again (p50 of
  ``--raw-runs``); it must equal the indexed one, item for item, or the run fails.

The plan of each page query (its nodes) and the purchases' counts and latencies go to
stderr. Prints, on one line:

    catalog: page_ms=<n> raw_ms=<n> ratio=<r> page_goal=<met|missed>
             purchases_per_s=<n> oversold=<n> purchase_goal=<met|missed>

(ratio = raw / page; the goals: a page p50 under 50 ms with the index, and at least 200
purchases a second with 20 buyers and none oversold). The run fails (exit 1) after that
line if a slot was oversold, a check failed, or a purchase raised anything but a refusal.
Without PostgreSQL it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VERTICALS, SELLERS, SLOTS, MARGIN_BPS = 3, 20, 3, 2000
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL")
TEMPERATURES = ("cold", "warm", "hot")
FLOORS_MINOR = {"cold": 400, "warm": 700, "hot": 1000}
AGE_SPAN = timedelta(days=90) - timedelta(hours=1)  # all younger than the default ageing's 2160 h
PAGE = {"country": "US", "temperature": "hot", "max_age_hours": 72, "sort": "newest", "per_page": 50}
POOL_LEADS_PER_SECOND = 300  # purchase leads per --second: 900 slots, more than the buyers take
FUNDS_MINOR = 10**10  # per buyer: none runs short
PAGE_GOAL_MS, PURCHASES_GOAL_PER_S = 50, 200

# Leads by arithmetic on the series number: vertical, country and temperature each cycle
# independently (every combination evenly over time), ids rising with captured_at.
LEADS_SQL = """
INSERT INTO leads (vertical_id, webmaster_id, fields, email_key, phone_key, country, status,
                   reason_codes, findings, score, temperature, currency, created_at, updated_at)
SELECT (CAST(:verticals AS int[]))[1 + n % cardinality(CAST(:verticals AS int[]))],
       (CAST(:sellers AS int[]))[1 + (n * 7) % cardinality(CAST(:sellers AS int[]))],
       '{}'::json,
       CASE WHEN :keys THEN 'consumer' || n || '@bench.test' END,
       CASE WHEN :keys THEN '+1555' || lpad(CAST(n AS text), 7, '0') END,
       (CAST(:countries AS text[]))[1 + (n / 3) % cardinality(CAST(:countries AS text[]))],
       'unsold', '[]'::json,
       '[{"code": "phone_valid", "points": 30}, {"code": "email_valid", "points": 20}]'::json,
       n % 101,
       (CAST(:temperatures AS text[]))[1 + (n / 24) % cardinality(CAST(:temperatures AS text[]))],
       'USD',
       :start + (CAST(n AS bigint) * :span / :count) * interval '1 second', now()
FROM generate_series(0, CAST(:count AS int) - 1) AS n
"""
# Their listings, as the sweep writes them: the lead's facts, the floor of its temperature.
LISTINGS_SQL = """
INSERT INTO catalog_listings (lead_id, vertical_id, seller_id, country, region, postcode, temperature,
                              score, consent, floor_minor, captured_at, slots, sold, own_sold,
                              exclusive_sold, listed, listed_at, unlisted_at)
SELECT id, vertical_id, webmaster_id, country, 'Region ' || (id % 50), NULL, temperature,
       score, id % 2 = 0,
       CASE temperature WHEN 'hot' THEN :hot WHEN 'warm' THEN :warm ELSE :cold END,
       created_at, :slots, 0, 0, false, true, created_at + interval '5 minutes', NULL
FROM leads WHERE id > :after
"""
OVERSOLD_SQL = """
SELECT COALESCE(SUM(s.live - v.slots), 0)
FROM (SELECT lead_id, vertical_id, COUNT(*) AS live FROM sales
      WHERE status IN ('pending', 'approved') GROUP BY lead_id, vertical_id) s
JOIN verticals v ON v.id = s.vertical_id
WHERE s.live > v.slots
"""
TWICE_SQL = "SELECT COUNT(*) FROM (SELECT 1 FROM sales GROUP BY lead_id, buyer_id HAVING COUNT(*) > 1) t"
LISTINGS_OFF_SQL = """
SELECT COUNT(*) FROM catalog_listings c
LEFT JOIN (SELECT lead_id, COUNT(*) AS live FROM sales
           WHERE status IN ('pending', 'approved') GROUP BY lead_id) s ON s.lead_id = c.lead_id
WHERE c.vertical_id = :vertical AND (c.sold <> COALESCE(s.live, 0) OR c.listed <> (c.sold < c.slots))
"""


@dataclass
class Race:
    """What the buyers did: outcomes by code ("bought" or a refusal's), latencies, errors."""

    outcomes: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = float("inf")
    ended: float = 0.0
    pool_ran_out: bool = False

    def merge(self, other: Race) -> None:
        self.started, self.ended = min(self.started, other.started), max(self.ended, other.ended)
        self.outcomes.update(other.outcomes)
        self.latencies_ms += other.latencies_ms
        self.errors += other.errors
        self.pool_ran_out |= other.pool_ran_out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=1_000_000, help="listed leads searched")
    parser.add_argument("--runs", type=int, default=20, help="timed pages with the index (p50)")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed pages without it (p50)")
    parser.add_argument("--buyers", type=int, default=20, help="buyers buying at once, a thread each")
    parser.add_argument("--processes", type=int, default=4, help="worker processes the buyers are dealt to")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long they buy")
    args = parser.parse_args()
    try:
        from bench.clicks import fresh_database

        name = f"lx_bench_catalog_{os.getpid()}"
        database_url = fresh_database(name)
    except Exception as error:  # no server to measure on: say so, measure nothing
        print(f"catalog: skipped, PostgreSQL is not reachable ({type(error).__name__}: {error})")
        return
    try:
        figures = run(database_url, args)
    finally:
        from bench.ledger import drop_database

        drop_database(name)
    print(summary(figures, args.buyers))
    if figures["failures"]:
        raise SystemExit(f"catalog: {'; '.join(figures['failures'])}")


def summary(figures: dict, buyers: int) -> str:
    page_ms, raw_ms, rate, oversold = (figures[name] for name in ("page_ms", "raw_ms", "rate", "oversold"))
    page_met = page_ms < PAGE_GOAL_MS
    purchases_met = rate >= PURCHASES_GOAL_PER_S and oversold == 0 and buyers >= 20
    return (
        f"catalog: page_ms={page_ms:.1f} raw_ms={raw_ms:.1f} ratio={raw_ms / page_ms:.1f} "
        f"page_goal={'met' if page_met else 'missed'} purchases_per_s={rate:.0f} oversold={oversold} "
        f"purchase_goal={'met' if purchases_met else 'missed'}"
    )


def run(database_url: str, args) -> dict:
    from flask_migrate import upgrade

    from exchange import clock
    from exchange.extensions import db

    app = bench_app(database_url, pool_size=2)
    try:
        with app.app_context():
            upgrade()
            searched, pool_vertical, pool, buyer_ids = generate(args)
            now = clock.now()  # both pages at one instant, so that they answer alike
            page_ms, indexed = time_page(searched, now, args.runs)
        race = buy_at_once(database_url, pool, buyer_ids, args)
        with app.app_context():
            oversold, failures = check_sales(pool_vertical, race)
            drop_search_index()
            raw_ms, raw = time_page(searched, now, args.raw_runs)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if raw != indexed:
        failures.append("the page without the index differs from the page with it")
    elapsed = race.ended - race.started
    return {
        "page_ms": page_ms,
        "raw_ms": raw_ms,
        "rate": race.outcomes["bought"] / elapsed if elapsed > 0 else 0.0,
        "oversold": oversold,
        "failures": failures,
    }


def bench_app(database_url: str, *, pool_size: int):
    from exchange import create_app

    return create_app(
        {
            "EXCHANGE_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True, "pool_size": pool_size, "max_overflow": 5},
        }
    )


def generate(args) -> tuple[int, int, list[tuple[int, int]], list[int]]:
    """The verticals, sellers and funded buyers; the searched leads and the purchase pool.
    Returns the searched vertical, the pool's vertical, the pool ((lead, price) each) and
    the buyers."""
    from sqlalchemy import text

    from bench.reports import insert_users
    from exchange import clock
    from exchange.db import commit
    from exchange.extensions import db
    from tests.exchange_factories import make_vertical
    from tests.factories import fund, make_user

    started = time.perf_counter()
    floors = {"*": dict(FLOORS_MINOR)}
    terms = {"allowed_countries": list(COUNTRIES), "floors": floors, "slots": SLOTS, "margin_bps": MARGIN_BPS}
    verticals = [make_vertical(**terms).id for _ in range(VERTICALS)]
    pool_vertical = make_vertical(**terms).id
    sellers = insert_users("webmaster", SELLERS)
    buyer_ids = []
    for _ in range(args.buyers):
        buyer = make_user("advertiser")
        fund(buyer, FUNDS_MINOR)
        buyer_ids.append(buyer.id)
    now = clock.now()
    searched = {"verticals": verticals, "countries": list(COUNTRIES), "temperatures": list(TEMPERATURES)}
    pool_size = max(int(args.seconds * POOL_LEADS_PER_SECOND), 100)
    pooled = {"verticals": [pool_vertical], "countries": ["US"], "temperatures": ["hot"]}
    for spread, count, start, span, keys in (
        (searched, args.listings, now - AGE_SPAN, AGE_SPAN, False),
        (pooled, pool_size, now - timedelta(hours=2), timedelta(hours=1), True),
    ):
        after = db.session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM leads"))
        span_s = int(span.total_seconds())
        numbers = {"sellers": sellers, "keys": keys, "start": start, "span": span_s, "count": count}
        db.session.execute(text(LEADS_SQL), {**spread, **numbers})
        db.session.execute(text(LISTINGS_SQL), {**FLOORS_MINOR, "slots": SLOTS, "after": after})
    commit()
    db.session.execute(text("ANALYZE"))
    commit()
    pool = db.session.execute(
        text("SELECT lead_id, floor_minor FROM catalog_listings WHERE vertical_id = :v ORDER BY lead_id"),
        {"v": pool_vertical},
    ).all()
    print(
        f"catalog: generated {args.listings} listings and a pool of {len(pool)} in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return verticals[0], pool_vertical, [tuple(row) for row in pool], buyer_ids


def time_page(vertical_id: int, now: datetime, runs: int) -> tuple[float, dict]:
    """The page's p50 over ``runs``, each ended as a request ends (the session removed);
    its query's plan on stderr."""
    from bench.reports import p50
    from exchange.catalog.search import Search, search
    from exchange.extensions import db

    wanted = Search(vertical_id=vertical_id, **PAGE)

    def page() -> dict:
        try:
            return search(wanted, now)
        finally:
            db.session.remove()

    print(f"catalog: page plan: {plan_of(page)}", file=sys.stderr)
    milliseconds, answer = p50(page, runs)
    print(f"catalog: page of {len(answer['items'])} items of {answer['total']}", file=sys.stderr)
    return milliseconds, answer


def plan_of(page) -> str:
    """The nodes of EXPLAIN for the page's query (the one with LIMIT) as it ran."""
    from sqlalchemy import event

    from exchange.extensions import db

    seen = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    statement, parameters = seen[-1]
    with db.engine.connect() as connection:
        lines = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
    nodes = [line.split("  (cost=")[0].strip(" ->") for line in lines if "(cost=" in line]
    return " > ".join(nodes)


def buy_at_once(database_url: str, pool: list[tuple[int, int]], buyer_ids: list[int], args) -> Race:
    """The buyers dealt round ``--processes`` worker processes (as gunicorn's workers serve
    an API's buyers: one GIL each), a thread per buyer in each, all started at once and
    buying one slot per transaction until ``--seconds`` have passed; every pool lead is
    handed out SLOTS + 1 times, in order, by one counter they share."""
    import multiprocessing

    from bench.auction_runs import percentile

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine inherited
    counter, results = context.Value("l", 0), context.Queue()
    processes = max(1, min(args.processes, len(buyer_ids)))
    barrier = context.Barrier(processes + 1)  # and this one, to read the CPU at the start
    workers = [
        context.Process(
            target=buying_process,
            args=(database_url, pool, buyer_ids[n::processes], args.seconds, counter, barrier, results),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    busy_before = busy_seconds()
    race = Race()
    for _ in workers:
        race.merge(results.get(timeout=args.seconds + 300))
    busy = busy_seconds() - busy_before
    for worker in workers:
        worker.join()
    print(
        f"catalog: {len(buyer_ids)} buyers in {processes} processes, {race.ended - race.started:.1f} s: "
        f"{dict(race.outcomes)}; a purchase p50_ms={percentile(race.latencies_ms, 50):.1f} "
        f"p99_ms={percentile(race.latencies_ms, 99):.1f}; the machine's CPU busy "
        f"{1000 * busy / max(sum(race.outcomes.values()), 1):.1f} ms a purchase asked"
        + (" (the pool ran out before the time)" if race.pool_ran_out else ""),
        file=sys.stderr,
    )
    return race


def buying_process(
    database_url: str, pool, buyer_ids: list[int], seconds: float, counter, barrier, results
) -> None:
    """One worker process: its buyers on threads, started when every process is ready; its
    ``Race`` (with wall-clock start and end, comparable across processes) put on ``results``."""
    from exchange.extensions import db

    app = bench_app(database_url, pool_size=len(buyer_ids) + 1)
    with app.app_context():
        db.session.connection()  # connected before the start, not in the race
        db.session.remove()
    tickets = Tickets(counter, len(pool) * (SLOTS + 1))
    race, lock = Race(), threading.Lock()
    barrier.wait(timeout=120)

    def buyer(buyer_id: int) -> None:
        with app.app_context():
            started = time.time()
            outcomes, latencies, errors = buy_until(buyer_id, pool, tickets, time.perf_counter() + seconds)
            ended = time.time()
        with lock:
            race.merge(Race(outcomes, latencies, errors, started, ended, ended < started + seconds))

    threads = [threading.Thread(target=buyer, args=(buyer_id,)) for buyer_id in buyer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        db.engine.dispose()
    results.put(race)


def busy_seconds() -> float:
    """The machine's CPU time spent so far, all cores, every process (/proc/stat: what the
    buyers, PostgreSQL and the rest cost together); 0 where there is no /proc."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    idle = int(fields[3]) + int(fields[4])  # idle, iowait
    return (sum(int(value) for value in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Tickets:
    """The pool's tickets, 0 to ``end`` - 1, each handed to one buyer of any process."""

    def __init__(self, counter, end: int) -> None:
        self.counter, self.end = counter, end

    def __iter__(self) -> Tickets:
        return self

    def __next__(self) -> int:
        with self.counter.get_lock():
            ticket = self.counter.value
            self.counter.value = ticket + 1
        if ticket >= self.end:
            raise StopIteration
        return ticket


def buy_until(buyer_id: int, pool, tickets, deadline: float) -> tuple[Counter, list[float], list[str]]:
    """One buyer's purchases until ``deadline`` or the pool's end: what each came to."""
    from exchange.catalog.purchases import Purchase, buy
    from exchange.db import commit, rollback
    from exchange.errors import AppError
    from exchange.extensions import db

    outcomes, latencies, errors = Counter(), [], []
    last_lead = None
    while time.perf_counter() < deadline:
        ticket = next(tickets, None)  # a range iterator hands each ticket to one thread
        if ticket is None:
            break
        lead_id, price = pool[ticket // (SLOTS + 1)]
        if lead_id == last_lead:  # another buyer's turn on it (this one would be told already_bought)
            continue
        last_lead = lead_id
        started = time.perf_counter()
        try:
            buy(buyer_id, Purchase(lead_id, exclusive=False, expected_price_minor=price))
            commit()
            outcomes["bought"] += 1
        except AppError as refusal:  # a 409 the API would answer
            rollback()
            outcomes[refusal.code] += 1
        except Exception as error:  # counted, shown, and the run fails
            rollback()
            outcomes["error"] += 1
            errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        latencies.append((time.perf_counter() - started) * 1000)
    db.session.remove()
    return outcomes, latencies, errors


def check_sales(pool_vertical: int, race: Race) -> tuple[int, list[str]]:
    """Slots oversold, and what failed: the register, the listings, the ledger, the buyers."""
    from sqlalchemy import text

    from billing.check import run_checks
    from exchange.extensions import db

    oversold = int(db.session.scalar(text(OVERSOLD_SQL)))
    twice = db.session.scalar(text(TWICE_SQL))
    listings_off = db.session.scalar(text(LISTINGS_OFF_SQL), {"vertical": pool_vertical})
    failed = [name for name, problems in run_checks().items() if problems]
    db.session.rollback()
    failures = []
    if oversold:
        failures.append(f"{oversold} slots oversold")
    if twice:
        failures.append(f"{twice} leads sold twice to one buyer")
    if listings_off:
        failures.append(f"{listings_off} listings out of step with their sales")
    if failed:
        failures.append(f"the billing check failed: {', '.join(failed)}")
    if race.errors:
        failures.append(f"{len(race.errors)} purchases raised, the first: {race.errors[0]}")
    return oversold, failures


def drop_search_index() -> None:
    """The page's index gone, and the planner told what the table holds now."""
    from sqlalchemy import text

    from exchange.db import commit
    from exchange.extensions import db

    db.session.execute(text("DROP INDEX ix_catalog_listings_search"))
    commit()
    db.session.execute(text("ANALYZE catalog_listings"))
    commit()


if __name__ == "__main__":
    main()
