"""Running auctions: many at once on one event loop, each a few short transactions around
its network calls (docs/exchange.md, "How auctions run").

An auction is: ``prepare`` (who may bid: one read), the pings (network, no transaction
open), ``settle`` (the sales, under locks: one write), then the posts (network) and
``after_posts`` (one write; a refused post hands its slot to the next bid, whose post
follows). A buyer answering in 300 ms therefore holds no worker, no connection and no
lock for those 300 ms: one auctioneer process runs ``AUCTION_CONCURRENCY`` auctions at
once, its database steps on ``AUCTION_DB_THREADS`` threads. The auctions that reach
``prepare`` or ``settle`` while one is being run go together in the next (``Batcher``): one
transaction for up to ``BATCH_MOST`` auctions, and a batch that fails is run again one
auction at a time, so that one auction's failure is its own.

In the embedded mode an auction runs in-process right after the commit that opened it,
its database steps inline on the caller's session (``Auctioneer(app, inline=True)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from flask import Flask

from exchange.auctions.batching import Batcher, Failed
from exchange.auctions.calls import Client, PingTarget, PostRequest, make_client, ping_all, post_all
from exchange.auctions.plan import Plan, prepare_all
from exchange.auctions.posts import post_requests
from exchange.auctions.services import claim_due, release, renew
from exchange.auctions.settle import Settling, after_posts, queued_posts, settle_all
from exchange.db import commit, rollback

log = logging.getLogger(__name__)
BATCH_MOST = 50  # auctions prepared, or settled, in one transaction at most


class Auctioneer:
    def __init__(
        self, app: Flask, client: Client, *, inline: bool = False, executor: Executor | None = None
    ) -> None:
        self.app = app
        self.client = client
        self.inline = inline
        self.executor = executor  # the database steps' threads (None: asyncio's default pool)
        config = app.config
        self.deadline_s = config["AUCTION_DEADLINE_MS"] / 1000
        self.ping_timeout_s = config["AUCTION_PING_TIMEOUT_MS"] / 1000
        self.post_timeout_s = config["AUCTION_POST_TIMEOUT_SECONDS"]
        self.lease_s = config["AUCTION_LEASE_SECONDS"]
        self.prepare: Callable[[int], Awaitable[Plan | None]] = self._alone(prepare_all)
        self.settle: Callable[[Settling], Awaitable[list[int]]] = self._alone(settle_all)
        if not inline:
            self.prepare = Batcher(lambda ids: self._batch(prepare_all, ids), most=BATCH_MOST)
            self.settle = Batcher(lambda items: self._batch(settle_all, items), most=BATCH_MOST)

    async def run(self, auction_id: int, attempt: int) -> None:
        """Run one auction, claimed as ``attempt``, to its end (or as far as it can go: a
        crash leaves it claimed, and the next claim after the lease goes on from what was
        committed; a holder whose lease ran out meanwhile writes nothing more)."""
        started = time.monotonic()
        plan = await self.prepare(auction_id)
        if plan is not None:
            loop = asyncio.get_running_loop()
            targets = [PingTarget(c.order_id, c.ping_url, c.max_bid_minor, c.exclusive) for c in plan.to_ping]
            outcomes = await ping_all(
                self.client,
                targets,
                plan.ping_body,
                deadline=loop.time() + self.deadline_s - (time.monotonic() - started),
                per_buyer_s=self.ping_timeout_s,
            )
            duration_ms = int((time.monotonic() - started) * 1000)
            to_post = await self.settle(Settling(plan, outcomes, duration_ms, attempt))
        else:
            to_post = await self.step(queued_posts, auction_id)
        while to_post and await self.step(renew, auction_id, attempt, self.lease_s):
            requests: list[PostRequest] = await self.step(post_requests, to_post)
            results = await post_all(self.client, requests, timeout_s=self.post_timeout_s)
            to_post = await self.step(after_posts, auction_id, results, attempt)
        if plan is None and not to_post:  # nothing was left to do: give the claim back
            await self.step(release, auction_id, attempt)
        # otherwise the step that ended the auction gave it back, or another holder has it

    async def step(self, work: Callable[..., Any], *args: Any) -> Any:
        """One database step, committed: inline, or on a worker thread in its own app context."""
        if self.inline:
            return _committed(work, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._in_context, work, *args)

    def _alone(self, work_all: Callable[[list], list]) -> Callable[[Any], Awaitable[Any]]:
        """``work_all`` as a step for one item."""

        async def one(item: Any) -> Any:
            return (await self.step(work_all, [item]))[0]

        return one

    async def _batch(self, work_all: Callable[[list], list], items: list) -> list:
        """``work_all`` as one step for ``items``; failing, once more for each item alone,
        each item's failure its own (``Failed``)."""
        try:
            return await self.step(work_all, items)
        except Exception:
            if len(items) == 1:
                raise
            log.warning("a batch of %s failed; each is run alone", len(items), exc_info=True)
        results: list = []
        for item in items:
            try:
                results += await self.step(work_all, [item])
            except Exception as error:
                results.append(Failed(error))
        return results

    def _in_context(self, work: Callable[..., Any], *args: Any) -> Any:
        with self.app.app_context():
            return _committed(work, *args)


def _committed(work: Callable[..., Any], *args: Any) -> Any:
    try:
        result = work(*args)
        commit()
        return result
    except BaseException:
        rollback()
        raise


def run_one(app: Flask, auction_id: int, attempt: int) -> None:
    """One auction claimed as ``attempt``, now, in this thread (the embedded mode's job)."""

    async def main() -> None:
        async with make_client(allow_private=app.config["AUCTION_ALLOW_PRIVATE_ADDRESSES"]) as client:
            await Auctioneer(app, client, inline=True).run(auction_id, attempt)

    asyncio.run(main())


async def serve(app: Flask, *, stop: asyncio.Event | None = None, idle_s: float = 0.1) -> None:
    """Claim open auctions and run up to ``AUCTION_CONCURRENCY`` at once, until ``stop``."""
    concurrency = app.config["AUCTION_CONCURRENCY"]
    lease = app.config["AUCTION_LEASE_SECONDS"]
    stop = stop or asyncio.Event()
    running: set[asyncio.Task] = set()
    freed = asyncio.Event()  # an auction ended: there is room for the next

    def ended(task: asyncio.Task) -> None:
        running.discard(task)
        freed.set()

    threads = ThreadPoolExecutor(app.config["AUCTION_DB_THREADS"], thread_name_prefix="auction-db")
    try:
        async with make_client(allow_private=app.config["AUCTION_ALLOW_PRIVATE_ADDRESSES"]) as client:
            auctioneer = Auctioneer(app, client, executor=threads)
            while not stop.is_set():
                room = concurrency - len(running)
                if room <= 0:  # full: claim again as soon as one ends, not after a nap
                    freed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(freed.wait(), timeout=idle_s)
                    continue
                claimed = await auctioneer.step(claim_due, room, lease)
                for auction_id, attempt in claimed:
                    task = asyncio.create_task(_guarded(auctioneer, auction_id, attempt))
                    running.add(task)
                    task.add_done_callback(ended)
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=idle_s)
                else:
                    await asyncio.sleep(0)
            if running:
                await asyncio.gather(*running, return_exceptions=True)
    finally:
        threads.shutdown()


async def _guarded(auctioneer: Auctioneer, auction_id: int, attempt: int) -> None:
    try:
        await auctioneer.run(auction_id, attempt)
    except Exception:
        log.exception("auction-%s failed; it is taken up again when its claim runs out", auction_id)
