"""A sweep step works in bounded batches (exchange/db.py, ``StepBudget``): at most
SWEEP_BATCH_SIZE items of each kind of work a run, no new item after SWEEP_STEP_SECONDS
(the first always runs), the rest left for the next run and none lost or done twice."""

from __future__ import annotations

import time

import pytest

from exchange.db import StepBudget
from exchange.leads.sweep import sweep_leads
from tests.factories import lead_fields
from tests.integration.helpers import fresh_lead, submit_and_validate
from tests.integration.test_sweep_and_decisions import REVIEW, market  # noqa: F401  (a fixture)


@pytest.fixture
def six_due(market, frozen_clock):  # noqa: F811
    """Six accepted leads (all the advertiser's 10 000 pays for) whose review window has ended."""
    _advertiser, webmaster, offer = market
    ids = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in range(1, 5)]
    frozen_clock.advance(seconds=1)
    ids += [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in range(5, 7)]
    frozen_clock.advance(days=REVIEW.days, seconds=1)
    return ids


def approved(ids: list[int]) -> int:
    return sum(fresh_lead(lead_id).status == "approved" for lead_id in ids)


def test_a_run_approves_at_most_a_batch_and_the_next_runs_the_rest(app, six_due, monkeypatch):
    monkeypatch.setitem(app.config, "SWEEP_BATCH_SIZE", 4)

    runs = [sweep_leads()["auto_approved"] for _ in range(3)]

    assert runs == [4, 2, 0]
    assert approved(six_due) == 6


def test_a_run_out_of_time_stops_after_its_first_item_and_loses_nothing(app, six_due, monkeypatch):
    monkeypatch.setitem(app.config, "SWEEP_STEP_SECONDS", 0)

    runs = [sweep_leads()["auto_approved"] for _ in range(7)]

    assert runs == [1, 1, 1, 1, 1, 1, 0]
    assert approved(six_due) == 6


def test_the_budget_yields_until_its_time_is_spent_then_says_it_was_cut_short():
    plenty, spent = StepBudget(batch=10, seconds=60), StepBudget(batch=10, seconds=0.05)
    time.sleep(0.1)

    assert list(plenty.each(range(5))) == [0, 1, 2, 3, 4] and not plenty.cut_short
    assert list(spent.each(range(5))) == [0] and spent.cut_short
