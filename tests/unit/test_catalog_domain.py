"""The catalog's prices that age (exchange/verticals/domain.py) and its slots
(exchange/catalog/domain.py): properties over any schedule, ages, floors and purchases,
and the rules by example; then what the seller's and staff's pages derive from them: the
age step a sale was made at, catalog sales added up, ages and steps in words."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.catalog.domain import (
    Listing,
    SoldOut,
    Takings,
    age_in_words,
    purchase_price,
    share_bps,
    step_at_sale,
    step_in_words,
)
from exchange.verticals.domain import DEFAULT_AGEING, MAX_AGE_HOURS, Ageing, Step, ageing_problems


@st.composite
def schedules(draw) -> dict:
    """Any valid schedule: steps from 0 h, later and later, percents never rising."""
    count = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.integers(1, 500), min_size=count - 1, max_size=count - 1))
    hours = [0]
    for gap in gaps:
        hours.append(hours[-1] + gap)
    drops = draw(st.lists(st.integers(0, 30), min_size=count - 1, max_size=count - 1))
    percents = [draw(st.integers(1, 100))]
    for drop in drops:
        percents.append(max(percents[-1] - drop, 1))
    gone = draw(st.integers(hours[-1] + 1, MAX_AGE_HOURS))
    steps = [{"after_hours": h, "percent": p} for h, p in zip(hours, percents, strict=True)]
    return {"steps": steps, "gone_after_hours": gone}


ages = st.integers(0, (MAX_AGE_HOURS + 24) * 3600).map(lambda seconds: timedelta(seconds=seconds))


@given(schedules())
def test_every_generated_schedule_is_valid(schedule):
    assert ageing_problems(schedule) == []


@given(schedules(), st.integers(1, 10**9), ages, ages)
def test_a_price_never_rises_with_age(schedule, floor, first, second):
    ageing = Ageing.from_json(schedule)
    younger, older = sorted([first, second])

    young_price, old_price = ageing.price_at(floor, younger), ageing.price_at(floor, older)

    if old_price is not None:
        assert young_price is not None and old_price <= young_price


@given(schedules(), st.integers(1, 10**9), ages)
def test_a_listed_price_is_at_least_one_and_at_most_the_floor_and_gone_means_gone(schedule, floor, age):
    ageing = Ageing.from_json(schedule)

    price = ageing.price_at(floor, age)

    if age >= timedelta(hours=schedule["gone_after_hours"]):
        assert price is None
    else:
        assert price is not None and 1 <= price <= floor


def test_the_default_schedule_by_example():
    ageing = Ageing.from_json(DEFAULT_AGEING)
    hours = [0, 23, 24, 71, 72, 335, 336, 2159, 2160]

    prices = [ageing.price_at(1000, timedelta(hours=h)) for h in hours]

    assert prices == [1000, 1000, 750, 750, 500, 500, 200, 200, None]


def test_a_price_is_rounded_half_up_to_a_minor_unit_and_never_zero():
    ageing = Ageing.from_json({"steps": [{"after_hours": 0, "percent": 15}], "gone_after_hours": 1})

    assert ageing.price_at(10, timedelta(0)) == 2  # 1.5 -> 2
    assert ageing.price_at(3, timedelta(0)) == 1  # 0.45 -> at least 1


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ({"steps": []}, "give steps and gone_after_hours"),
        ({"steps": [], "gone_after_hours": 10}, "give 1 to 12 steps"),
        (
            {"steps": [{"after_hours": 1, "percent": 100}], "gone_after_hours": 10},
            "the first step starts at 0 hours",
        ),
        (
            {
                "steps": [{"after_hours": 0, "percent": 50}, {"after_hours": 5, "percent": 60}],
                "gone_after_hours": 10,
            },
            "a price never rises with age: each percent at most the one before",
        ),
        (
            {
                "steps": [{"after_hours": 0, "percent": 50}, {"after_hours": 0, "percent": 40}],
                "gone_after_hours": 10,
            },
            "steps in order of after_hours, each later than the one before",
        ),
        (
            {"steps": [{"after_hours": 0, "percent": 0}], "gone_after_hours": 10},
            "step 0: a percent from 1 to 100",
        ),
        ({"steps": [{"after_hours": 0, "percent": "50"}], "gone_after_hours": 10}, "step 0: whole numbers"),
        (
            {
                "steps": [{"after_hours": 0, "percent": 50}, {"after_hours": 20, "percent": 40}],
                "gone_after_hours": 20,
            },
            f"gone_after_hours: after the last step, at most {MAX_AGE_HOURS}",
        ),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_with_why(schedule, problem):
    assert problem in ageing_problems(schedule)


purchases = st.lists(st.booleans(), max_size=15)  # True: exclusive


@given(st.integers(1, 10), purchases)
def test_slots_sold_never_exceed_the_verticals_and_an_exclusive_sale_closes_the_listing(slots, wants):
    listing = Listing(slots)
    for exclusive in wants:
        try:
            after = listing.take(exclusive)
        except SoldOut:
            assert listing.slots_left == 0 or (exclusive and not listing.exclusive_available)
            continue
        assert after.sold == listing.sold + listing.slots_taken_by(exclusive)
        if exclusive:
            assert not after.listed and after.slots_left == 0
        listing = after
        assert 0 <= listing.sold <= slots


def test_exclusive_only_while_no_slot_is_sold_and_at_every_slots_price():
    fresh, shared = Listing(3), Listing(3, sold=1)

    assert purchase_price(400, fresh, exclusive=True) == 1200
    assert purchase_price(400, fresh, exclusive=False) == 400
    assert fresh.take(exclusive=True).slots_left == 0
    with pytest.raises(SoldOut):
        shared.take(exclusive=True)
    assert shared.take(exclusive=False).slots_left == 1


def test_a_consumer_sold_exclusively_elsewhere_is_not_listed():
    assert not Listing(3, sold=0, exclusive_sold=True).listed
    with pytest.raises(SoldOut):
        Listing(3, exclusive_sold=True).take(exclusive=False)


# -- the step at sale, and the figures' arithmetic --------------------------------------------------

CAPTURED = datetime(2026, 1, 15, 12, 0, 0)


@given(schedules(), st.integers(1, 10**9), ages)
def test_the_step_at_sale_is_the_step_that_priced_the_sale(schedule, floor, age):
    """Whatever the schedule and the sale's age: the step derived from the sale's time is
    the one whose percent gives the price a purchase charged at that age, and none once the
    lead was past the last step (no purchase could be made then)."""
    ageing = Ageing.from_json(schedule)

    step = step_at_sale(ageing, CAPTURED, CAPTURED + age)

    charged = ageing.price_at(floor, age)
    if charged is None:
        assert step is None
    else:
        assert step in ageing.steps and max((floor * step.percent + 50) // 100, 1) == charged
        assert step.after_hours * 3600 <= age.total_seconds()


@given(schedules(), ages, st.integers(1, 1000))
def test_the_step_at_sale_reads_the_sales_age_not_todays(schedule, age, hours_since):
    """The same sale counts at the same step however long ago it was made."""
    ageing = Ageing.from_json(schedule)
    sold_at = CAPTURED + age

    assert step_at_sale(ageing, CAPTURED, sold_at) == ageing.step_at(age)
    assert step_at_sale(
        ageing, CAPTURED + timedelta(hours=hours_since), sold_at + timedelta(hours=hours_since)
    ) == (step_at_sale(ageing, CAPTURED, sold_at))


@pytest.mark.parametrize(
    ("age", "step"),
    [
        (timedelta(0), Step(0, 100)),
        (timedelta(hours=23, minutes=59, seconds=59), Step(0, 100)),
        (timedelta(hours=24), Step(24, 75)),  # the step's first instant
        (timedelta(hours=100), Step(72, 50)),
        (timedelta(hours=2159, minutes=59), Step(336, 20)),
        (timedelta(hours=2160), None),  # past the last step today: the schedule changed since
        (timedelta(seconds=-1), None),  # sold before its capture: a clock that went back
    ],
)
def test_the_step_at_sale_on_the_default_schedule_by_example(age, step):
    assert step_at_sale(Ageing.from_json(DEFAULT_AGEING), CAPTURED, CAPTURED + age) == step


sales = st.lists(st.tuples(st.integers(1, 10**7), st.integers(0, 100)), max_size=20)  # (price, margin %)


@given(sales, sales)
def test_takings_add_up_sale_by_sale_and_in_any_grouping(first, second):
    def added(group):
        takings = Takings()
        for price, margin in group:
            takings = takings.with_sale(price, price - price * margin // 100)
        return takings

    both = added(first) + added(second)

    assert both == added(first + second)
    assert both.sales == len(first) + len(second)
    assert both.gross_minor == sum(price for price, _ in first + second)
    assert both.margin_minor == sum(price * margin // 100 for price, margin in first + second)


@pytest.mark.parametrize(
    ("part", "whole", "bps"),
    [(3, 6, 5000), (0, 1, 0), (1, 3, 3333), (2, 3, 6667), (1, 1, 10_000), (0, 0, None)],
)
def test_a_share_is_in_basis_points_rounded_half_up_and_none_of_nothing(part, whole, bps):
    assert share_bps(part, whole) == bps


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (-5, "0 min"),
        (59, "0 min"),
        (40 * 60, "40 min"),
        (5 * 3600, "5 h"),
        (30 * 3600, "30 h"),
        (74 * 3600, "3 d"),
    ],
)
def test_an_age_in_words(seconds, words):
    assert age_in_words(seconds) == words


def test_a_step_in_words():
    assert step_in_words(Step(24, 75)) == "75 % of the floor after 24 h"
    assert step_in_words(Step(0, 100)) == "100 % of the floor from capture"
