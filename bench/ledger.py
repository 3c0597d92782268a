"""Ledger throughput on PostgreSQL against the same SQL through pgbench, in one run.

    python bench/ledger.py [--leads 5000] [--batch 250] [--single 750] [--single-seconds 20]
                           [--seconds 5] [--show-sql]

In a throwaway database ``lx_bench_ledger_<pid>`` beside EXCHANGE_TEST_DATABASE_URL
(dropped at the end, also on error): advertisers funded by top-ups, each with an
offer (rate 1500, payout 1000), webmasters, and one lead row per lead to be
charged. Every lead then goes through the money flow of DESIGN §5: its
reservation (pending payout to the webmaster's hold and pending margin to the
platform's revenue, the hot account every lead touches), then its approval
(both posted). Timed:

- single: one lead's reservation per transaction, then its approval in the
  next (billing.services.reserve_lead_prices / approve_lead_charge + commit),
  for ``--single`` leads or 20 s, whichever ends first (the leads left over
  are charged afterwards, untimed, so that every lead matches its status);
- batched: ``--batch`` leads' reservations per transaction, then their
  approvals in the next (billing.ledger.record_each + commit);
- baseline: pgbench running the raw SQL of recording one transfer (lock both
  accounts in id order, insert the transfer, update both counters) on one
  connection, the same debit accounts, half of the credits to the revenue account.

Rates are ledger rows written per second (4 per lead). The leads' rows are
written beforehand in the status the flow leaves them in (approved), so the
timings hold ledger work only; ``flask billing check``'s invariants must hold
afterwards, or the run fails naming them. Prints:

    ledger: transfers_per_s=<n> single_per_s=<n> baseline_per_s=<n> ratio=<r>

(ratio = batched / baseline). ``--show-sql`` logs the statements of one lead's
reservation and approval to stderr, to compare with the pgbench script.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services_config import TEST_DATABASE_URL  # noqa: E402

ADVERTISERS = 50
WEBMASTERS = 200
RATE_MINOR, PAYOUT_MINOR = 1500, 1000
FUNDS_MINOR = 10**12  # per advertiser: no lead, nor any baseline transfer, runs short
WARM_UP_LEADS = 20

# One transfer as billing/ledger.py records it, in raw SQL: the two accounts locked in
# id order, the transfer inserted (same columns, lead_id checked against leads), both
# cached counters updated. Half the transfers credit the platform's revenue account.
PGBENCH_SCRIPT = """\
\\set debit random(:adv_lo, :adv_hi)
\\set hot random(0, 1)
\\if :hot
\\set credit :revenue
\\else
\\set credit random(:wm_lo, :wm_hi)
\\endif
\\set lead random(:lead_lo, :lead_hi)
\\set n random(1, 9000000000000000000)
BEGIN;
SELECT id, code, owner, owner_id, purpose, currency, bounded,
       debits_pending, debits_posted, credits_pending, credits_posted
  FROM accounts WHERE id IN (:debit, :credit) ORDER BY id FOR UPDATE;
INSERT INTO transfers (id, debit_account_id, credit_account_id, amount_minor, currency,
                       kind, pending_id, lead_id, payout_id, created_at)
  VALUES ('pgbench:' || CAST(:n AS text), :debit, :credit, 500, 'USD',
          'posted', NULL, :lead, NULL, now());
UPDATE accounts SET debits_posted = debits_posted + 500 WHERE id = :debit;
UPDATE accounts SET credits_posted = credits_posted + 500 WHERE id = :credit;
END;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5000, help="leads charged in batches (4 transfers each)")
    parser.add_argument("--batch", type=int, default=250, help="leads per batched transaction")
    parser.add_argument("--single", type=int, default=750, help="leads charged one per transaction")
    parser.add_argument("--single-seconds", type=float, default=20.0, help="at most, for those")
    parser.add_argument("--seconds", type=int, default=5, help="pgbench's run")
    parser.add_argument("--show-sql", action="store_true", help="log one lead's statements to stderr")
    args = parser.parse_args()
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not Path(pgbench).exists():
        raise SystemExit("pgbench is needed: apt-get install postgresql-client")
    from bench.clicks import fresh_database

    name = f"lx_bench_ledger_{os.getpid()}"
    database_url = fresh_database(name)
    try:
        figures = run(database_url, pgbench, args)
    finally:
        drop_database(name)
    single, batched, baseline = figures
    print(
        f"ledger: transfers_per_s={batched:.0f} single_per_s={single:.0f} "
        f"baseline_per_s={baseline:.0f} ratio={batched / baseline:.2f}"
    )


