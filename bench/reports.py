"""Reports from the rollups against the same figures by GROUP BY over the raw rows, in one run.

    python bench/reports.py [--clicks 5000000] [--leads 200000] [--days 90] [--runs 20] [--raw-runs 5]

In a throwaway database ``lx_bench_reports_<pid>`` beside EXCHANGE_TEST_DATABASE_URL
(dropped at the end, also on error): 10 advertisers with 5 offers each, 200
webmasters, clicks and leads spread over the last ``--days`` days (10 sub1 values, 8
countries, every lead status; approved leads carry their rate and payout), written
by INSERT ... SELECT generate_series. ``flask reports rebuild`` builds the rollups
(timed and printed). Then, for one advertiser, the 30-day report by day × offer:

- rollup: exchange.reports.query.report over report_daily, as the API runs it
  (p50 of ``--runs``);
- raw: the same figures by GROUP BY over clicks and leads (p50 of ``--raw-runs``).

Every figure of the two must be equal, or the run fails naming the first difference.
Prints ``reports: rollup_ms=<n> raw_ms=<n> ratio=<r>`` (ratio = raw / rollup; the goal
is a rollup p50 under 100 ms). Without PostgreSQL it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADVERTISERS, OFFERS_EACH, WEBMASTERS = 10, 5, 200
SUB1S, COUNTRIES = 10, ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL")
RATE_MINOR, PAYOUT_MINOR = 1500, 1000
STATUSES = ("received", "review", "awaiting_funds", "pending", "approved", "rejected", "returned")
REPORT_DAYS = 30

# The raw rows: ids drawn by arithmetic on the series number (fast, deterministic),
# created_at spread evenly over the period.
CLICKS_SQL = """
INSERT INTO clicks (click_id, offer_id, webmaster_id, participation_id, sub1, country, is_unique, created_at)
SELECT 'b' || n, o.id, p.webmaster_id, p.id,
       CASE WHEN n % 11 = 0 THEN NULL ELSE 's' || (n % :sub1s) END,
       CASE WHEN n % 13 = 0 THEN NULL ELSE (CAST(:countries AS text[]))[1 + n % 8] END,
       n % 3 <> 0,
       :start + (CAST(n AS bigint) * :span / :count) * interval '1 second'
FROM generate_series(0, CAST(:count AS int) - 1) AS n
JOIN participations p ON p.id = :first_participation + (CAST(n AS bigint) * 7919) % :participations
JOIN offers o ON o.id = p.offer_id
"""
LEADS_SQL = """
INSERT INTO leads (offer_id, advertiser_id, webmaster_id, sub1, fields, country, ip_country, status,
                   reason_codes, findings, currency, rate_minor, payout_minor, created_at, updated_at)
SELECT o.id, o.advertiser_id, p.webmaster_id,
       CASE WHEN n % 7 = 0 THEN NULL ELSE 's' || (n % :sub1s) END,
       '{}'::json,
       CASE WHEN n % 5 = 0 THEN NULL ELSE (CAST(:countries AS text[]))[1 + n % 8] END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE (CAST(:countries AS text[]))[1 + (n / 3) % 8] END,
       (CAST(:statuses AS text[]))[1 + (n * 31) % 7], '[]'::json, '[]'::json,
       'USD', :rate, :payout,
       :start + (CAST(n AS bigint) * :span / :count) * interval '1 second', now()
FROM generate_series(0, CAST(:count AS int) - 1) AS n
JOIN participations p ON p.id = :first_participation + (CAST(n AS bigint) * 104729) % :participations
JOIN offers o ON o.id = p.offer_id
"""
# The 30-day report by day x offer for one advertiser, straight from the raw rows.
RAW_SQL = """
SELECT day, offer_id, SUM(clicks), SUM(unique_clicks), SUM(leads),
       SUM(leads_received), SUM(leads_review), SUM(leads_awaiting_funds), SUM(leads_pending),
       SUM(leads_approved), SUM(leads_rejected), SUM(leads_returned), SUM(revenue_minor)
