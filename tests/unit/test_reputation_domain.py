"""Reputation arithmetic: exact rates, one rounding rule, zero denominators, dispute sides."""

from __future__ import annotations

from fractions import Fraction

import pytest

from exchange.disputes.domain import (
    APPEAL,
    AWAITING_ANSWER,
    ESCALATED,
    OVERTURNED,
    RESOLVED,
    RETURN,
    UPHELD,
    WITHDRAWN,
)
from exchange.moderation.reputation.domain import (
    AdvertiserFigures,
    DisputeTally,
    PartyHistory,
    WebmasterFigures,
    dispute_result,
    percent,
    percent_tenths,
    ratio,
    tally,
)


def test_ratio_is_exact():
    assert ratio(2, 3) == Fraction(2, 3)
    assert ratio(0, 5) == 0
    assert ratio(5, 5) == 1


@pytest.mark.parametrize("numerator", [0, 1, 7])
def test_no_denominator_no_rate(numerator):
    assert ratio(numerator, 0) is None
    assert percent_tenths(numerator, 0) is None
    assert percent(numerator, 0) is None


@pytest.mark.parametrize(
    ("numerator", "denominator", "tenths"),
    [
        (0, 1, 0),
        (1, 1, 1000),
        (2, 3, 667),  # 66.666... rounds up
        (1, 3, 333),  # 33.333... rounds down
        (1, 8, 125),  # 12.5 exactly
        (1, 16, 63),  # 6.25: a half, rounded up (not to even, which would give 6.2)
        (3, 16, 188),  # 18.75: up again (to even would also give 18.8)
        (5, 16, 313),  # 31.25: up (to even would give 31.2)
        (1, 2000, 1),  # 0.05: a half, up
        (1, 2001, 0),  # just under 0.05: down
        (1999, 2000, 1000),  # 99.95: a half, up to 100.0
        (7, 5, 1400),  # above 100% is possible in a period (returns of leads approved before it)
    ],
)
def test_percent_rounds_to_tenths_half_up(numerator, denominator, tenths):
    assert percent_tenths(numerator, denominator) == tenths
    assert percent(numerator, denominator) == tenths / 10


def test_percent_is_computed_on_the_exact_fraction_not_a_float():
    # 201/400 is 50.25% exactly, a half: up to 50.3. In floats 201 / 400 * 1000 is
    # 502.49999999999994, which would round down to 50.2.
    assert percent_tenths(201, 400) == 503
    assert percent_tenths(2 * 10**15 + 1, 4 * 10**15) == 500  # huge counts stay exact


def test_percent_of_a_reduced_and_unreduced_fraction_agree():
    assert percent_tenths(2, 6) == percent_tenths(1, 3) == 333


@pytest.mark.parametrize(("numerator", "denominator"), [(-1, 3), (1, -3)])
def test_negative_counts_are_a_bug(numerator, denominator):
    with pytest.raises(ValueError):
        ratio(numerator, denominator)


@pytest.mark.parametrize(
    ("side", "kind", "status", "outcome", "result"),
    [
        # upheld: the advertiser's rejection or return stands, the advertiser won
        ("advertiser", APPEAL, RESOLVED, UPHELD, "won"),
        ("webmaster", APPEAL, RESOLVED, UPHELD, "lost"),
        ("advertiser", RETURN, RESOLVED, UPHELD, "won"),
        ("webmaster", RETURN, RESOLVED, UPHELD, "lost"),
        # overturned: undone, the webmaster won
        ("advertiser", APPEAL, RESOLVED, OVERTURNED, "lost"),
        ("webmaster", APPEAL, RESOLVED, OVERTURNED, "won"),
        ("advertiser", RETURN, RESOLVED, OVERTURNED, "lost"),
        ("webmaster", RETURN, RESOLVED, OVERTURNED, "won"),
        # withdrawn: counted for the claimant only (appeals: webmaster, returns: advertiser)
        ("webmaster", APPEAL, WITHDRAWN, None, "withdrawn"),
        ("advertiser", APPEAL, WITHDRAWN, None, None),
        ("advertiser", RETURN, WITHDRAWN, None, "withdrawn"),
        ("webmaster", RETURN, WITHDRAWN, None, None),
        # open: not counted
        ("webmaster", APPEAL, AWAITING_ANSWER, None, None),
        ("advertiser", RETURN, ESCALATED, None, None),
    ],
)
def test_dispute_result(side, kind, status, outcome, result):
    assert dispute_result(side, kind, status, outcome) == result


