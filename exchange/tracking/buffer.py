"""The click buffer on Redis and the flusher that empties it into the database.

The click path only pushes a record (``push``). The flusher moves a batch
atomically from the buffer to its own processing list, marks unique clicks,
writes the batch with one multi-row insert, commits, and only then deletes
its processing list. A flusher that dies mid-batch finds its processing
list on restart and writes it again; rows already written are skipped
(``ON CONFLICT (click_id) DO NOTHING``), so nothing is lost and nothing is
written twice. Run one flusher per name (``flask clicks flush --loop``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from exchange.db import commit
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.tracking.models import SUB_KEYS, Click

BUFFER_KEY = "exchange:clicks:buffer"
UNIQUE_SECONDS = 24 * 3600
BATCH_SIZE = 1000

# Move up to ARGV[1] records from the buffer to the processing list, atomically.
_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""


def push(redis, record: dict) -> None:
    redis.rpush(BUFFER_KEY, json.dumps(record, default=_iso))


def pending(redis) -> int:
    return redis.llen(BUFFER_KEY)


def drain_once(redis, name: str = "main", batch_size: int = BATCH_SIZE) -> int:
    """Write one batch (leftovers of a crashed run first); the number written."""
    processing = f"exchange:clicks:processing:{name}"
    items = redis.lrange(processing, 0, -1) or redis.eval(_TAKE, 2, BUFFER_KEY, processing, batch_size)
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
    while written := drain_once(redis, name, batch_size):
        total += written
    return total


def _mark_unique(redis, records: list[dict]) -> None:
    """The first click of an IP and user agent on an offer within 24 hours is unique."""
    pipe = redis.pipeline(transaction=False)
    for record in records:
        visitor = hashlib.sha1(f"{record['ip']}|{record['user_agent']}".encode()).hexdigest()
        pipe.set(f"exchange:clicks:seen:{record['offer_id']}:{visitor}", 1, nx=True, ex=UNIQUE_SECONDS)
    for record, first in zip(records, pipe.execute(), strict=True):
        record["is_unique"] = bool(first)


def _insert(records: list[dict]) -> None:
    for record in records:
        record["created_at"] = datetime.fromisoformat(record["created_at"])
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Click).values(records).on_conflict_do_nothing(index_elements=["click_id"])
    db.session.execute(statement)


def _give_leads_their_subs(click_ids: list[str]) -> None:
    """Leads that arrived before their click was written take its sub ids now
    (only leads that brought none of their own)."""
    no_subs = [getattr(Lead, key).is_(None) for key in SUB_KEYS]
    db.session.execute(
        update(Lead)
        .where(Lead.click_token.in_(click_ids), *no_subs)
        .values(
            {
                key: select(getattr(Click, key)).where(Click.click_id == Lead.click_token).scalar_subquery()
                for key in SUB_KEYS
            }
        )
        .execution_options(synchronize_session=False)
    )


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot buffer {type(value).__name__}")
