"""The fraud review rule (issue 6): which accepted leads wait for a moderator. Pure."""

from __future__ import annotations

import pytest

from exchange.leads.checks import FLAG, REJECT, SCORE, Finding
from exchange.moderation.fraud_review.domain import (
    FRAUD_REVIEW_REJECTED,
    flag_codes,
    hold_reason,
    needs_fraud_review,
    rejection_codes_after_review,
)

TOO_FAST = Finding("click_too_fast", FLAG, "1.0 s from click to lead, under 3 s", -40).as_dict()
VELOCITY = Finding("ip_velocity", FLAG, "7 leads from this IP within an hour, over 5", -30).as_dict()
NO_AGENT = Finding("bot_user_agent", FLAG, "no user agent", -20).as_dict()
ODD_PHONE = Finding("invalid_phone", FLAG, "no range known in use", -25).as_dict()
BOT = Finding("bot_user_agent", REJECT, "user agent 'Googlebot'").as_dict()
DUPLICATE = Finding("duplicate", REJECT, "1 earlier lead(s)").as_dict()
COMPLETE = Finding("fields_complete", SCORE, "4 of 4", 20).as_dict()
CLICK_TIME = Finding("click_to_lead", SCORE, "60 s", 25).as_dict()


@pytest.mark.parametrize("flag", [TOO_FAST, VELOCITY, NO_AGENT, ODD_PHONE])
def test_one_flag_on_an_offer_with_fraud_review_sends_the_lead_to_review(flag):
    assert needs_fraud_review(True, [COMPLETE, flag, CLICK_TIME])


@pytest.mark.parametrize("flag", [TOO_FAST, VELOCITY, NO_AGENT, ODD_PHONE])
def test_an_offer_without_fraud_review_never_holds_a_lead(flag):
    assert not needs_fraud_review(False, [COMPLETE, flag])


@pytest.mark.parametrize("fraud_review", [True, False])
def test_a_lead_without_flags_is_not_reviewed(fraud_review):
    assert not needs_fraud_review(fraud_review, [COMPLETE, CLICK_TIME])
    assert not needs_fraud_review(fraud_review, [])


@pytest.mark.parametrize("rejection", [BOT, DUPLICATE])
def test_a_lead_a_finding_rejects_is_rejected_not_reviewed(rejection):
    assert not needs_fraud_review(True, [TOO_FAST, rejection])


def test_the_rule_takes_any_iterable_once():
    assert needs_fraud_review(True, iter([COMPLETE, TOO_FAST]))


def test_flag_codes_are_distinct_and_sorted():
    twice = Finding("click_too_fast", FLAG, "again", -40).as_dict()
    assert flag_codes([VELOCITY, COMPLETE, TOO_FAST, twice, NO_AGENT, BOT]) == [
        "bot_user_agent",
        "click_too_fast",
        "ip_velocity",
    ]
    assert flag_codes([COMPLETE, BOT]) == []


def test_the_hold_reason_names_the_flags():
    assert (
        hold_reason([VELOCITY, COMPLETE, TOO_FAST])
        == "flagged for fraud review: Too fast after the click, Too many from one IP"
    )


@pytest.mark.parametrize(
    ("kept", "findings", "codes"),
    [
        ([], [TOO_FAST, COMPLETE], ["click_too_fast", FRAUD_REVIEW_REJECTED]),
        ([], [VELOCITY, TOO_FAST], ["click_too_fast", "ip_velocity", FRAUD_REVIEW_REJECTED]),
        (["click_too_fast"], [TOO_FAST], ["click_too_fast", FRAUD_REVIEW_REJECTED]),
        ([FRAUD_REVIEW_REJECTED], [NO_AGENT], [FRAUD_REVIEW_REJECTED, "bot_user_agent"]),
        ([], [], [FRAUD_REVIEW_REJECTED]),
    ],
)
def test_a_moderators_rejection_keeps_the_codes_adds_the_flags_and_its_own(kept, findings, codes):
    assert rejection_codes_after_review(kept, findings) == codes


def test_the_rejection_code_is_a_documented_reason():
    from exchange.leads.reasons import REASONS

    assert FRAUD_REVIEW_REJECTED in REASONS
