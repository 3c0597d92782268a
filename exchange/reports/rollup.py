"""The fold: markers in, their (hour, offer) buckets recomputed from the raw rows.

One folder at a time (on PostgreSQL a transaction-level advisory lock; SQLite has a
single writer). In one transaction the fold deletes up to ``limit`` markers, deletes
and computes again the ``report_hourly`` rows of each distinct (hour, offer) by
GROUP BY over ``clicks`` and ``leads`` of that hour and offer, then the
``report_daily`` rows of each (day, offer) touched, by summing its hours. A change
committed after a statement's snapshot wrote its own marker, which this fold did
not take: the next fold recomputes that bucket, so the rollups are exact once the
markers are folded (``check`` compares them with the raw rows).

A lead counts in the bucket of its ``created_at`` with its current status; revenue
and payout are those of approved leads; sub1 and country are '' when empty (the
lead's country is its field's, else its IP's).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, Integer, TextClause, bindparam, text

from exchange.db import commit
from exchange.extensions import db
from exchange.reports.models import LEAD_STATUSES

FOLDER_LOCK = 7_160_016  # pg_try_advisory_xact_lock key of the one folder
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

COUNTS = (
    "clicks", "unique_clicks", "leads", *(f"leads_{status}" for status in LEAD_STATUSES),
    "revenue_minor", "payout_minor",
)  # fmt: skip
KEY_COLUMNS = ("offer_id", "webmaster_id", "sub1", "country", "advertiser_id", "currency")
COLUMNS = ("bucket", *KEY_COLUMNS, *COUNTS)


def fold(limit: int = 5000) -> int:
    """Fold up to ``limit`` markers and commit; the number folded (0 when another
    folder holds the lock or there is nothing to fold)."""
    if not _folder_lock(wait=False):
        db.session.rollback()
        return 0
    taken = db.session.execute(_take_markers(), {"limit": limit}).all()
    hours = sorted({(hour, offer_id) for hour, offer_id in taken})
    if hours:
        recompute(hours)
    commit()
    return len(taken)


def recompute(hours: list[tuple[datetime, int]]) -> None:
    """The hourly rows of each (hour, offer), then the daily rows of their (day, offer)."""
    db.session.execute(
        _statement("DELETE FROM report_hourly WHERE offer_id = :offer_id AND bucket = :start"),
        [{"offer_id": offer_id, "start": hour} for hour, offer_id in hours],
    )
    db.session.execute(
        _hourly_insert(),
        [{"offer_id": offer_id, "start": hour, "end": hour + HOUR} for hour, offer_id in hours],
    )
    days = sorted({(hour.date(), offer_id) for hour, offer_id in hours})
    db.session.execute(
        _statement("DELETE FROM report_daily WHERE offer_id = :offer_id AND bucket = :day"),
        [{"offer_id": offer_id, "day": day} for day, offer_id in days],
    )
    db.session.execute(
        _daily_insert(),
        [
            {"offer_id": offer_id, "day": day, "start": _midnight(day), "end": _midnight(day) + DAY}
            for day, offer_id in days
        ],
    )


def rebuild() -> int:
    """Everything computed again from the raw rows (waits for a running fold); commits.
    The number of hourly rows written."""
    _folder_lock(wait=True)
    db.session.execute(text("DELETE FROM report_changes"))
    db.session.execute(text("DELETE FROM report_hourly"))
    db.session.execute(text("DELETE FROM report_daily"))
    written = db.session.execute(text(_insert_sql("report_hourly", _raw_select("TRUE", "TRUE")))).rowcount
    day = _day_of("bucket")
    figures = ", ".join(f"SUM({name})" for name in COUNTS)
    keys = ", ".join(KEY_COLUMNS)
    db.session.execute(
        text(
            _insert_sql(
                "report_daily",
                f"SELECT {day}, {keys}, {figures} FROM report_hourly GROUP BY {day}, {keys}",
            )
        )
    )
    commit()
    return written


def check(since: date, until: date) -> list[str]:
    """The differences between the rollups and the raw rows over ``since``..``until``
    (days, both included), in words; empty when they agree."""
    start, end = _midnight(since), _midnight(until) + DAY
    raw_hours = _figures_by_key(
        db.session.execute(_raw_range(), {"start": start, "end": end}).all(), lambda bucket: bucket
    )
    raw_days: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for (hour, *rest), figures in raw_hours.items():
        summed = raw_days[(_as_datetime(hour).date(), *rest)]
        for n, value in enumerate(figures):
            summed[n] += value
    differences = []
    for table, raw, bounds in (
        ("report_hourly", raw_hours, (start, end)),
        ("report_daily", dict(raw_days), (since, until + DAY)),
    ):
        rows = db.session.execute(
            _statement(f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE bucket >= :start AND bucket < :end"),
            {"start": bounds[0], "end": bounds[1]},
        ).all()
        kept = _figures_by_key(rows, _as_datetime if table == "report_hourly" else _as_date)
        differences += _compare(table, kept, {key: tuple(v) for key, v in raw.items() if any(v)})
    db.session.rollback()
    return differences


def _compare(table: str, kept: dict, raw: dict) -> list[str]:
    differences = []
    for key in sorted(set(kept) | set(raw), key=repr):
        mine, theirs = kept.get(key), raw.get(key)
        if mine != theirs:
            differences.append(f"{table} {_describe(key)}: rollup {_show(mine)}, raw {_show(theirs)}")
    return differences


def _describe(key: tuple) -> str:
    bucket, offer_id, webmaster_id, sub1, country, *_ = key
    return f"{bucket} offer {offer_id} webmaster {webmaster_id} sub1 {sub1!r} country {country!r}"


def _show(figures: tuple | None) -> str:
    if figures is None:
        return "missing"
    return ", ".join(f"{name}={value}" for name, value in zip(COUNTS, figures, strict=True) if value)


def _figures_by_key(rows, bucket_of) -> dict[tuple, tuple[int, ...]]:
    width = 1 + len(KEY_COLUMNS)
    return {
        (bucket_of(row[0]), *row[1:width]): tuple(int(value or 0) for value in row[width:]) for row in rows
    }


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _as_date(value) -> date:
    return (
        value if isinstance(value, date) and not isinstance(value, datetime) else _as_datetime(value).date()
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _folder_lock(wait: bool) -> bool:
    if db.engine.dialect.name != "postgresql":
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    taken = db.session.execute(text(f"SELECT {function}(:key)"), {"key": FOLDER_LOCK}).scalar()
    return wait or bool(taken)


# -- the statements, built once per dialect ---------------------------------------------------


def _statement(sql: str) -> TextClause:
    return _typed(text(sql), sql)


def _typed(clause: TextClause, sql: str) -> TextClause:
    """Dates and times bound with their SQLAlchemy types (SQLite compares them as text)."""
    types = {"start": DateTime(), "end": DateTime(), "day": Date(), "offer_id": Integer(), "limit": Integer()}
    return clause.bindparams(
        *(bindparam(name, type_=kind) for name, kind in types.items() if f":{name}" in sql)
    )


@functools.cache
def _take_markers() -> TextClause:
    skip = " FOR UPDATE SKIP LOCKED" if db.engine.dialect.name == "postgresql" else ""
    return _statement(
        "DELETE FROM report_changes WHERE id IN "
        f"(SELECT id FROM report_changes ORDER BY id LIMIT :limit{skip}) RETURNING bucket_hour, offer_id"
    ).columns(bucket_hour=DateTime(), offer_id=Integer())


@functools.cache
def _hourly_insert() -> TextClause:
    where = "{t}.offer_id = :offer_id AND {t}.created_at >= :start AND {t}.created_at < :end"
    return _statement(_insert_sql("report_hourly", _raw_select(where.format(t="c"), where.format(t="l"))))


@functools.cache
def _raw_range() -> TextClause:
    where = "{t}.created_at >= :start AND {t}.created_at < :end"
    return _statement(_raw_select(where.format(t="c"), where.format(t="l")))


@functools.cache
def _daily_insert() -> TextClause:
    figures = ", ".join(f"SUM({name})" for name in COUNTS)
    keys = ", ".join(KEY_COLUMNS)
    return _statement(
        _insert_sql(
            "report_daily",
            f"SELECT :day, {keys}, {figures} FROM report_hourly "
            f"WHERE offer_id = :offer_id AND bucket >= :start AND bucket < :end GROUP BY {keys}",
        )
    )


def _insert_sql(table: str, select: str) -> str:
    return f"INSERT INTO {table} ({', '.join(COLUMNS)}) {select}"


def _raw_select(click_where: str, lead_where: str) -> str:
    """The hourly figures of the clicks and leads matching the conditions, in COLUMNS order."""
    zeros = ", ".join(f"0 AS {name}" for name in COUNTS[3:])
    by_status = ", ".join(
        f"SUM(CASE WHEN l.status = '{status}' THEN 1 ELSE 0 END) AS leads_{status}"
        for status in LEAD_STATUSES
    )
    money = (
        "SUM(CASE WHEN l.status = 'approved' THEN COALESCE(l.rate_minor, 0) ELSE 0 END) AS revenue_minor, "
        "SUM(CASE WHEN l.status = 'approved' THEN COALESCE(l.payout_minor, 0) ELSE 0 END) AS payout_minor"
    )
    clicks = (
        f"SELECT {_hour_of('c.created_at')} AS bucket, c.offer_id, c.webmaster_id, "
        "COALESCE(c.sub1, '') AS sub1, COALESCE(c.country, '') AS country, "
        "COUNT(*) AS clicks, SUM(CASE WHEN c.is_unique THEN 1 ELSE 0 END) AS unique_clicks, "
        f"0 AS leads, {zeros} FROM clicks c WHERE {click_where} GROUP BY 1, 2, 3, 4, 5"
    )
    leads = (
        f"SELECT {_hour_of('l.created_at')} AS bucket, l.offer_id, l.webmaster_id, "
        "COALESCE(l.sub1, '') AS sub1, COALESCE(l.country, l.ip_country, '') AS country, "
        f"0 AS clicks, 0 AS unique_clicks, COUNT(*) AS leads, {by_status}, {money} "
        f"FROM leads l WHERE {lead_where} GROUP BY 1, 2, 3, 4, 5"
    )
    sums = ", ".join(f"SUM(f.{name})" for name in COUNTS)
    return (
        "SELECT f.bucket, f.offer_id, f.webmaster_id, f.sub1, f.country, o.advertiser_id, o.currency, "
        f"{sums} "
        f"FROM ({clicks} UNION ALL {leads}) f JOIN offers o ON o.id = f.offer_id "
        "GROUP BY f.bucket, f.offer_id, f.webmaster_id, f.sub1, f.country, o.advertiser_id, o.currency"
    )


def _hour_of(column: str) -> str:
    if db.engine.dialect.name == "postgresql":
        return f"date_trunc('hour', {column})"
    return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"


def _day_of(column: str) -> str:
    return f"CAST({column} AS date)" if db.engine.dialect.name == "postgresql" else f"date({column})"
