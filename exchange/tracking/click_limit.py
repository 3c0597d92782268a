"""Clicks per IP address (config ``LIMIT_CLICKS_PER_ADDRESS``), counted in this process.

A click must not wait for another server to be counted, so each process counts its own
(with N processes a visitor may click up to N times the limit, which is why the limit is
generous), in fixed windows that start afresh, forgetting every address at once. The
windows are parsed by the ``limits`` library, as Flask-Limiter's are; its in-memory
storage is not used here: it starts a thread every 10 ms that scans every address, a cost
each click would share under load. A race between two threads may lose a count: the
limit is a guard against floods, not an exact meter.
"""

from __future__ import annotations

import math
import time

from limits import parse_many


class ClickLimit:
    def __init__(self, windows: str):
        self.windows = [(item.amount, item.get_expiry()) for item in parse_many(windows)]
        self.current = [-1] * len(self.windows)  # which window of each length is counting
        self.counts: list[dict[str, int]] = [{} for _ in self.windows]

    def retry_after(self, address: str, now: float | None = None) -> int | None:
        """Count a click from ``address``: None when within the limit, else the seconds
        until the full window ends."""
        now = time.time() if now is None else now
        wait = None
        for index, (amount, seconds) in enumerate(self.windows):
            window = int(now // seconds)
            if window != self.current[index]:
                self.current[index], self.counts[index] = window, {}
            counts = self.counts[index]
            counts[address] = count = counts.get(address, 0) + 1
            if count > amount:
                wait = max(wait or 0, math.ceil((window + 1) * seconds - now))
        return wait
