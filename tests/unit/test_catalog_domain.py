"""The catalog's prices that age (exchange/verticals/domain.py) and its slots
(exchange/catalog/domain.py): properties over any schedule, ages, floors and purchases,
and the rules by example."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.catalog.domain import Listing, SoldOut, purchase_price
from exchange.verticals.domain import DEFAULT_AGEING, MAX_AGE_HOURS, Ageing, ageing_problems


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