FROM (
  SELECT CAST(c.created_at AS date) AS day, c.offer_id, COUNT(*) AS clicks,
         COUNT(*) FILTER (WHERE c.is_unique) AS unique_clicks, 0 AS leads,
         0 AS leads_received, 0 AS leads_review, 0 AS leads_awaiting_funds, 0 AS leads_pending,
         0 AS leads_approved, 0 AS leads_rejected, 0 AS leads_returned, 0 AS revenue_minor
  FROM clicks c JOIN offers o ON o.id = c.offer_id
  WHERE o.advertiser_id = :advertiser AND c.created_at >= :since AND c.created_at < :until
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST(l.created_at AS date), l.offer_id, 0, 0, COUNT(*),
         COUNT(*) FILTER (WHERE l.status = 'received'), COUNT(*) FILTER (WHERE l.status = 'review'),
         COUNT(*) FILTER (WHERE l.status = 'awaiting_funds'), COUNT(*) FILTER (WHERE l.status = 'pending'),
         COUNT(*) FILTER (WHERE l.status = 'approved'), COUNT(*) FILTER (WHERE l.status = 'rejected'),
         COUNT(*) FILTER (WHERE l.status = 'returned'),
         COALESCE(SUM(l.rate_minor) FILTER (WHERE l.status = 'approved'), 0)
  FROM leads l
  WHERE l.advertiser_id = :advertiser AND l.created_at >= :since AND l.created_at < :until
  GROUP BY 1, 2
) f
GROUP BY day, offer_id ORDER BY day, offer_id
"""
COMPARED = (
    "clicks", "unique_clicks", "leads", "leads_received", "leads_review", "leads_awaiting_funds",
    "leads_pending", "leads_approved", "leads_rejected", "leads_returned", "revenue_minor",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=5_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=20, help="timed rollup reports (p50)")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed raw GROUP BY reports (p50)")
    args = parser.parse_args()
    try:
        from bench.clicks import fresh_database

        name = f"lx_bench_reports_{os.getpid()}"
        database_url = fresh_database(name)
    except Exception as error:  # no server to measure on: say so, measure nothing
        print(f"reports: skipped, PostgreSQL is not reachable ({type(error).__name__}: {error})")
        return
    try:
        rollup_ms, raw_ms = run(database_url, args)
    finally:
        from bench.ledger import drop_database

        drop_database(name)
    print(f"reports: rollup_ms={rollup_ms:.1f} raw_ms={raw_ms:.1f} ratio={raw_ms / rollup_ms:.1f}")


def run(database_url: str, args) -> tuple[float, float]:
    from flask_migrate import upgrade

    from exchange import create_app
    from exchange.extensions import db

    app = create_app(
        {"EXCHANGE_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"}
    )
    with app.app_context():
        try:
            upgrade()
            advertiser = generate(args)
            started = time.perf_counter()
            from exchange.reports.rollup import rebuild

            hourly_rows = rebuild()
            print(
                f"reports: rebuild_s={time.perf_counter() - started:.1f} hourly_rows={hourly_rows}",
                file=sys.stderr,
            )
            return compare_and_time(advertiser, args)
        finally:
            db.session.remove()
            db.engine.dispose()


def generate(args):
    """Parties as plain rows, then the clicks and leads; returns the advertiser reported on."""
    from sqlalchemy import text

    from exchange import clock
    from exchange.accounts.models import User
    from exchange.db import commit
    from exchange.extensions import db

    started = time.perf_counter()
    advertisers = insert_users("advertiser", ADVERTISERS)
    webmasters = insert_users("webmaster", WEBMASTERS)
    offers = insert_offers(advertisers)
    first_participation, participations = insert_participations(offers, webmasters)
    end = clock.now().replace(minute=0, second=0, microsecond=0)
    shared = {
        "start": end - timedelta(days=args.days),
        "span": args.days * 86400,
        "sub1s": SUB1S,
        "countries": list(COUNTRIES),
        "first_participation": first_participation,
        "participations": participations,
    }
    db.session.execute(text(CLICKS_SQL), {**shared, "count": args.clicks})
    db.session.execute(
        text(LEADS_SQL),
        {
            **shared,
            "count": args.leads,
            "statuses": list(STATUSES),
            "rate": RATE_MINOR,
            "payout": PAYOUT_MINOR,
        },
    )
    db.session.execute(text("DELETE FROM report_changes"))  # rows written behind the hooks' back
    commit()
    db.session.execute(text("ANALYZE"))
    commit()
    print(f"reports: generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return db.session.get(User, advertisers[0])


def insert_users(role: str, count: int) -> list[int]:
    from sqlalchemy import insert

    from exchange.accounts.models import User
    from exchange.extensions import db

    rows = [
        {"email": f"{role}{n}@bench.test", "name": f"{role} {n}", "role": role, "password_hash": "!"}
        for n in range(count)
    ]
    return list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))


def insert_offers(advertisers: list[int]) -> list[int]:
    from exchange.offers.services import create_offer
    from tests.factories import offer_data

    return [
        create_offer(advertiser, offer_data(rate_minor=RATE_MINOR, payout_minor=PAYOUT_MINOR)).id
        for advertiser in advertisers
        for _ in range(OFFERS_EACH)
    ]


def insert_participations(offers: list[int], webmasters: list[int]) -> tuple[int, int]:
    """Every webmaster on every offer, as one block of ids (the generators pick by id)."""
    from sqlalchemy import insert

    from exchange.extensions import db
    from exchange.offers.models import Participation

    rows = [
        {"offer_id": offer, "webmaster_id": webmaster, "token": f"b{offer}x{webmaster}", "status": "active"}
        for offer in offers
        for webmaster in webmasters
    ]
    ids = list(
        db.session.scalars(
            insert(Participation).returning(Participation.id, sort_by_parameter_order=True), rows
        )
    )
    if max(ids) - min(ids) + 1 != len(ids):
        raise SystemExit("the participations are not one block of ids")
    return min(ids), len(ids)


def compare_and_time(advertiser, args) -> tuple[float, float]:
    from sqlalchemy import text

    from exchange import clock
    from exchange.extensions import db
    from exchange.reports.query import report
    from exchange.reports.rollup import _midnight

    until = clock.now().date()
    since = until - timedelta(days=REPORT_DAYS - 1)

    def from_rollups():
        return report(advertiser, ["day", "offer"], {}, since, until)

    def from_raw():
        bounds = {
            "advertiser": advertiser.id,
            "since": _midnight(since),
            "until": _midnight(until) + timedelta(days=1),
        }
        return db.session.execute(text(RAW_SQL), bounds).all()

    rollup_ms, rolled = p50(from_rollups, args.runs)
    raw_ms, raw = p50(from_raw, args.raw_runs)
    db.session.rollback()
    mine = {(row["day"], row["offer_id"]): tuple(row[name] for name in COMPARED) for row in rolled}
    theirs = {(day, offer_id): tuple(int(v) for v in figures) for day, offer_id, *figures in raw}
    if not mine or mine != theirs:
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                raise SystemExit(
                    f"reports: at {key} the rollup says {mine.get(key)}, the raw rows {theirs.get(key)}"
                )
        raise SystemExit("reports: the report is empty")
    print(f"reports: {len(mine)} rows (day x offer) equal in both", file=sys.stderr)
    return rollup_ms, raw_ms


def p50(query, runs: int) -> tuple[float, list]:
    """The median time of ``runs`` runs (after one untimed warm-up), and the last answer."""
    answer = query()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = query()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


if __name__ == "__main__":
    main()