def run(database_url: str, pgbench: str, args) -> tuple[float, float, float]:
    from flask_migrate import upgrade

    from exchange import create_app
    from exchange.extensions import db

    app = create_app(
        {"EXCHANGE_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"}
    )
    with app.app_context():
        try:
            upgrade()
            prices, ranges = prepare(WARM_UP_LEADS + args.single + args.leads)
            single, batched = charge_all(prices, args)
            baseline = run_pgbench(pgbench, database_url, ranges, args.seconds)
            failed = {name: problems for name, problems in check().items() if problems}
        finally:
            db.session.remove()
            db.engine.dispose()
    if failed:
        for name, problems in failed.items():
            print(f"billing check: {name}: {'; '.join(problems[:3])}", file=sys.stderr)
        raise SystemExit(f"ledger: the billing check failed: {', '.join(failed)}")
    return single, batched, baseline


def charge_all(prices, args) -> tuple[float, float]:
    """Warm up on a few leads, then time the single and the batched paths (transfers/s)."""
    warm_up, prices = prices[:WARM_UP_LEADS], prices[WARM_UP_LEADS:]
    with sql_shown(args.show_sql):
        charge_one_by_one(warm_up[:1])
    charge_one_by_one(warm_up[1:])
    left_over = []

    def one_by_one(chunk) -> None:
        left_over.extend(charge_one_by_one(chunk, args.single_seconds))

    single = timed(one_by_one, prices[: args.single])
    analyze()
    batched = timed(lambda chunk: charge_in_batches(chunk, args.batch), prices[args.single :])
    charge_in_batches(left_over, args.batch)  # untimed: every lead charged as its status says
    return single, batched


def prepare(count: int):
    """Advertisers funded, each with an offer; webmasters; the accounts opened in blocks
    (so pgbench can draw them by id range); ``count`` leads, already approved.
    Returns the leads' prices and the id ranges pgbench draws from."""
    from sqlalchemy import text

    from billing.plans import LeadPrice
    from exchange.db import commit
    from exchange.extensions import db

    advertisers, webmasters = make_parties()
    chance = random.Random(5)
    pairs = [(chance.choice(advertisers), chance.choice(webmasters)) for _ in range(count)]
    lead_ids = make_leads(pairs)
    db.session.execute(text("ANALYZE"))
    commit()
    prices = [
        LeadPrice(lead_id, advertiser, webmaster, "USD", RATE_MINOR, PAYOUT_MINOR)
        for lead_id, (advertiser, webmaster) in zip(lead_ids, pairs, strict=True)
    ]
    return prices, {**account_ranges(), "lead_lo": min(lead_ids), "lead_hi": max(lead_ids)}


def make_parties() -> tuple[list[int], list[int]]:
    """Users as plain rows (hashing a password each would take longer than the run),
    an offer per advertiser, their accounts, a top-up each."""
    from billing.domain import advertiser_available, platform, webmaster_hold
    from billing.ledger import lock_accounts
    from billing.services import credit_advertiser
    from exchange.db import commit
    from exchange.offers.services import create_offer
    from tests.factories import offer_data

    advertisers, webmasters = insert_users("advertiser", ADVERTISERS), insert_users("webmaster", WEBMASTERS)
    for advertiser in advertisers:
        create_offer(advertiser, offer_data(rate_minor=RATE_MINOR, payout_minor=PAYOUT_MINOR))
    lock_accounts([platform("cash_in", "USD"), platform("revenue", "USD")])
    lock_accounts(advertiser_available(advertiser, "USD") for advertiser in advertisers)
    lock_accounts(webmaster_hold(webmaster, "USD") for webmaster in webmasters)
    for advertiser in advertisers:
        credit_advertiser(advertiser, "USD", FUNDS_MINOR, f"bench-{advertiser}")
    commit()
    return advertisers, webmasters


def insert_users(role: str, count: int) -> list[int]:
    from sqlalchemy import insert

    from exchange.accounts.models import User
    from exchange.extensions import db

    rows = [
        {"email": f"{role}{n}@bench.test", "name": f"{role} {n}", "role": role, "password_hash": "!"}
        for n in range(count)
    ]
    return list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))


def make_leads(pairs: list[tuple[int, int]]) -> list[int]:
    """A lead per (advertiser, webmaster) pair, in the status the flow leaves it in:
    approved, with its hold running."""
    from sqlalchemy import insert, select

    from exchange import clock
    from exchange.db import commit
    from exchange.extensions import db
    from exchange.leads.models import Lead
    from exchange.offers.models import Offer

    offers = dict(db.session.execute(select(Offer.advertiser_id, Offer.id)).all())
    now = clock.now()
    rows = [
        {
            "offer_id": offers[advertiser],
            "advertiser_id": advertiser,
            "webmaster_id": webmaster,
            "fields": {},
            "status": "approved",
            "reason_codes": [],
            "findings": [],
            "currency": "USD",
            "rate_minor": RATE_MINOR,
            "payout_minor": PAYOUT_MINOR,
            "accepted_at": now,
            "approved_at": now,
            "hold_until": now + timedelta(days=14),
        }
        for advertiser, webmaster in pairs
    ]
    lead_ids = list(db.session.scalars(insert(Lead).returning(Lead.id, sort_by_parameter_order=True), rows))
    commit()
    return lead_ids


