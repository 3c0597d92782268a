"""Every code a feature can put on a page has its words (exchange/words.py): a short text
and an explanation. A new status, move, dispute reason, phone line, bid's fate, check or
audit action without them fails here. (The reasons and the score's parts are the
catalogue's own lists, which the checks are held to: tests/unit/test_lead_checks.py.)"""

from __future__ import annotations

import pytest

from exchange.words import CATALOGUE, TITLES, explanation, word


def codes_in_use() -> dict[str, set[str]]:
    from billing.check import INVARIANTS
    from exchange.auctions.calls import ANSWERED, ERROR, INVALID, NO_BID, TIMED_OUT
    from exchange.auctions.domain import OUTBID, SAME_BUYER, UNDER_COST, UNDER_FLOOR
    from exchange.buying.ledger_check import NAME as SALES_CHECK
    from exchange.buying.schemas import SALE_STATUSES
    from exchange.disputes import domain as disputes
    from exchange.leads.domain import ACTIONS, STATES
    from exchange.leads.ledger_check import NAME as LEADS_CHECK
    from exchange.leads.normalise import PHONE_TYPES
    from exchange.moderation.fraud_review.services import AUDIT_ACTIONS
    from exchange.moderation.partners.services import NOTICES
    from exchange.offers.domain import PARTICIPATION_DECISIONS

    return {
        "lead_status": set(STATES),
        "lead_action": {*ACTIONS, "submit"},
        "phone_type": set(PHONE_TYPES.values()),
        "dispute_kind": set(disputes.KINDS),
        "dispute_status": set(disputes.STATUSES),
        "dispute_outcome": set(disputes.OUTCOMES),
        "sale_status": set(SALE_STATUSES),
        "bid": {ANSWERED, ERROR, INVALID, NO_BID, TIMED_OUT, OUTBID, SAME_BUYER, UNDER_COST, UNDER_FLOOR},
        "check": {*INVARIANTS, LEADS_CHECK, SALES_CHECK},
        "audit_action": {
            *AUDIT_ACTIONS.values(),
            *(f"{action}_webmaster" for action in NOTICES),
            *(f"{decision}_participation" for _, decision in PARTICIPATION_DECISIONS),
            "set_custom_payout",
            "decide_dispute",
            "post_dispute_message",
            "deactivate_user",
            "reactivate_user",
        },
    }


@pytest.mark.parametrize("kind", sorted(codes_in_use()))
def test_every_code_in_use_has_a_short_text_and_an_explanation(kind):
    missing = sorted(code for code in codes_in_use()[kind] if code not in CATALOGUE[kind])
    assert missing == [], f"{kind}: no words for {missing}"


def test_every_entry_is_written_for_people():
    for kind, entries in CATALOGUE.items():
        for code, words in entries.items():
            assert words.short and "_" not in words.short, (kind, code)
            assert words.long.endswith("."), (kind, code)


def test_every_kind_shown_on_the_help_page_exists_and_every_kind_is_shown():
    assert set(TITLES) <= set(CATALOGUE)
    assert set(CATALOGUE) - set(TITLES) == {"finding"}  # reasons and score parts, shown under theirs


def test_an_unknown_code_is_shown_as_it_is_never_an_error():
    assert word("reason", "brand_new_code") == "brand_new_code"
    assert explanation("reason", "brand_new_code") == ""
    assert word("reason", None) == ""


def test_the_features_lists_are_read_from_the_catalogue():
    from exchange.disputes.domain import APPEAL_REASONS
    from exchange.leads.reasons import REASONS

    assert REASONS["geo_mismatch"] == explanation("reason", "geo_mismatch")
    assert APPEAL_REASONS["contact_valid"] == explanation("appeal_reason", "contact_valid")
