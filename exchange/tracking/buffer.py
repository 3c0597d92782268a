"""The click buffer on Redis and the flusher that empties it into the database.

The click path only pushes a record (``push``). The flusher moves a batch
atomically from the buffer to its own processing list, marks unique clicks,
writes the batch with one INSERT executed for all its rows, commits, and only
then deletes its processing list. A flusher that dies mid-batch finds its processing
list on restart and writes it again; rows already written are skipped
(``ON CONFLICT (click_id) DO NOTHING``), so nothing is lost and nothing is
written twice. One flusher runs per name, and the batch of a flusher that died is taken
over by another (exchange/tracking/flushers.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from datetime import datetime

from redis import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import JSON, TextClause, bindparam, select, text, update

from exchange.db import commit
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.metrics import CLICKS_STORED, count_on_commit
from exchange.reports.changes import mark, mark_records
from exchange.tracking.models import SUB_KEYS, Click

BUFFER_KEY = "exchange:clicks:buffer"
PROCESSING_KEY = "exchange:clicks:processing:{}"  # a flusher's batch in hand, by its name
UNIQUE_SECONDS = 24 * 3600
BATCH_SIZE = 1000
LINGER_SECONDS = 0.2  # as long as the flusher sleeps when the buffer is empty

# The processing list's leftovers (a run that died mid-batch), or else up to ARGV[1]
# records moved there from the buffer, atomically; one round trip either way.
_TAKE = """
local leftovers = redis.call('LRANGE', KEYS[2], 0, -1)
if #leftovers > 0 then
  return leftovers
end
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""

# For each visitor key, 1 if it was not set (the visitor's first click in the window), else 0.
_FIRST_SEEN = """
local firsts = {}
for i, key in ipairs(KEYS) do
  firsts[i] = redis.call('SET', key, 1, 'NX', 'EX', ARGV[1]) and 1 or 0
end
return firsts
"""


def push(redis_url: str, record: dict) -> None:
    """Append a click to the buffer: one round trip on this thread's own connection.

    The click path talks to its connection directly: the client's command
    machinery (a pool checkout that polls the socket, metrics, retry
    bookkeeping) costs more than the round trip. A connection the server
    closed is opened again once; a click pushed twice that way is written
    once (the flusher skips a click id it has)."""
    payload = json.dumps(record, default=_iso)
    connection = _click_connection(redis_url)
    try:
        _rpush(connection, payload)
    except (RedisConnectionError, RedisTimeoutError):
        connection.disconnect()
        _rpush(connection, payload)


def _rpush(connection, payload: str) -> None:
    connection.send_command("RPUSH", BUFFER_KEY, payload)
    connection.read_response()  # raises the server's error, if it answered one


_click_connections = threading.local()


def _click_connection(redis_url: str):
    """This thread's connection to ``redis_url``, opened on first use (never shared across a fork)."""
    owned = getattr(_click_connections, "owned", None)
    if owned is None or owned[0] != os.getpid():
        owned = _click_connections.owned = (os.getpid(), {})
    connection = owned[1].get(redis_url)
    if connection is None:
        pool = ConnectionPool.from_url(redis_url)
        connection = owned[1][redis_url] = pool.connection_class(**pool.connection_kwargs)
    return connection


def pending(redis) -> int:
    return redis.llen(BUFFER_KEY)


def drain_once(
    redis, name: str = "main", batch_size: int = BATCH_SIZE, linger: float = LINGER_SECONDS
) -> int:
    """Write one batch (leftovers of a crashed run first); the number written.

    When the buffer holds some clicks but less than a batch, wait ``linger``
    seconds for more first: a batch costs a few round trips whatever its
    size, and a flusher that wrote every trickle at once spent more on them
    than on the clicks (and took that time from the web workers)."""
    if linger and 0 < redis.llen(BUFFER_KEY) < batch_size:
        time.sleep(linger)
    processing = PROCESSING_KEY.format(name)
    items = redis.eval(_TAKE, 2, BUFFER_KEY, processing, batch_size)
    if not items:
        return 0
    records = [json.loads(item) for item in items]
    _mark_unique(redis, records)
    _insert(records)
    _give_leads_their_subs([record["click_id"] for record in records])
    commit()
    redis.delete(processing)
    return len(records)


