"""The one place that reads the time, so that tests can control it.

Timestamps are naive UTC everywhere inside (SQLite keeps no time zone); whatever leaves
the app (the API's JSON, CSV files, webhooks, postbacks) writes them with ``isoformat``:
ISO 8601 in UTC, with its "Z".
"""

from __future__ import annotations

from datetime import UTC, date, datetime

_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def freeze(at: datetime | None) -> None:
    """Make ``now()`` answer ``at`` until called again (``None`` thaws)."""
    global _frozen
    _frozen = at


def frozen_at() -> datetime | None:
    """The time ``now()`` is frozen at, or None when the clock runs."""
    return _frozen


def isoformat(value: date | datetime, timespec: str = "auto") -> str:
    """A moment as ISO 8601 in UTC with a "Z" (``2026-12-05T07:49:04.897963Z``): naive
    moments are UTC already, aware ones are converted. A date stays a date (``2026-12-05``)."""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec=timespec) + "Z"


def as_naive_utc(value: datetime) -> datetime:
    """An aware moment as the naive UTC the database keeps; a naive one is taken as UTC."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
