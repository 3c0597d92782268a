"""The one place that reads the time, so that tests can control it.

Timestamps are naive UTC everywhere (SQLite keeps no time zone).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
