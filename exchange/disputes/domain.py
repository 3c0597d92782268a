"""Disputes, their states and the rules about them (docs/disputes.md). Pure.

Three kinds. An **appeal**: the webmaster contests the advertiser's rejection of a lead.
A **return**: the advertiser asks to give back an approved lead. A **sale return**: on the
exchange, a buyer (an advertiser) asks to give back one approved sale of a lead, which its
seller (a webmaster) answers; a lead sold shared may have one per sale. The party that opens
a dispute is its *claimant*; the other party must answer it within the offer's answer
time:

    awaiting_answer ──concede──> resolved      (the counterparty agrees: the claim is granted)
    awaiting_answer ──contest──> escalated     (the counterparty disagrees: moderators decide)
    awaiting_answer ──no answer in time──> escalated
    awaiting_answer | escalated ──withdraw──> withdrawn   (the claimant gives up)
    escalated ──decide──> resolved             (a moderator upholds or overturns)

A decision speaks of what the advertiser did, the rejection or the return it asks for:
**upheld** means it stands (the advertiser wins), **overturned** means it is undone (the
webmaster wins). An appeal overturned approves the lead; a return upheld returns it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from exchange.domain_errors import DomainError
from exchange.words import explanations

APPEAL = "appeal"
RETURN = "return"
SALE_RETURN = "sale_return"
KINDS = (APPEAL, RETURN, SALE_RETURN)

AWAITING_ANSWER = "awaiting_answer"
ESCALATED = "escalated"
RESOLVED = "resolved"
WITHDRAWN = "withdrawn"
STATUSES = (AWAITING_ANSWER, ESCALATED, RESOLVED, WITHDRAWN)
OPEN = (AWAITING_ANSWER, ESCALATED)

UPHELD = "upheld"
OVERTURNED = "overturned"
OUTCOMES = (UPHELD, OVERTURNED)

# Who decided: a moderator, the counterparty conceding, or an offer's automatic return rule.
DECIDED_BY = ("moderator", "party", "rule")

# the reasons each kind may give, with their explanations (their words: exchange.words)
APPEAL_REASONS = explanations("appeal_reason")
RETURN_REASONS = explanations("return_reason")
SALE_RETURN_REASONS = explanations("sale_return_reason")
# Reasons that condemn the lead itself, not only this sale: a slot returned for one of them
# is never sold again. A duplicate or a lead outside one buyer's filters may suit another.
CONDEMNING = frozenset({"wrong_number", "not_the_consumer", "no_consent"})
REASONS = {APPEAL: APPEAL_REASONS, RETURN: RETURN_REASONS, SALE_RETURN: SALE_RETURN_REASONS}

# Who opens each kind, and who must answer it (a buyer is an advertiser, a seller a webmaster).
CLAIMANT = {APPEAL: "webmaster", RETURN: "advertiser", SALE_RETURN: "advertiser"}
COUNTERPARTY = {APPEAL: "advertiser", RETURN: "webmaster", SALE_RETURN: "webmaster"}


class DisputeError(DomainError):
    """A move the dispute's state does not allow; ``code`` is the API's error code."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


TRANSITIONS: dict[tuple[str, str], str] = {
    (AWAITING_ANSWER, "concede"): RESOLVED,
    (AWAITING_ANSWER, "contest"): ESCALATED,
    (AWAITING_ANSWER, "escalate"): ESCALATED,
    (AWAITING_ANSWER, "withdraw"): WITHDRAWN,
    (ESCALATED, "withdraw"): WITHDRAWN,
    (ESCALATED, "decide"): RESOLVED,
}
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))


def next_status(status: str, action: str) -> str:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise DisputeError(
            f"A dispute that is {status.replace('_', ' ')} cannot be moved by {action}.",
            code="dispute_not_open" if status not in OPEN else f"dispute_{status}",
        ) from None


def winner(outcome: str) -> str:
    """``advertiser`` or ``webmaster``: upheld means what the advertiser did stands."""
    return "advertiser" if outcome == UPHELD else "webmaster"


def outcome_when_conceded(kind: str) -> str:
    """The counterparty gives the claimant what it asked for."""
    return OVERTURNED if kind == APPEAL else UPHELD


def moves_money(kind: str, outcome: str) -> bool:
    """An appeal overturned approves the lead; a return upheld reverses its charge (a sale
    return: the sale's)."""
    return (kind, outcome) in ((APPEAL, OVERTURNED), (RETURN, UPHELD), (SALE_RETURN, UPHELD))


@dataclass(frozen=True)
class Window:
    """A span during which something may be done: open while ``now < closes_at``."""

    opens_at: datetime
    seconds: int

    @property
    def closes_at(self) -> datetime:
        return self.opens_at + timedelta(seconds=self.seconds)

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


def seconds_left(deadline: datetime, now: datetime) -> int:
    """Whole seconds until ``deadline``; negative once it has passed."""
    return math.floor((deadline - now).total_seconds())


def time_left(deadline: datetime, now: datetime) -> str:
    """Time left until ``deadline`` in words: ``1 d 4 h``, ``35 min``, or ``overdue 2 h``."""
    seconds = seconds_left(deadline, now)
    span = abs(seconds)
    days, hours, minutes = span // 86400, span % 86400 // 3600, span % 3600 // 60
    words = f"{days} d {hours} h" if days else (f"{hours} h {minutes} min" if hours else f"{minutes} min")
    return words if seconds >= 0 else f"overdue {words}"


@dataclass(frozen=True)
class ReturnRule:
    """An offer's automatic return rule: returns with one of ``reasons`` are accepted
    without a dispute while the webmaster's returns on the offer this month, this one
    included, stay within ``cap_count`` and within ``cap_percent`` of its leads approved
    on the offer this month. No reason listed: no rule. No cap: no limit of that kind."""

    reasons: tuple[str, ...]
    cap_count: int | None = None
    cap_percent: int | None = None

    def accepts(self, reason: str, returns_this_month: int, approved_this_month: int) -> bool:
        if reason not in self.reasons:
            return False
        after = returns_this_month + 1
        within_count = self.cap_count is None or after <= self.cap_count
        within_percent = self.cap_percent is None or after * 100 <= self.cap_percent * approved_this_month
        return within_count and within_percent


def month_start(now: datetime) -> datetime:
    """The first moment of ``now``'s UTC calendar month."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def within_return_cap(returns: int, purchases: int, cap_percent: int | None) -> bool:
    """Whether one more return keeps a buyer within its cap: of the purchases it made in one
    calendar month (on one vertical), the returns asked (this one included) are at most
    ``cap_percent`` of them, rounded down, and at least one, so that a buyer of a few leads
    may still return a bad one (a cap of 0: no returns). Counted by the month of purchase,
    as a billing cycle: a sale bought on the 30th and returned on the 2nd counts against the
    month it was bought in. No cap: always."""
    if cap_percent is None:
        return True
    allowed = cap_percent * purchases // 100
    if cap_percent > 0:
        allowed = max(allowed, 1)
    return returns + 1 <= allowed


def month_span(moment: datetime) -> tuple[datetime, datetime]:
    """The first moment of ``moment``'s UTC calendar month, and of the next one."""
    start = month_start(moment)
    return start, (start + timedelta(days=32)).replace(day=1)
