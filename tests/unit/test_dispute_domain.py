"""The disputes' pure rules (exchange/disputes/domain.py), tested exhaustively.

The expected status table is written out here from the module docstring's diagram,
not read from ``TRANSITIONS``: every (status, action) pair that is not listed below
must be refused with a ``DisputeError`` carrying an API error code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.disputes import domain
from exchange.disputes.domain import (
    APPEAL,
    RETURN,
    SALE_RETURN,
    DisputeError,
    ReturnRule,
    Window,
    month_span,
    month_start,
    moves_money,
    next_status,
    outcome_when_conceded,
    seconds_left,
    winner,
    within_return_cap,
)

# The module docstring:
#   awaiting_answer ──concede──> resolved      (the counterparty agrees: the claim is granted)
#   awaiting_answer ──contest──> escalated     (the counterparty disagrees: moderators decide)
#   awaiting_answer ──no answer in time──> escalated
#   awaiting_answer | escalated ──withdraw──> withdrawn   (the claimant gives up)
#   escalated ──decide──> resolved             (a moderator upholds or overturns)
EXPECTED_STATUSES = {"awaiting_answer", "escalated", "resolved", "withdrawn"}
EXPECTED_OPEN = {"awaiting_answer", "escalated"}
EXPECTED_MOVES = {
    ("awaiting_answer", "concede"): "resolved",
    ("awaiting_answer", "contest"): "escalated",
    ("awaiting_answer", "escalate"): "escalated",  # no answer in time (the sweep)
    ("awaiting_answer", "withdraw"): "withdrawn",
    ("escalated", "withdraw"): "withdrawn",
    ("escalated", "decide"): "resolved",
}
EXPECTED_ACTIONS = sorted({action for _, action in EXPECTED_MOVES})
ALL_PAIRS = [(status, action) for status in sorted(EXPECTED_STATUSES) for action in EXPECTED_ACTIONS]

T0 = datetime(2026, 3, 17, 12, 0, 0)


# --- the status table -----------------------------------------------------------------


def test_the_statuses_are_the_documented_four():
    assert set(domain.STATUSES) == EXPECTED_STATUSES
    assert len(domain.STATUSES) == len(EXPECTED_STATUSES)


def test_open_statuses_are_awaiting_answer_and_escalated():
    assert set(domain.OPEN) == EXPECTED_OPEN


def test_the_actions_are_exactly_those_of_the_documented_moves():
    assert sorted(domain.ACTIONS) == EXPECTED_ACTIONS


def test_every_pair_is_covered_by_the_parametrisation():
    assert len(ALL_PAIRS) == 4 * 5  # four statuses, five actions


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_next_status_for_every_status_and_action(status, action):
    if (status, action) in EXPECTED_MOVES:
        assert next_status(status, action) == EXPECTED_MOVES[(status, action)]
    else:
        with pytest.raises(DisputeError) as raised:
            next_status(status, action)
        expected_code = f"dispute_{status}" if status in EXPECTED_OPEN else "dispute_not_open"
        assert raised.value.code == expected_code


@pytest.mark.parametrize("status", ["resolved", "withdrawn"])
@pytest.mark.parametrize("action", EXPECTED_ACTIONS)
def test_a_closed_dispute_has_no_way_out_and_is_not_open(status, action):
    with pytest.raises(DisputeError) as raised:
        next_status(status, action)
    assert raised.value.code == "dispute_not_open"


def test_an_awaiting_dispute_refuses_a_decision_with_its_status_as_code():
    with pytest.raises(DisputeError) as raised:
        next_status("awaiting_answer", "decide")
    assert raised.value.code == "dispute_awaiting_answer"


@pytest.mark.parametrize("action", ["concede", "contest", "escalate"])
def test_an_escalated_dispute_can_no_longer_be_answered_or_escalated(action):
    with pytest.raises(DisputeError) as raised:
        next_status("escalated", action)
    assert raised.value.code == "dispute_escalated"


def test_resolved_is_reached_only_by_conceding_or_deciding():
    ways_in = sorted(
        (status, action)
        for status in EXPECTED_STATUSES
        for action in EXPECTED_ACTIONS
        if _legal(status, action) and next_status(status, action) == "resolved"
    )
    assert ways_in == [("awaiting_answer", "concede"), ("escalated", "decide")]


@pytest.mark.parametrize(
    ("status", "action"),
    [("unknown", "withdraw"), ("escalated", "explode"), ("", ""), ("ESCALATED", "decide")],
)
def test_unknown_statuses_and_actions_are_refused(status, action):
    with pytest.raises(DisputeError):
        next_status(status, action)


def test_an_unknown_status_is_refused_as_not_open():
    with pytest.raises(DisputeError) as raised:
        next_status("unknown", "withdraw")
    assert raised.value.code == "dispute_not_open"


def test_dispute_error_names_the_status_and_the_action():
    with pytest.raises(DisputeError) as raised:
        next_status("awaiting_answer", "decide")
    assert "awaiting answer" in str(raised.value)
    assert "decide" in str(raised.value)


# --- outcomes --------------------------------------------------------------------------


def test_the_kinds_outcomes_and_deciders_are_the_documented_ones():
    assert set(domain.KINDS) == {"appeal", "return", "sale_return"}
    assert set(domain.OUTCOMES) == {"upheld", "overturned"}
    assert set(domain.DECIDED_BY) == {"moderator", "party", "rule"}


def test_upheld_means_the_advertiser_wins():
    assert winner("upheld") == "advertiser"


def test_overturned_means_the_webmaster_wins():
    assert winner("overturned") == "webmaster"


def test_an_appeal_conceded_is_overturned():
    assert outcome_when_conceded("appeal") == "overturned"


def test_a_return_conceded_is_upheld():
    assert outcome_when_conceded("return") == "upheld"


@pytest.mark.parametrize("kind", ["appeal", "return", "sale_return"])
def test_a_conceded_dispute_is_won_by_its_claimant(kind):
    assert winner(outcome_when_conceded(kind)) == domain.CLAIMANT[kind]


@pytest.mark.parametrize(
    ("kind", "outcome", "expected"),
    [
        ("appeal", "overturned", True),  # the lead is approved
        ("appeal", "upheld", False),  # the rejection stands
        ("return", "upheld", True),  # the lead is returned, its charge reversed
        ("return", "overturned", False),  # the lead stays approved
        ("sale_return", "upheld", True),  # the sale is returned, its price and payout reversed
        ("sale_return", "overturned", False),  # the sale stays approved
    ],
)
def test_only_an_appeal_overturned_or_a_return_upheld_moves_money(kind, outcome, expected):
    assert moves_money(kind, outcome) is expected


@pytest.mark.parametrize("kind", ["appeal", "return", "sale_return"])
def test_a_conceded_dispute_always_moves_money(kind):
    assert moves_money(kind, outcome_when_conceded(kind)) is True


# --- parties and reasons ---------------------------------------------------------------


def test_the_webmaster_appeals_and_the_advertiser_answers():
    assert domain.CLAIMANT[APPEAL] == "webmaster"
    assert domain.COUNTERPARTY[APPEAL] == "advertiser"


def test_the_advertiser_asks_for_a_return_and_the_webmaster_answers():
    assert domain.CLAIMANT[RETURN] == "advertiser"
    assert domain.COUNTERPARTY[RETURN] == "webmaster"


def test_the_buyer_returns_a_sale_and_its_seller_answers():
    assert domain.CLAIMANT[SALE_RETURN] == "advertiser"
    assert domain.COUNTERPARTY[SALE_RETURN] == "webmaster"


@pytest.mark.parametrize("kind", ["appeal", "return", "sale_return"])
def test_claimant_and_counterparty_are_never_the_same_party(kind):
    assert {domain.CLAIMANT[kind], domain.COUNTERPARTY[kind]} == {"webmaster", "advertiser"}


def test_claimant_and_counterparty_cover_exactly_the_kinds():
    assert set(domain.CLAIMANT) == set(domain.KINDS)
    assert set(domain.COUNTERPARTY) == set(domain.KINDS)


def test_reasons_are_listed_per_kind():
    assert set(domain.REASONS) == {"appeal", "return", "sale_return"}
    assert domain.REASONS[APPEAL] is domain.APPEAL_REASONS
    assert domain.REASONS[RETURN] is domain.RETURN_REASONS
    assert domain.REASONS[SALE_RETURN] is domain.SALE_RETURN_REASONS


def test_a_sale_is_returned_for_one_of_the_five_fixed_reasons():
    assert set(domain.SALE_RETURN_REASONS) == {
        "wrong_number",
        "duplicate",
        "not_the_consumer",
        "no_consent",
        "outside_filters",
    }


def test_a_reason_about_the_consumer_condemns_the_lead_and_one_about_the_buyer_does_not():
    assert {"wrong_number", "not_the_consumer", "no_consent"} == domain.CONDEMNING
    assert "duplicate" not in domain.CONDEMNING  # the buyer had it: another may not
    assert "outside_filters" not in domain.CONDEMNING  # outside this buyer's filters only
    assert set(domain.SALE_RETURN_REASONS) >= domain.CONDEMNING


def test_the_appeal_reasons_are_the_documented_ones():
    assert set(domain.APPEAL_REASONS) == {
        "contact_valid",
        "consent_recorded",
        "not_duplicate",
        "meets_terms",
        "other",
    }


def test_the_return_reasons_are_the_documented_ones():
    assert set(domain.RETURN_REASONS) == {
        "invalid_contact",
        "did_not_request",
        "duplicate",
        "out_of_area",
        "underage",
        "fraud",
        "other",
    }


@pytest.mark.parametrize("kind", ["appeal", "return"])
def test_both_reason_lists_allow_other(kind):
    assert "other" in domain.REASONS[kind]


def test_appeal_and_return_reasons_share_only_other():
    assert set(domain.APPEAL_REASONS) & set(domain.RETURN_REASONS) == {"other"}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [(kind, reason) for kind in ("appeal", "return") for reason in sorted(domain.REASONS[kind])],
)
def test_every_reason_has_a_description(kind, reason):
    description = domain.REASONS[kind][reason]
    assert isinstance(description, str)
    assert description.strip()


# --- windows and deadlines -------------------------------------------------------------


def test_a_window_closes_its_length_after_it_opens():
    assert Window(T0, 3600).closes_at == T0 + timedelta(hours=1)


def test_a_window_is_open_at_the_moment_it_opens():
    assert Window(T0, 3600).is_open(T0) is True


def test_a_window_is_open_one_second_before_it_closes():
    window = Window(T0, 3600)
    assert window.is_open(window.closes_at - timedelta(seconds=1)) is True


def test_a_window_is_closed_at_the_moment_it_closes():
    window = Window(T0, 3600)
    assert window.is_open(window.closes_at) is False


def test_a_window_is_closed_after_it_closes():
    window = Window(T0, 3600)
    assert window.is_open(window.closes_at + timedelta(days=1)) is False


def test_a_window_is_closed_before_it_opens():
    assert Window(T0, 3600).is_open(T0 - timedelta(seconds=1)) is False


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_zero_second_window_is_never_open(offset):
    assert Window(T0, 0).is_open(T0 + timedelta(seconds=offset)) is False


def test_seconds_left_before_the_deadline_is_positive():
    assert seconds_left(T0 + timedelta(minutes=5), T0) == 300


def test_seconds_left_after_the_deadline_is_negative():
    assert seconds_left(T0 - timedelta(minutes=5), T0) == -300


def test_seconds_left_at_the_deadline_is_zero():
    assert seconds_left(T0, T0) == 0


def test_seconds_left_counts_whole_seconds():
    assert seconds_left(T0 + timedelta(seconds=90, microseconds=500_000), T0) == 90


# --- the automatic return rule ---------------------------------------------------------


def test_a_reason_the_rule_does_not_list_is_not_accepted():
    rule = ReturnRule(reasons=("duplicate",))
    assert rule.accepts("fraud", returns_this_month=0, approved_this_month=100) is False


def test_a_rule_with_no_reasons_accepts_nothing():
    rule = ReturnRule(reasons=())
    assert rule.accepts("duplicate", returns_this_month=0, approved_this_month=100) is False


def test_a_listed_reason_is_accepted_without_limit_when_there_is_no_cap():
    rule = ReturnRule(reasons=("duplicate", "fraud"))
    assert rule.accepts("fraud", returns_this_month=1000, approved_this_month=0) is True


@pytest.mark.parametrize(("returns_this_month", "expected"), [(0, True), (1, True), (2, False), (3, False)])
def test_a_count_cap_counts_this_return_among_the_months(returns_this_month, expected):
    rule = ReturnRule(reasons=("duplicate",), cap_count=2)
    assert rule.accepts("duplicate", returns_this_month, approved_this_month=100) is expected


@pytest.mark.parametrize("returns_this_month", [0, 5])
def test_a_count_cap_of_zero_never_accepts(returns_this_month):
    rule = ReturnRule(reasons=("duplicate",), cap_count=0)
    assert rule.accepts("duplicate", returns_this_month, approved_this_month=100) is False


@pytest.mark.parametrize(
    ("returns_this_month", "expected"),
    [
        (0, True),  # 1/20 = 5%
        (1, True),  # 2/20 = 10%, exactly the cap
        (2, False),  # 3/20 = 15%
    ],
)
def test_a_percent_cap_counts_this_return_against_the_months_approved_leads(returns_this_month, expected):
    rule = ReturnRule(reasons=("duplicate",), cap_percent=10)
    assert rule.accepts("duplicate", returns_this_month, approved_this_month=20) is expected


def test_a_percent_cap_with_no_approved_leads_this_month_accepts_nothing():
    rule = ReturnRule(reasons=("duplicate",), cap_percent=10)
    assert rule.accepts("duplicate", returns_this_month=0, approved_this_month=0) is False


def test_a_percent_cap_of_one_hundred_allows_as_many_returns_as_approvals():
    rule = ReturnRule(reasons=("duplicate",), cap_percent=100)
    assert rule.accepts("duplicate", returns_this_month=2, approved_this_month=3) is True
    assert rule.accepts("duplicate", returns_this_month=3, approved_this_month=3) is False


@pytest.mark.parametrize(
    ("returns_this_month", "expected"),
    [
        (1, True),  # 2 returns: within 5, and 2/20 = 10%
        (2, False),  # 3 returns: within 5, but 3/20 = 15% > 10%
    ],
)
def test_with_both_caps_the_stricter_percent_cap_wins(returns_this_month, expected):
    rule = ReturnRule(reasons=("duplicate",), cap_count=5, cap_percent=10)
    assert rule.accepts("duplicate", returns_this_month, approved_this_month=20) is expected


@pytest.mark.parametrize(
    ("returns_this_month", "expected"),
    [
        (0, True),  # 1 return: within 1, and 1/20 = 5%
        (1, False),  # 2 returns: 10% is within 50%, but over the count of 1
    ],
)
def test_with_both_caps_the_stricter_count_cap_wins(returns_this_month, expected):
    rule = ReturnRule(reasons=("duplicate",), cap_count=1, cap_percent=50)
    assert rule.accepts("duplicate", returns_this_month, approved_this_month=20) is expected


def test_a_capped_rule_still_refuses_a_reason_it_does_not_list():
    rule = ReturnRule(reasons=("duplicate",), cap_count=10, cap_percent=100)
    assert rule.accepts("other", returns_this_month=0, approved_this_month=100) is False


# --- the month ---------------------------------------------------------------------------


def test_month_start_of_a_moment_mid_month_is_the_first_at_midnight():
    assert month_start(datetime(2026, 3, 17, 13, 45, 12, 345678)) == datetime(2026, 3, 1)


def test_month_start_of_the_first_moment_of_a_month_is_itself():
    assert month_start(datetime(2026, 3, 1, 0, 0, 0)) == datetime(2026, 3, 1)


def test_month_start_of_the_last_second_of_a_month_is_that_months_first():
    assert month_start(datetime(2026, 1, 31, 23, 59, 59, 999999)) == datetime(2026, 1, 1)


def test_month_start_in_december_stays_in_that_year():
    assert month_start(datetime(2025, 12, 31, 23, 59, 59)) == datetime(2025, 12, 1)


def test_month_start_of_a_leap_day_is_the_first_of_february():
    assert month_start(datetime(2028, 2, 29, 6, 0)) == datetime(2028, 2, 1)


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (datetime(2026, 3, 17, 13, 45), datetime(2026, 3, 1), datetime(2026, 4, 1)),
        (datetime(2026, 1, 31, 23, 59, 59), datetime(2026, 1, 1), datetime(2026, 2, 1)),  # 31 days
        (datetime(2025, 12, 31, 23, 59), datetime(2025, 12, 1), datetime(2026, 1, 1)),  # the year turns
        (datetime(2028, 2, 29, 6, 0), datetime(2028, 2, 1), datetime(2028, 3, 1)),  # a leap February
        (datetime(2026, 4, 1), datetime(2026, 4, 1), datetime(2026, 5, 1)),  # its own first moment
    ],
)
def test_month_span_runs_from_a_months_first_moment_to_the_next_ones(moment, start, end):
    assert month_span(moment) == (start, end)


# --- the buyers' return cap ----------------------------------------------------------------


@given(
    returns=st.integers(min_value=0, max_value=500),
    purchases=st.integers(min_value=0, max_value=500),
    cap=st.integers(min_value=0, max_value=100),
)
def test_a_return_allowed_is_within_the_percent_or_the_first_and_a_higher_cap_never_refuses_more(
    returns, purchases, cap
):
    allowed = within_return_cap(returns, purchases, cap)
    if allowed:
        assert (returns + 1) * 100 <= cap * purchases or (returns == 0 and cap > 0)
    if cap < 100:
        assert within_return_cap(returns, purchases, cap + 1) or not allowed


def test_a_return_within_the_percent_of_the_months_purchases_is_allowed():
    # 20 % of 10 purchases: the second return (1 asked before) is the last allowed.
    assert within_return_cap(returns=1, purchases=10, cap_percent=20) is True


def test_the_return_past_the_percent_is_refused():
    assert within_return_cap(returns=2, purchases=10, cap_percent=20) is False


def test_a_cap_that_leaves_less_than_one_return_still_allows_one():
    # 20 % of 4 purchases is 0.8 of a return: one, and no second.
    assert within_return_cap(returns=0, purchases=4, cap_percent=20) is True
    assert within_return_cap(returns=1, purchases=4, cap_percent=20) is False
    assert within_return_cap(returns=0, purchases=1, cap_percent=1) is True


def test_the_percent_is_rounded_down():
    # 20 % of 14 purchases is 2.8 returns: two.
    assert within_return_cap(returns=1, purchases=14, cap_percent=20) is True
    assert within_return_cap(returns=2, purchases=14, cap_percent=20) is False


def test_a_cap_of_zero_refuses_every_return_and_no_cap_refuses_none():
    assert within_return_cap(returns=0, purchases=100, cap_percent=0) is False
    assert within_return_cap(returns=1000, purchases=1, cap_percent=None) is True


def test_a_cap_of_a_hundred_percent_allows_one_return_per_purchase():
    assert within_return_cap(returns=2, purchases=3, cap_percent=100) is True
    assert within_return_cap(returns=3, purchases=3, cap_percent=100) is False


def _legal(status: str, action: str) -> bool:
    try:
        next_status(status, action)
    except DisputeError:
        return False
    return True


@pytest.mark.parametrize(
    "offset, words",
    [
        (timedelta(days=1, hours=4, minutes=10), "1 d 4 h"),
        (timedelta(hours=2, minutes=35), "2 h 35 min"),
        (timedelta(minutes=35, seconds=20), "35 min"),
        (-timedelta(hours=2, minutes=1), "overdue 2 h 1 min"),
    ],
)
def test_time_left_says_the_largest_units_and_overdue_once_past(offset, words):
    assert domain.time_left(T0 + offset, T0) == words
