"""Change markers: the (hour, offer) buckets whose figures the next fold recomputes.

Written by the click and lead paths in the transaction of the change they mark, as
plain INSERTs (never an upsert: no row is shared, so writers never wait on each
other). The fold deletes the markers it takes; a change committed after its snapshot
left its own marker for the next fold.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, Integer, TextClause, bindparam, text

from exchange.extensions import db


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def mark(pairs: Iterable[tuple[datetime, int]]) -> None:
    """One marker per distinct (hour of ``at``, offer id), in one INSERT. Exchange leads
    (no offer) are not in the offers' rollups."""
    distinct = sorted({(hour_of(at), offer_id) for at, offer_id in pairs if offer_id is not None})
    if not distinct:
        return
    values = {}
    for n, (hour, offer_id) in enumerate(distinct):
        values[f"h{n}"], values[f"o{n}"] = hour, offer_id
    db.session.execute(_insert(len(distinct)), values)


def mark_records(records: list[dict]) -> None:
    """Mark the buckets of buffered click records (``created_at`` a datetime or its
    ISO text), parsing each distinct hour once."""
    hours: dict[tuple[str, int], datetime] = {}
    for record in records:
        at = record["created_at"]
        key = (at[:13] if isinstance(at, str) else at.isoformat()[:13], record["offer_id"])
        if key not in hours:
            hours[key] = datetime.fromisoformat(at) if isinstance(at, str) else at
    mark((at, offer_id) for (_, offer_id), at in hours.items())


@functools.cache
def _insert(count: int) -> TextClause:
    """Built once per number of rows (compiling a multi-row INSERT every time costs more
    than running it)."""
    rows = ", ".join(f"(:h{n}, :o{n})" for n in range(count))
    return text(f"INSERT INTO report_changes (bucket_hour, offer_id) VALUES {rows}").bindparams(
        *(bindparam(f"h{n}", type_=DateTime()) for n in range(count)),
        *(bindparam(f"o{n}", type_=Integer()) for n in range(count)),
    )
