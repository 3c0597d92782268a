"""The doorbell: how a request waiting for its catalog order hears that it was done, on
PostgreSQL.

Whoever holds the till announces, in the transaction that fills the orders, which orders it
filled (with their sales) or refused (a NOTIFY: PostgreSQL delivers it with the commit,
never before and never for a rollback). One connection per process listens, on a thread of
its own that starts when a request first waits and ends after ``IDLE_SECONDS`` without one.
When an announcement comes, it wakes the requests of its process whose orders were done,
and one request still waiting, to try the till: orders placed during the filling wait for
someone to fill them. So a request learns that its order was filled, and which sales it
made, without a statement of its own, and the turns are not taken one after another.

Nothing relies on the bell for correctness: a request that hears nothing for
``POLL_SECONDS`` looks at its order and tries the till anyway (a holder whose filling
failed announces nothing; a process not listening yet hears nothing).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import text
from sqlalchemy.engine import Engine

from exchange.extensions import db

log = logging.getLogger(__name__)

CHANNEL = "catalog_orders_done"
POLL_SECONDS = 0.25  # at the longest without a ring, a waiting request looks again
START_SECONDS = 1.0  # at the longest, a request waits for a new listening thread to listen
IDLE_SECONDS = 60.0  # the listening thread ends after so long without a waiting request
ANNOUNCE = text("SELECT pg_notify(:channel, :order_ids)")
PAYLOAD_LIMIT = 7000  # bytes: PostgreSQL refuses a notification's payload of 8000 or more

_bells: WeakKeyDictionary[Engine, Doorbell] = WeakKeyDictionary()
_bells_lock = threading.Lock()


def announce(done: Mapping[int, list[int] | None]) -> None:
    """Say, with this transaction's commit, that these orders are done: filled with these
    sales, or refused (None). The payload reads ``7:31.32,8,9:33`` (order 7's sales are 31
    and 32; 8 was refused); an order whose sales would make it too long is announced alone,
    and its request reads its sales for itself."""
    parts, size = [], 0
    for order_id, sale_ids in done.items():
        part = f"{order_id}:{'.'.join(map(str, sale_ids))}" if sale_ids else str(order_id)
        if size + len(part) > PAYLOAD_LIMIT:
            part = str(order_id)
        parts.append(part)
        size += len(part) + 1
    if parts:
        db.session.execute(ANNOUNCE, {"channel": CHANNEL, "order_ids": ",".join(parts)})


def doorbell() -> Doorbell:
    """The process's doorbell for the app's database."""
    engine = db.engine
    with _bells_lock:
        bell = _bells.get(engine)
        if bell is None or bell.pid != os.getpid():  # a forked worker listens for itself
            bell = _bells[engine] = Doorbell(listening_connector(engine))
        return bell


def listening_connector(engine: Engine) -> Callable[[], Any]:
    """How to make a connection of the app's driver as the pool makes them, but not the
    pool's: it listens as long as the thread does (and it keeps no hold on the engine)."""
    dialect = engine.dialect
    arguments, keywords = dialect.create_connect_args(engine.url)

    def connect() -> Any:
        connection = dialect.connect(*arguments, **keywords)
        connection.autocommit = True
        return connection

    return connect


class Bell(threading.Event):
    """One waiting order's bell. Once it has rung for the order's being filled, ``sale_ids``
    are the order's sales, as announced (None: refused, not said, or rung for another
    reason: the request looks at its order)."""

    def __init__(self) -> None:
        super().__init__()
        self.sale_ids: list[int] | None = None


class Doorbell:
    """The requests of a process waiting for their orders, and the thread that wakes them."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self.pid = os.getpid()
        self._connect = connect
        self._lock = threading.Lock()
        self._waiting: dict[int, Bell] = {}  # order id: its request's bell
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_wait = time.monotonic()

    @contextmanager
    def expecting(self, order_id: int) -> Iterator[Bell]:
        """The order's bell, rung when the order is announced done or its request is to try
        the till. Expect an order before committing it: it cannot be done before that, so
        no announcement of it can be missed (once the thread listens)."""
        rung = Bell()
        with self._lock:
            self._waiting[order_id] = rung
            if self._thread is None or not self._thread.is_alive():
                self._listening = threading.Event()
                self._thread = threading.Thread(
                    target=self._listen, args=(self._listening,), name="catalog-doorbell", daemon=True
                )
                self._thread.start()
            listening = self._listening
        listening.wait(START_SECONDS)  # not listening by then: the request looks for itself
        try:
            yield rung
        finally:
            with self._lock:
                del self._waiting[order_id]
                self._last_wait = time.monotonic()

    def listening(self) -> bool:
        return self._listening.is_set()

    def _listen(self, listening: threading.Event) -> None:
        try:
            connection = self._connect()
        except Exception:
            log.exception("the catalog's doorbell cannot listen: requests look for themselves")
            self._stop()
            return
        try:
            connection.execute(f"LISTEN {CHANNEL}")
            listening.set()
            while not self._stop_if_idle():
                for notice in connection.notifies(timeout=1.0):
                    self._ring(notice.payload)
        except Exception:
            log.exception("the catalog's doorbell stopped listening: requests look for themselves")
            self._stop()
        finally:
            listening.clear()
            connection.close()

    def _stop_if_idle(self) -> bool:
        """True, and the thread let go (the next request starts another), after
        ``IDLE_SECONDS`` without a waiting request."""
        with self._lock:
            if self._waiting or time.monotonic() - self._last_wait <= IDLE_SECONDS:
                return False
            self._thread = None
            return True

    def _stop(self) -> None:
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None

    def _ring(self, payload: str) -> None:
        """Wake the requests whose orders are done, and the longest waiting of the others."""
        done = dict(_announced(part) for part in payload.split(",") if part)
        with self._lock:
            for order_id, rung in self._waiting.items():
                if order_id in done:
                    rung.sale_ids = done[order_id]
                    rung.set()
            still = [order_id for order_id in self._waiting if order_id not in done]
            if still:
                self._waiting[min(still)].set()


def _announced(part: str) -> tuple[int, list[int] | None]:
    """An order of an announcement, and its sales if they are said."""
    order_id, _, sale_ids = part.partition(":")
    return int(order_id), [int(sale_id) for sale_id in sale_ids.split(".")] if sale_ids else None
