"""The lead's state table (DESIGN §4), tested exhaustively.

The expected table is written out here from the design's diagram, not read
from ``TRANSITIONS``: every (state, action) pair that is not listed below
must be refused.
"""

from __future__ import annotations

import pytest

from exchange.leads import domain
from exchange.leads.domain import IllegalTransition, next_state

# DESIGN §4, "States":
#   received --validate--> rejected                       (reason codes)
#   received --validate--> pending                        (funds reserved)
#   received --no funds--> awaiting_funds --funds arrive--> pending
#   pending --approve / review deadline--> approved --return upheld--> returned
#   pending --reject--> rejected
# and docs/moderation.md, docs/disputes.md:
#   received --flagged by validation--> review --moderator clears--> pending (or awaiting_funds)
#   review --moderator rejects--> rejected
#   rejected --appeal won by the webmaster--> pending (or awaiting_funds), then approved
# and docs/exchange.md, for a lead submitted to a vertical:
#   received --validate--> for_sale --auction--> sold (one sale or more) | unsold
#   unsold --a slot bought from the catalog--> sold
# ("hold ends" makes earnings available; it is a money event, not a state.)
EXPECTED_STATES = {
    "received", "pending", "awaiting_funds", "rejected", "approved", "returned", "review",
    "for_sale", "sold", "unsold",
}  # fmt: skip
EXPECTED_MOVES = {
    ("received", "reject_invalid"): "rejected",
    ("received", "accept"): "pending",
    ("received", "wait_for_funds"): "awaiting_funds",
    ("awaiting_funds", "fund"): "pending",
    ("pending", "approve"): "approved",
    ("pending", "auto_approve"): "approved",  # the review deadline passed
    ("pending", "reject"): "rejected",
    ("approved", "return"): "returned",
    ("received", "hold_for_review"): "review",
    ("review", "clear"): "pending",
    ("review", "wait_for_funds"): "awaiting_funds",
    ("review", "reject_fraud"): "rejected",
    ("rejected", "reinstate"): "pending",
    ("rejected", "wait_for_funds"): "awaiting_funds",
    ("received", "offer_for_sale"): "for_sale",
    ("for_sale", "sell"): "sold",
    ("for_sale", "leave_unsold"): "unsold",
    ("unsold", "sell_from_catalog"): "sold",
}
EXPECTED_ACTIONS = sorted({action for _, action in EXPECTED_MOVES})
ALL_PAIRS = [(state, action) for state in sorted(EXPECTED_STATES) for action in EXPECTED_ACTIONS]


def test_the_states_are_the_documented_ten():
    assert set(domain.STATES) == EXPECTED_STATES
    assert len(domain.STATES) == len(EXPECTED_STATES)


def test_the_actions_are_exactly_those_of_the_documented_moves():
    assert sorted(domain.ACTIONS) == EXPECTED_ACTIONS


def test_every_pair_is_covered_by_the_parametrisation():
    assert len(ALL_PAIRS) == 10 * 16  # ten states, sixteen actions


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_next_state_for_every_state_and_action(state, action):
    if (state, action) in EXPECTED_MOVES:
        assert next_state(state, action) == EXPECTED_MOVES[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            next_state(state, action)
        assert raised.value.state == state
        assert raised.value.action == action


def test_returned_is_terminal():
    for action in EXPECTED_ACTIONS:
        with pytest.raises(IllegalTransition):
            next_state("returned", action)


def test_a_rejected_lead_leaves_only_when_an_appeal_reinstates_it():
    ways_out = {action for action in EXPECTED_ACTIONS if _legal("rejected", action)}
    assert ways_out == {"reinstate", "wait_for_funds"}


def test_pending_is_reached_only_by_accepting_funding_clearing_or_reinstating():
    ways_in = [
        (state, action)
        for state in EXPECTED_STATES
        for action in EXPECTED_ACTIONS
        if _legal(state, action) and next_state(state, action) == "pending"
    ]
    assert sorted(ways_in) == [
        ("awaiting_funds", "fund"),
        ("received", "accept"),
        ("rejected", "reinstate"),
        ("review", "clear"),
    ]


def test_a_lead_can_only_be_returned_after_approval():
    for state in EXPECTED_STATES - {"approved"}:
        with pytest.raises(IllegalTransition):
            next_state(state, "return")


@pytest.mark.parametrize(
    ("state", "action"), [("unknown", "accept"), ("received", "explode"), ("", ""), ("PENDING", "approve")]
)
def test_unknown_states_and_actions_are_illegal(state, action):
    with pytest.raises(IllegalTransition):
        next_state(state, action)


def test_illegal_transition_names_the_state_and_the_action():
    with pytest.raises(IllegalTransition) as raised:
        next_state("rejected", "approve")
    assert "rejected" in str(raised.value)
    assert "approve" in str(raised.value)


def _legal(state: str, action: str) -> bool:
    try:
        next_state(state, action)
    except IllegalTransition:
        return False
    return True