def drain(redis, name: str = "main", batch_size: int = BATCH_SIZE) -> int:
    """Write batches until the buffer is empty."""
    total = 0
    while written := drain_once(redis, name, batch_size, linger=0):
        total += written
    return total


def _mark_unique(redis, records: list[dict]) -> None:
    """The first click of an IP and user agent on an offer (or a vertical) within 24 hours
    is unique."""
    keys = []
    for record in records:
        visitor = hashlib.sha1(f"{record['ip']}|{record['user_agent']}".encode()).hexdigest()
        keys.append(f"exchange:clicks:seen:{_link_scope(record)}:{visitor}")
    for record, first in zip(records, redis.eval(_FIRST_SEEN, len(keys), *keys, UNIQUE_SECONDS), strict=True):
        record["is_unique"] = bool(first)


def _link_scope(record: dict) -> str:
    """An offer's clicks are counted by its id (as before vertical links existed), a
    vertical's as ``v<id>``."""
    offer_id = record.get("offer_id")
    return str(offer_id) if offer_id is not None else f"v{record['vertical_id']}"


def _insert(records: list[dict]) -> None:
    """Every record of one release has the same keys; records pushed by an older release
    (offer clicks without the vertical columns) are written by a statement of their own."""
    mark_records(records)  # the reports' (hour, offer) buckets, in the same transaction
    by_names: dict[tuple[str, ...], list[dict]] = {}
    for record in records:
        by_names.setdefault(tuple(record), []).append(record)
    for names, group in by_names.items():
        count_on_commit(CLICKS_STORED, amount=_insert_group(names, group))


def _insert_group(names: tuple[str, ...], records: list[dict]) -> int:
    """The rows inserted (a click already stored, by a flush that crashed before its
    acknowledgement, is not inserted again)."""
    if db.engine.dialect.name == "postgresql":
        return db.session.execute(_insert_from_json(names), {"rows": json.dumps(records)}).rowcount
    for record in records:
        record["created_at"] = datetime.fromisoformat(record["created_at"])
    return db.session.execute(_insert_each(names), records).rowcount


# SQLAlchemy compiles its dialects' ``INSERT .. ON CONFLICT`` again for every
# batch (they are not cached), which cost more than the rest of the flush: the
# statements below are built once per process instead.


@functools.cache
def _insert_from_json(names: tuple[str, ...]) -> TextClause:
    """PostgreSQL: the whole batch in one statement with one parameter, a JSON
    array of the records, so the database parses one statement, not one per row.
    A JSON column keeps JSON ``null`` for None, as SQLAlchemy stores it."""
    table = Click.__tablename__
    picked = [_json_null_kept(Click.__table__.c[name]) for name in names]
    return text(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(picked)} "
        f"FROM json_populate_recordset(NULL::{table}, CAST(:rows AS json)) ON CONFLICT (click_id) DO NOTHING"
    )


def _json_null_kept(column) -> str:
    return f"COALESCE({column.name}, 'null'::json)" if isinstance(column.type, JSON) else column.name


@functools.cache
def _insert_each(names: tuple[str, ...]) -> TextClause:
    """Other databases: one INSERT executed for all the rows."""
    columns = [Click.__table__.c[name] for name in names]
    return text(
        f"INSERT INTO {Click.__tablename__} ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)}) ON CONFLICT (click_id) DO NOTHING"
    ).bindparams(*(bindparam(column.name, type_=column.type) for column in columns))


def _give_leads_their_subs(click_ids: list[str]) -> None:
    """Leads that arrived before their click was written take its sub ids now
    (only leads that brought none of their own)."""
    changed = db.session.execute(_subs_for_early_leads(), {"click_ids": click_ids}).all()
    mark((created_at, offer_id) for created_at, offer_id in changed)  # their report rows move


@functools.cache
def _subs_for_early_leads():
    no_subs = [getattr(Lead, key).is_(None) for key in SUB_KEYS]
    return (
        update(Lead)
        .where(Lead.click_token.in_(bindparam("click_ids", expanding=True)), *no_subs)
        .values(
            {
                key: select(getattr(Click, key)).where(Click.click_id == Lead.click_token).scalar_subquery()
                for key in SUB_KEYS
            }
        )
        .returning(Lead.created_at, Lead.offer_id)
        .execution_options(synchronize_session=False)
    )


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot buffer {type(value).__name__}")
