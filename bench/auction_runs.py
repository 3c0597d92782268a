"""Running the auctioneer for bench/auction.py and timing it: in this process (``serve``),
or as ``--processes`` spawned auctioneers, each until no auction is left open; the runs
that failed counted (``Failures``) and, with ``--detail``, each auction's steps timed
(``Timings``)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import sys
import threading
import time


class Failures(logging.Handler):
    """Counts the auction runs that failed (``runner._guarded`` logs each), keeps the first."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    @classmethod
    def install(cls) -> Failures:
        handler = cls()
        logger = logging.getLogger("exchange.auctions.runner")
        logger.disabled = False  # logging.config.fileConfig (migrations/env.py) disabled it
        logger.propagate = False  # one line on stderr, not a traceback per failure
        logger.addHandler(handler)
        return handler

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            error = record.exc_info[1] if record.exc_info else None
            cause = getattr(error, "orig", None) or error
            lines = str(cause).splitlines() if cause is not None else []
            context = [line.strip() for line in lines if line.startswith("CONTEXT:")]
            said = "; ".join(lines[:1] + context)
            self.first = f"{record.getMessage().split(' ')[0]}: {type(cause).__name__}: {said}"


RUN_STARTED: contextvars.ContextVar[float] = contextvars.ContextVar("run_started")


class Timings:
    """With --detail: each auction's time from its run's start to ``settle`` committed and to
    its end, measured around the auctioneer's steps (``serve`` builds the subclass)."""

    def __init__(self) -> None:
        self.decided: list[float] = []
        self.ended: list[float] = []

    def install(self):
        from exchange.auctions import runner

        timings, original = self, runner.Auctioneer

        class Timed(original):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                settle = self.settle

                async def timed(item):  # in the auction's task (its batch runs in another)
                    result = await settle(item)
                    timings.decided.append((time.monotonic() - RUN_STARTED.get()) * 1000)
                    return result

                self.settle = timed

            async def run(self, auction_id: int, attempt: int) -> None:
                started = time.monotonic()
                RUN_STARTED.set(started)  # each auction runs in its own task, its own context
                await super().run(auction_id, attempt)
                timings.ended.append((time.monotonic() - started) * 1000)

        runner.Auctioneer = Timed
        return original

    def report(self, baseline_ms: list[float]) -> None:
        def spread(values: list[float]) -> str:
            top = max(values, default=0)
            return f"p50={percentile(values, 50):.0f} p99={percentile(values, 99):.0f} max={top:.0f}"

        print(f"detail: to settle committed {spread(self.decided)}", file=sys.stderr)
        print(f"detail: whole run {spread(self.ended)}", file=sys.stderr)
        print(f"detail: baseline ping_all {spread(baseline_ms)}", file=sys.stderr)


async def run_auctions(app, timeout: float, timings: Timings | None):
    """``serve`` until every auction is done (a watcher thread polls the database, on a
    connection of its own, so that it takes nothing from the auctioneer's thread pool)."""
    from exchange import clock
    from exchange.auctions import runner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    watcher = threading.Thread(target=watch, args=(app, loop, stop, time.monotonic() + timeout))
    original = timings.install() if timings else None
    started = clock.now()
    try:
        watcher.start()
        await runner.serve(app, stop=stop)
    finally:
        stop.set()
        watcher.join()
        if original:
            runner.Auctioneer = original
    return started


def watch(app, loop, stop: asyncio.Event, deadline: float) -> None:
    wait_until_done(app, stop.is_set, deadline)
    loop.call_soon_threadsafe(stop.set)


def wait_until_done(app, stopped, deadline: float) -> None:
    """Poll, on a connection of its own, until no auction is open (or ``stopped()``, or the
    deadline)."""
    from sqlalchemy import func, select

    from exchange.auctions.models import Auction
    from exchange.extensions import db

    with app.app_context():
        engine = db.engine
    query = select(func.count()).select_from(Auction).where(Auction.status != "done")
    with engine.connect() as connection:
        while not stopped():
            left = connection.scalar(query)
            connection.rollback()
            if left == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.05)


def run_processes(overrides: dict, count: int, app, timeout: float):
    """``count`` auctioneer processes until every auction is done: when it started (all of
    them ready) and their failures, summed."""
    import multiprocessing

    from exchange import clock

    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Barrier(count + 1), context.Event(), context.Queue()
    processes = [
        context.Process(target=auctioneer_process, args=(overrides, ready, stop, results))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    try:
        ready.wait(timeout=60)
        started = clock.now()
        wait_until_done(app, stop.is_set, time.monotonic() + timeout)
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=30)
    failures = Failures()
    for _ in processes:
        count_failed, first = results.get(timeout=5)
        failures.count += count_failed
        failures.first = failures.first or first
    return started, failures


def auctioneer_process(overrides: dict, ready, stop, results) -> None:
    """One auctioneer, in a process of its own: ready, then ``serve`` until ``stop``."""
    from exchange import create_app
    from exchange.auctions.runner import serve

    app = create_app(overrides)
    failures = Failures.install()
    ready.wait(timeout=60)

    async def main() -> None:
        stopping = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.05)
            stopping.set()

        poller = asyncio.create_task(poll())
        await serve(app, stop=stopping)
        await poller

    try:
        asyncio.run(main())
    finally:
        results.put((failures.count, failures.first))


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(math.ceil(len(ordered) * q / 100) - 1, 0)] if ordered else 0.0