def test_tally_sums_groups_for_one_side():
    groups = [
        (APPEAL, RESOLVED, OVERTURNED, 3),
        (APPEAL, RESOLVED, UPHELD, 2),
        (RETURN, RESOLVED, UPHELD, 4),
        (APPEAL, WITHDRAWN, None, 1),
        (RETURN, WITHDRAWN, None, 5),
        (RETURN, ESCALATED, None, 9),
    ]
    assert tally("webmaster", groups) == DisputeTally(won=3, lost=6, withdrawn=1)
    assert tally("advertiser", groups) == DisputeTally(won=6, lost=3, withdrawn=5)
    assert tally("webmaster", []) == DisputeTally()


def test_webmaster_figures():
    figures = WebmasterFigures(
        decided=9,
        approved=6,
        rejected=4,  # one lead rejected, then reinstated and approved: in both, once in decided
        rejected_by_validation=1,
        rejected_by_advertiser=2,
        rejected_as_fraud=1,
        returned=1,
        disputes=DisputeTally(won=1, lost=2, withdrawn=0),
    )
    assert figures.as_dict() == {
        "leads_decided": 9,
        "leads_approved": 6,
        "leads_rejected": 4,
        "rejected_by_validation": 1,
        "rejected_by_advertiser": 2,
        "rejected_as_fraud": 1,
        "leads_returned": 1,
        "approval_rate": 66.7,  # 6/9
        "return_rate": 16.7,  # 1/6
        "disputes_won": 1,
        "disputes_lost": 2,
        "disputes_withdrawn": 0,
    }


def test_figures_without_leads_have_no_rates():
    empty = WebmasterFigures()
    assert empty.approval_rate is None
    assert empty.return_rate is None
    assert AdvertiserFigures().rejection_rate is None
    assert AdvertiserFigures().return_rate is None
    # rejected everything: a 0% approval rate, and no return rate (nothing approved to return)
    all_rejected = WebmasterFigures(decided=3, rejected=3, rejected_by_advertiser=3)
    assert all_rejected.approval_rate == 0.0
    assert all_rejected.return_rate is None


def test_advertiser_figures():
    figures = AdvertiserFigures(
        reviewed=8, rejected=3, approved=5, returned=2, disputes=DisputeTally(won=2, lost=1, withdrawn=1)
    )
    assert figures.as_dict() == {
        "leads_reviewed": 8,
        "leads_rejected": 3,
        "leads_approved": 5,
        "leads_returned": 2,
        "rejection_rate": 37.5,  # 3/8
        "return_rate": 40.0,  # 2/5
        "disputes_won": 2,
        "disputes_lost": 1,
        "disputes_withdrawn": 1,
    }


def test_party_history_as_dict():
    history = PartyHistory(
        webmaster_id=1,
        advertiser_id=2,
        webmaster=WebmasterFigures(decided=2, approved=1),
        advertiser=AdvertiserFigures(reviewed=4, rejected=1),
        between=WebmasterFigures(),
    )
    body = history.as_dict()
    assert body["webmaster_id"] == 1 and body["advertiser_id"] == 2
    assert body["webmaster"]["approval_rate"] == 50.0
    assert body["advertiser"]["rejection_rate"] == 25.0
    assert body["between"]["approval_rate"] is None
