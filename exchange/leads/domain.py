"""The lead's states and the moves between them (DESIGN §4). Pure.

received ──validate──> rejected
received ──validate──> pending ──approve / deadline──> approved ──return──> returned
received ──no funds──> awaiting_funds ──funds arrive──> pending
pending ──reject──> rejected
received ──flagged──> review ──clear──> pending (or awaiting_funds) ; review ──reject_fraud──> rejected
rejected ──reinstate (an appeal upheld for the webmaster)──> pending (or awaiting_funds)

An exchange lead (submitted to a vertical, not an offer) is sold by auction, so after
validation it waits for its auction, and its money lives on its sales (docs/exchange.md):

received ──validate──> rejected
received ──validate──> for_sale ──auction──> sold (one or more sales) | unsold
"""

from __future__ import annotations

from exchange.domain_errors import DomainError

RECEIVED = "received"
PENDING = "pending"
AWAITING_FUNDS = "awaiting_funds"
REJECTED = "rejected"
APPROVED = "approved"
RETURNED = "returned"
REVIEW = "review"  # validation flagged it: held, nothing reserved, until a moderator's verdict
FOR_SALE = "for_sale"  # an exchange lead validation accepted: its auction is due
SOLD = "sold"
UNSOLD = "unsold"
OFFER_STATES = (RECEIVED, PENDING, AWAITING_FUNDS, REJECTED, APPROVED, RETURNED, REVIEW)  # an offer's lead's
STATES = (*OFFER_STATES, FOR_SALE, SOLD, UNSOLD)
EXCHANGE_ACCEPTED = (FOR_SALE, SOLD, UNSOLD)
# States of a lead that validation accepted: what duplicates and caps count. A lead held
# for fraud review counts: its prices are fixed and a moderator's clear makes it pending
# without checking again, so its twin must be a duplicate and its cap place stays taken
# (freed if the moderator rejects it).
ACCEPTED = (PENDING, AWAITING_FUNDS, APPROVED, RETURNED, REVIEW)

TRANSITIONS: dict[tuple[str, str], str] = {
    (RECEIVED, "reject_invalid"): REJECTED,
    (RECEIVED, "accept"): PENDING,
    (RECEIVED, "wait_for_funds"): AWAITING_FUNDS,
    (AWAITING_FUNDS, "fund"): PENDING,
    (PENDING, "approve"): APPROVED,
    (PENDING, "auto_approve"): APPROVED,
    (PENDING, "reject"): REJECTED,
    (APPROVED, "return"): RETURNED,
    (RECEIVED, "hold_for_review"): REVIEW,
    (REVIEW, "clear"): PENDING,
    (REVIEW, "wait_for_funds"): AWAITING_FUNDS,
    (REVIEW, "reject_fraud"): REJECTED,
    (REJECTED, "reinstate"): PENDING,
    (REJECTED, "wait_for_funds"): AWAITING_FUNDS,
    (RECEIVED, "offer_for_sale"): FOR_SALE,
    (FOR_SALE, "sell"): SOLD,
    (FOR_SALE, "leave_unsold"): UNSOLD,
    (UNSOLD, "sell_from_catalog"): SOLD,  # a slot bought later, from the catalog
}
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, state: str, action: str):
        super().__init__(f"a lead that is {state} cannot be moved by {action}")
        self.state = state
        self.action = action


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None
