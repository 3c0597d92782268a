"""The id pattern of routes matches exactly the numbers 1..bound, as text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.bounds import MAX_ID, numbers_up_to


@pytest.mark.parametrize("bound", [1, 9, 10, 99, 100, 205, 2**31 - 1])
def test_the_pattern_matches_every_number_up_to_the_bound_and_none_past_it(bound):
    pattern = re.compile(numbers_up_to(bound))
    near = {*range(1, min(bound, 2_000) + 1), bound, bound - 1, bound // 2}

    assert all(pattern.fullmatch(str(n)) for n in near if n >= 1)
    assert not any(pattern.fullmatch(str(n)) for n in (0, bound + 1, bound + 9, bound * 10, bound * 10 + 9))


@given(st.integers(min_value=0, max_value=10**12))
def test_for_primary_keys_a_number_matches_when_it_is_between_1_and_max_id(n):
    assert bool(re.fullmatch(numbers_up_to(MAX_ID), str(n))) == (1 <= n <= MAX_ID)


@pytest.mark.parametrize("text", ["01", "+5", "-5", "", " 5", "5 ", "1e3"])
def test_no_sign_space_or_leading_zero_is_a_number_here(text):
    assert not re.fullmatch(numbers_up_to(MAX_ID), text)
