"""The auctioneer's batches: calls arriving while a batch runs go together in the next one,
each caller gets its own result or its own failure."""

from __future__ import annotations

import asyncio

import pytest

from exchange.auctions.batching import Batcher, Failed


class Recorder:
    """A batch step that records each batch it ran, and waits to be let go when asked."""

    def __init__(self, fail_on: object = None, raise_on: object = None) -> None:
        self.batches: list[list] = []
        self.gate = asyncio.Event()
        self.fail_on, self.raise_on = fail_on, raise_on

    async def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.raise_on in items:
            raise RuntimeError(f"batch of {self.raise_on}")
        return [Failed(ValueError(item)) if item == self.fail_on else item * 10 for item in items]


def test_calls_made_while_a_batch_runs_go_together_in_the_next_at_most_so_many():
    async def scenario():
        step = Recorder()
        batcher = Batcher(step, most=3)
        first = asyncio.ensure_future(batcher(1))
        await asyncio.sleep(0)  # the first batch starts alone
        rest = [asyncio.ensure_future(batcher(n)) for n in range(2, 7)]
        await asyncio.sleep(0)
        step.gate.set()
        return await first, await asyncio.gather(*rest), step.batches

    first, rest, batches = asyncio.run(scenario())

    assert first == 10 and rest == [20, 30, 40, 50, 60]
    assert batches == [[1], [2, 3, 4], [5, 6]]


def test_a_failure_inside_a_batch_is_its_callers_alone():
    async def scenario():
        step = Recorder(fail_on=2)
        step.gate.set()
        batcher = Batcher(step, most=10)
        return await asyncio.gather(*(batcher(n) for n in (1, 2, 3)), return_exceptions=True)

    one, two, three = asyncio.run(scenario())

    assert (one, three) == (10, 30)
    assert isinstance(two, ValueError) and two.args == (2,)


def test_a_batch_that_raises_fails_its_callers_and_the_next_batch_still_runs():
    async def scenario():
        step = Recorder(raise_on=2)
        batcher = Batcher(step, most=2)
        first = asyncio.ensure_future(batcher(9))
        await asyncio.sleep(0)
        failing = [asyncio.ensure_future(batcher(n)) for n in (1, 2)]
        later = asyncio.ensure_future(batcher(3))
        await asyncio.sleep(0)
        step.gate.set()
        results = await asyncio.gather(*failing, return_exceptions=True)
        return await first, results, await later, step.batches

    first, failed, later, batches = asyncio.run(scenario())

    assert first == 90 and later == 30
    assert [type(each) for each in failed] == [RuntimeError, RuntimeError]
    assert batches == [[9], [1, 2], [3]]


@pytest.mark.parametrize("most", [0, -1])
def test_a_batch_holds_at_least_one(most):
    with pytest.raises(ValueError):
        Batcher(Recorder(), most=most)
