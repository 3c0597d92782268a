"""Flushers, one per name, and the batches of those that died (docs/operations.md, "Clicks").

A flusher holds a lease on its name in Redis (``exchange:clicks:flusher:<name>``, a token
that expires after ``LEASE_SECONDS`` unless renewed): a second flusher of the same name
waits for it, then refuses to start, since two of them would share one processing list.
A flusher renews its lease at every turn of its loop; one that finds its name taken (it
stalled past the lease, and another flusher of its name started) stops.

A flusher killed mid-batch (SIGKILL, a lost machine) leaves its batch in its processing
list and its lease to expire. Every flusher looks, every ``RECLAIM_EVERY_SECONDS``, for
processing lists whose owner has no lease, and moves them into its own, atomically: its
next batch writes them (a click already written is skipped by the INSERT, so a flusher that
was only slow, not dead, doubles nothing).
"""

from __future__ import annotations

import os
import time
import uuid

from exchange.tracking.buffer import PROCESSING_KEY

LEASE_KEY = "exchange:clicks:flusher:{}"
LEASE_SECONDS = 10.0
RECLAIM_EVERY_SECONDS = 2.0

# Extend the lease, or take it again if it ran out (a slow batch) and nobody took the name.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: the owner's lease, the owner's processing list, this flusher's processing list.
_RECLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local moved = 0
while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do
  moved = moved + 1
end
return moved
"""


class NameTaken(Exception):
    """Another flusher holds this name."""


class Lease:
    """This flusher's hold on its name."""

    def __init__(self, redis, name: str, seconds: float = LEASE_SECONDS) -> None:
        self.redis, self.name, self.seconds = redis, name, seconds
        self.key = LEASE_KEY.format(name)
        self.token = f"{os.getpid()}:{uuid.uuid4().hex}"

    def acquire(self, wait: float | None = None) -> None:
        """Take the name, waiting up to ``wait`` seconds (a lease's length by default: the
        lease of a flusher of this name that was just killed runs out meanwhile)."""
        deadline = time.monotonic() + (self.seconds + 1 if wait is None else wait)
        while not self.redis.set(self.key, self.token, nx=True, px=self._ms):
            if time.monotonic() > deadline:
                raise NameTaken(f"a flusher named {self.name!r} is running; give this one another --name")
            time.sleep(0.2)

    def renew(self) -> bool:
        """Extend the lease; False if another flusher holds the name now (this one must stop)."""
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self._ms))

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, self.key, self.token)

    @property
    def _ms(self) -> int:
        return int(self.seconds * 1000)


def reclaim(redis, name: str) -> int:
    """Move into ``name``'s processing list the batches of flushers that hold no lease: how
    many clicks were taken over."""
    mine = PROCESSING_KEY.format(name)
    prefix = PROCESSING_KEY.format("")
    moved = 0
    for key in redis.scan_iter(match=PROCESSING_KEY.format("*"), count=100):
        owner = key.decode().removeprefix(prefix)
        if owner != name:
            moved += redis.eval(_RECLAIM, 3, LEASE_KEY.format(owner), key, mine)
    return moved
