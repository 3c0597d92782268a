"""Calls of one step, coalesced into batches: while a batch is being run, the calls that
arrive wait and go together in the next one, so that under load one database step serves
many auctions (a few statements for the batch instead of a few for each), and with no
load a call runs at once, alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")

RunBatch = Callable[[list[Any]], Awaitable[list[Any]]]


class Failed:
    """One item's failure inside a batch that otherwise ran (``run_batch`` returns it in the
    item's place): raised to that item's caller only."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Batcher(Generic[Item]):
    def __init__(self, run_batch: RunBatch, *, most: int) -> None:
        if most < 1:
            raise ValueError("a batch holds at least one call")
        self.run_batch = run_batch  # items → one result (or ``Failed``) per item, in order
        self.most = most
        self.waiting: list[tuple[Item, asyncio.Future]] = []
        self.running: asyncio.Task | None = None

    async def __call__(self, item: Item) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        self._next()
        return await future

    def _next(self) -> None:
        if self.running is None and self.waiting:
            batch, self.waiting = self.waiting[: self.most], self.waiting[self.most :]
            self.running = asyncio.create_task(self._run(batch))

    async def _run(self, batch: list[tuple[Item, asyncio.Future]]) -> None:
        try:
            results = await self.run_batch([item for item, _ in batch])
        except BaseException as error:  # the whole batch: each caller sees it
            results = [Failed(error)] * len(batch)
        finally:
            self.running = None
            self._next()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(result, Failed):
                future.set_exception(result.error)
            else:
                future.set_result(result)
