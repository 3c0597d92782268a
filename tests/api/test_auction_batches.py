"""The auctioneer runs a batch of prepares or settles as one step; a batch that fails is
run again one item at a time, so that one auction's failure stays its own."""

from __future__ import annotations

import asyncio

import pytest

from exchange.auctions.batching import Failed
from exchange.auctions.runner import Auctioneer


def steps_recorded(fail_on: str):
    calls: list[list[str]] = []

    def work_all(items: list[str]) -> list[str]:
        calls.append(list(items))
        if fail_on in items:
            raise RuntimeError(f"{fail_on} cannot be done")
        return [f"{item} done" for item in items]

    return work_all, calls


def test_a_failing_batch_is_run_again_item_by_item_each_failure_its_own(app):
    work_all, calls = steps_recorded(fail_on="bad")
    auctioneer = Auctioneer(app, client=None)

    results = asyncio.run(auctioneer._batch(work_all, ["a", "bad", "b"]))

    assert calls == [["a", "bad", "b"], ["a"], ["bad"], ["b"]]
    assert (results[0], results[2]) == ("a done", "b done")
    assert isinstance(results[1], Failed) and str(results[1].error) == "bad cannot be done"


def test_a_batch_of_one_that_fails_raises_at_once(app):
    work_all, calls = steps_recorded(fail_on="bad")
    auctioneer = Auctioneer(app, client=None)

    with pytest.raises(RuntimeError, match="bad cannot be done"):
        asyncio.run(auctioneer._batch(work_all, ["bad"]))
    assert calls == [["bad"]]