def account_ranges() -> dict[str, int]:
    """The ids of the advertisers' available and the webmasters' hold accounts (each one
    block), and the platform revenue account's."""
    from sqlalchemy import func, select

    from billing.domain import platform
    from billing.models import Account
    from exchange.extensions import db

    ranges = {}
    for prefix, owner, purpose in (("adv", "advertiser", "available"), ("wm", "webmaster", "hold")):
        low, high, count = db.session.execute(
            select(func.min(Account.id), func.max(Account.id), func.count()).filter_by(
                owner=owner, purpose=purpose
            )
        ).one()
        if high - low + 1 != count:
            raise SystemExit(f"the {owner}s' {purpose} accounts are not one block of ids")
        ranges[f"{prefix}_lo"], ranges[f"{prefix}_hi"] = low, high
    code = platform("revenue", "USD").code
    ranges["revenue"] = db.session.scalar(select(Account.id).filter_by(code=code))
    db.session.rollback()
    return ranges


def charge_one_by_one(prices, seconds: float = float("inf")) -> list:
    """Each lead as validation and a decision charge it alone: reserve, commit; approve,
    commit. Stops after ``seconds``; returns the leads it did not charge."""
    from billing.services import approve_lead_charge, reserve_lead_prices
    from exchange.db import commit

    deadline = time.monotonic() + seconds
    for done, price in enumerate(prices):
        if time.monotonic() > deadline:
            return prices[done:]
        if not reserve_lead_prices([price])[0]:
            raise SystemExit(f"lead {price.lead_id} was refused for funds")
        commit()
        approve_lead_charge(price)
        commit()
    return []


def charge_in_batches(prices, size: int) -> None:
    """``size`` leads' reservations in one transaction, then their approvals in the next."""
    from billing import ledger, plans
    from exchange.db import commit

    for start in range(0, len(prices), size):
        chunk = prices[start : start + size]
        if not all(ledger.record_each([(plans.lead_reservation(p), p.lead_id) for p in chunk])):
            raise SystemExit("a lead was refused for funds")
        commit()
        ledger.record_each([(plans.lead_approval(p), p.lead_id) for p in chunk])
        commit()


def analyze() -> None:
    """Statistics as autovacuum keeps them on a growing table. Without them, the plan that
    checks a resolution's ``pending_id`` foreign key, made while ``transfers`` was nearly
    empty, stays a sequential scan (0.5 ms a row at a few thousand transfers)."""
    from sqlalchemy import text

    from exchange.db import commit
    from exchange.extensions import db

    db.session.execute(text("ANALYZE transfers"))
    commit()


def timed(charge, prices) -> float:
    """Ledger rows written per second by ``charge(prices)``, counted in the database."""
    written = transfer_count()
    started = time.perf_counter()
    charge(prices)
    elapsed = time.perf_counter() - started
    return (transfer_count() - written) / elapsed


def transfer_count() -> int:
    from sqlalchemy import func, select

    from billing.models import Transfer
    from exchange.extensions import db

    count = db.session.scalar(select(func.count()).select_from(Transfer))
    db.session.commit()
    return count


class sql_shown:
    """Log the statements run inside the block to stderr (when ``on``)."""

    def __init__(self, on: bool):
        self.on = on
        self.logger = logging.getLogger("sqlalchemy.engine.Engine")
        self.handler = logging.StreamHandler(sys.stderr)

    def __enter__(self):
        if self.on:
            self.logger.addHandler(self.handler)
            self.logger.propagate = False
            self.logger.setLevel(logging.INFO)

    def __exit__(self, *exc):
        if self.on:
            self.logger.setLevel(logging.WARNING)
            self.logger.propagate = True
            self.logger.removeHandler(self.handler)


def run_pgbench(pgbench: str, database_url: str, ranges: dict, seconds: int) -> float:
    """Transactions (one transfer each) per second of PGBENCH_SCRIPT on one connection,
    with prepared statements (psycopg prepares the ORM's repeated statements too)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(PGBENCH_SCRIPT)
        script.flush()
        command = [
            pgbench, "-n", "-M", "prepared", "-c", "1", "-T", str(seconds), "-f", script.name,
            "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres",
            *(f"-D{name}={value}" for name, value in ranges.items()),
            url.database,
        ]  # fmt: skip
        env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode or (failed and int(failed.group(1))):
        raise SystemExit(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    return float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))


def check() -> dict[str, list[str]]:
    from billing.check import run_checks
    from exchange.extensions import db

    problems = run_checks()
    db.session.rollback()
    return problems


def drop_database(name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(TEST_DATABASE_URL)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
