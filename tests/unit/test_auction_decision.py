"""The auction's decision (exchange/auctions/domain.py): properties over any bids, and the
rules by example."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.auctions.domain import (
    CHOSE,
    OUTBID,
    SAME_BUYER,
    UNDER_COST,
    UNDER_FLOOR,
    Bid,
    Rules,
    Waterfall,
    admissible,
    choose,
    replay,
)


def bids_strategy():
    return st.lists(
        st.builds(
            Bid,
            order_id=st.integers(1, 40),
            buyer_id=st.integers(1, 8),
            amount_minor=st.integers(0, 5000),
            exclusive=st.booleans(),
            rank_tenths=st.sampled_from([0, 0, 50, 300]),
        ),
        max_size=12,
        unique_by=lambda bid: bid.order_id,
    )


rules_strategy = st.builds(
    Rules,
    slots=st.integers(1, 4),
    floor_minor=st.integers(0, 2000),
    margin_bps=st.sampled_from([0, 1000, 2500]),
    min_payout_minor=st.integers(0, 3000),
    slots_taken=st.integers(0, 2),
    exclusive_allowed=st.booleans(),
    quality_bps=st.sampled_from([10_000, 9_000, 7_500, 5_000]),
)


def brute_force_best(bids: list[Bid], rules: Rules) -> int:
    """The most revenue any lawful choice makes, tried exhaustively."""
    kept, _ = admissible(bids, rules)
    best = 0
    for count in range(1, rules.slots_left + 1):
        for option in combinations(kept, count):
            exclusive = [bid for bid in option if bid.exclusive]
            if exclusive and (count > 1 or rules.slots_taken or not rules.exclusive_allowed):
                continue
            if len({bid.buyer_id for bid in option}) < count:
                continue
            if (
                sum(rules.payout_of(rules.price_of(bid.amount_minor)) for bid in option)
                < rules.min_payout_minor
            ):
                continue
            best = max(best, sum(bid.amount_minor for bid in option))
    return best


@settings(max_examples=400, deadline=None)
@given(bids_strategy(), rules_strategy)
def test_never_more_sales_than_slots_left(bids, rules):
    assert len(choose(bids, rules).winners) <= rules.slots_left


@settings(max_examples=400, deadline=None)
@given(bids_strategy(), rules_strategy)
def test_never_below_the_floor_nor_leaving_the_seller_nothing(bids, rules):
    for bid in choose(bids, rules).winners:
        assert bid.amount_minor >= rules.floor_minor
        assert rules.payout_of(rules.price_of(bid.amount_minor)) >= 1


@settings(max_examples=400, deadline=None)
@given(bids_strategy(), rules_strategy)
def test_an_exclusive_winner_is_alone_and_buyers_are_distinct(bids, rules):
    winners = choose(bids, rules).winners
    if any(bid.exclusive for bid in winners):
        assert len(winners) == 1 and rules.slots_taken == 0 and rules.exclusive_allowed
    assert len({bid.buyer_id for bid in winners}) == len(winners)


@settings(max_examples=400, deadline=None)
@given(bids_strategy(), rules_strategy)
def test_always_the_revenue_maximising_choice(bids, rules):
    assert choose(bids, rules).revenue_minor == brute_force_best(bids, rules)


@settings(max_examples=200, deadline=None)
@given(bids_strategy(), rules_strategy)
def test_the_same_bids_in_any_order_choose_the_same_winners(bids, rules):
    assert choose(bids, rules).winners == choose(list(reversed(bids)), rules).winners


@settings(max_examples=200, deadline=None)
@given(bids_strategy(), rules_strategy, st.data())
def test_a_waterfall_replays_to_the_same_choices(bids, rules, data):
    """Any run of the waterfall, whoever fails along the way, replays from its steps."""
    state = Waterfall(bids, rules)
    for _ in range(len(bids) + 1):
        choice = state.choose()
        if not choice.winners:
            break
        failures = 0
        for bid in choice.winners:
            if data.draw(st.booleans(), label=f"{bid.order_id} fails"):
                state.failed(bid, "post_refused")
                failures += 1
            else:
                state.sold_to(bid)
        if not failures:
            break
    logged = [step.order_ids for step in state.steps if step.kind == CHOSE]
    assert replay(bids, rules, state.steps) == logged
    assert len(state.sold) <= rules.slots_left


def test_shared_bids_whose_sum_beats_the_exclusive_win():
    bids = [Bid(1, 1, 1000, True), Bid(2, 2, 600, False), Bid(3, 3, 500, False)]
    choice = choose(bids, Rules(slots=3, floor_minor=100))
    assert [bid.order_id for bid in choice.winners] == [2, 3]
    assert choice.losers == {1: OUTBID}


def test_a_tie_between_exclusive_and_shared_goes_to_the_exclusive():
    bids = [Bid(1, 1, 1100, True), Bid(2, 2, 600, False), Bid(3, 3, 500, False)]
    assert [bid.order_id for bid in choose(bids, Rules(slots=3, floor_minor=100)).winners] == [1]


def test_bids_under_the_floor_or_the_margin_and_second_bids_of_a_buyer_are_dropped():
    rules = Rules(slots=3, floor_minor=300, margin_minor=400)
    bids = [Bid(1, 1, 200, False), Bid(2, 2, 350, False), Bid(3, 3, 900, False), Bid(4, 3, 800, False)]
    choice = choose(bids, rules)
    assert [bid.order_id for bid in choice.winners] == [3]
    assert choice.losers == {1: UNDER_FLOOR, 2: UNDER_COST, 4: SAME_BUYER}


def test_a_seller_promised_a_price_sells_only_at_that_price_or_better():
    bids = [Bid(1, 1, 1000, True), Bid(2, 2, 700, False)]  # the seller earns 800 or 560
    rules = Rules(slots=2, floor_minor=100, margin_bps=2000)
    assert [
        bid.order_id for bid in choose(bids, Rules(**{**rules.__dict__, "min_payout_minor": 800})).winners
    ] == [1]
    assert choose(bids, Rules(**{**rules.__dict__, "min_payout_minor": 801})).winners == ()


def test_a_sellers_multiplier_scales_the_price_and_lowers_the_floor_with_it():
    rules = Rules(slots=1, floor_minor=1000, margin_bps=2000, quality_bps=7_500)
    [winner] = choose([Bid(1, 1, 2000, True), Bid(2, 2, 900, True)], rules).winners
    assert winner.order_id == 1
    assert rules.price_of(winner.amount_minor) == 1500  # the buyer pays 75 % of its bid
    assert rules.payout_of(rules.price_of(winner.amount_minor)) == 1200
    # a bid at the floor still counts: its price is the floor times 75 %
    assert choose([Bid(3, 3, 1000, True)], rules).winners[0].order_id == 3
    assert rules.price_of(1000) == 750


def test_a_multiplier_that_leaves_the_seller_nothing_drops_the_bid():
    rules = Rules(slots=1, floor_minor=1, margin_minor=5, quality_bps=5_000)
    assert choose([Bid(1, 1, 10, True)], rules).losers == {1: UNDER_COST}  # 5 after 50 %, 0 after margin


def test_between_equal_bids_the_buyer_that_refuses_and_returns_less_wins():
    bids = [Bid(1, 1, 1000, True, rank_tenths=250), Bid(2, 2, 1000, True, rank_tenths=0)]
    assert [bid.order_id for bid in choose(bids, Rules(slots=1, floor_minor=100)).winners] == [2]
    shared = [
        Bid(1, 1, 800, False, rank_tenths=120),
        Bid(2, 2, 800, False, rank_tenths=30),
        Bid(3, 3, 900, False),
    ]
    choice = choose(shared, Rules(slots=2, floor_minor=100))
    assert [bid.order_id for bid in choice.winners] == [3, 2]
    assert choice.losers == {1: OUTBID}


def test_a_rank_never_beats_a_higher_bid():
    bids = [Bid(1, 1, 1001, True, rank_tenths=900), Bid(2, 2, 1000, True, rank_tenths=0)]
    assert [bid.order_id for bid in choose(bids, Rules(slots=1, floor_minor=100)).winners] == [1]
