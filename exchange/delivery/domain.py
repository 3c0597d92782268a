"""Outbound deliveries as plain Python, whatever they carry (webmaster postbacks, leads to
advertisers): their states, the retry schedule, what counts as an answer, which setting
applies. Postbacks' own rules: exchange/delivery/postbacks/domain.py; leads': .../leads/domain.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

# Seconds to wait after each failed attempt; after the last one the delivery has failed.
BACKOFF_SECONDS = (30, 120, 600, 3600, 6 * 3600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DELIVERY_STATES = (PENDING, DELIVERED, FAILED)
RESPONSE_EXCERPT_CHARS = 500


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt makes of a delivery: its state and when to try again."""

    state: str
    next_attempt_at: datetime | None


def after_attempt(attempts: int, succeeded: bool, at: datetime) -> AttemptOutcome:
    """The delivery after its ``attempts``-th attempt (counting this one) ended at ``at``."""
    if succeeded:
        return AttemptOutcome(DELIVERED, None)
    if attempts >= MAX_ATTEMPTS:
        return AttemptOutcome(FAILED, None)
    return AttemptOutcome(PENDING, at + timedelta(seconds=BACKOFF_SECONDS[attempts - 1]))


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def excerpt(body: bytes) -> str:
    """The start of a response body, as text a database column can store."""
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text[:RESPONSE_EXCERPT_CHARS]


def override_or_global(settings: Iterable[T], offer_id: int) -> T | None:
    """Of one owner's settings (each with an ``offer_id``, None for the global one), the
    offer's override, else the global one."""
    rows = list(settings)
    override = next((row for row in rows if row.offer_id == offer_id), None)
    return override or next((row for row in rows if row.offer_id is None), None)
