"""Reputation arithmetic (docs/moderation.md). Pure.

The queries (``exchange.moderation.reputation.services``) count; this module turns counts into
rates and says which side of a dispute a party ended on.

One rounding rule for every rate: the exact fraction ``numerator / denominator`` times
100, rounded to one decimal place, halves rounded up (2/3 -> 66.7, 1/16 -> 6.3,
1/8 -> 12.5). A rate whose denominator is 0 is ``None``: no decisions, no rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

from exchange.disputes.domain import CLAIMANT, RESOLVED, WITHDRAWN, winner

ROUNDING = "percent, one decimal place, halves rounded up"
NO_SUB1 = "(none)"  # the sub-source of leads sent without a sub1 (or an empty one)


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """The exact rate; ``None`` when there is nothing to divide by."""
    if numerator < 0 or denominator < 0:
        raise ValueError("counts are never negative")
    return None if denominator == 0 else Fraction(numerator, denominator)


def percent_tenths(numerator: int, denominator: int) -> int | None:
    """The rate in tenths of a percent, rounded half up: 2/3 -> 667."""
    exact = ratio(numerator, denominator)
    if exact is None:
        return None
    # floor(x * 1000 + 1/2) in integers: (2 * n * 1000 + d) // (2 * d)
    return (2 * exact.numerator * 1000 + exact.denominator) // (2 * exact.denominator)


def percent(numerator: int, denominator: int) -> float | None:
    """The rate as a percentage with one decimal (66.7), for display; exact counts travel beside it."""
    tenths = percent_tenths(numerator, denominator)
    return None if tenths is None else tenths / 10


@dataclass(frozen=True)
class DisputeTally:
    """A party's disputes that ended: won and lost (resolved, by outcome) and withdrawn
    (the disputes it opened itself and gave up)."""

    won: int = 0
    lost: int = 0
    withdrawn: int = 0

    def add(self, result: str | None, count: int) -> DisputeTally:
        if result is None:
            return self
        return DisputeTally(**{**asdict(self), result: getattr(self, result) + count})


def dispute_result(side: str, kind: str, status: str, outcome: str | None) -> str | None:
    """How a dispute ended for ``side`` (``webmaster`` or ``advertiser``): ``won``, ``lost``,
    ``withdrawn`` (only for the claimant, whose act withdrawing is), or ``None`` (still open,
    or withdrawn by the other party: a claim given up against you is neither won nor lost)."""
    if status == RESOLVED and outcome is not None:
        return "won" if winner(outcome) == side else "lost"
    if status == WITHDRAWN and CLAIMANT[kind] == side:
        return "withdrawn"
    return None


def tally(side: str, groups: list[tuple[str, str, str | None, int]]) -> DisputeTally:
    """Sum ``(kind, status, outcome, count)`` groups into one party's tally."""
    result = DisputeTally()
    for kind, status, outcome, count in groups:
        result = result.add(dispute_result(side, kind, status, outcome), count)
    return result


@dataclass(frozen=True)
class WebmasterFigures:
    """Counts of distinct leads (a lead counts once in each figure, however often it moved).

    ``decided``: leads that were approved or rejected at least once (by validation, the
    advertiser or a moderator); ``approved``: leads approved at least once; ``returned``:
    leads returned. A lead rejected, then reinstated and approved counts in both
    ``approved`` and ``rejected``, and once in ``decided``."""

    decided: int = 0
    approved: int = 0
    rejected: int = 0
    rejected_by_validation: int = 0
    rejected_by_advertiser: int = 0
    rejected_as_fraud: int = 0
    returned: int = 0
    disputes: DisputeTally = DisputeTally()

    @property
    def approval_rate(self) -> float | None:
        return percent(self.approved, self.decided)

    @property
    def return_rate(self) -> float | None:
        return percent(self.returned, self.approved)

    def as_dict(self) -> dict:
        return {
            "leads_decided": self.decided,
            "leads_approved": self.approved,
            "leads_rejected": self.rejected,
            "rejected_by_validation": self.rejected_by_validation,
            "rejected_by_advertiser": self.rejected_by_advertiser,
            "rejected_as_fraud": self.rejected_as_fraud,
            "leads_returned": self.returned,
            "approval_rate": self.approval_rate,
            "return_rate": self.return_rate,
            "disputes_won": self.disputes.won,
            "disputes_lost": self.disputes.lost,
            "disputes_withdrawn": self.disputes.withdrawn,
        }


@dataclass(frozen=True)
class AdvertiserFigures:
    """Counts of distinct leads of the advertiser's offers.

    ``reviewed``: leads that left pending by its review: approved by it, by silence until
    the review deadline or by its offer's auto-approval, or rejected by it; ``rejected``:
    its own rejections (validation's and moderators' are not its doing); ``approved``:
    leads approved at least once; ``returned``: leads it returned."""

    reviewed: int = 0
    rejected: int = 0
    approved: int = 0
    returned: int = 0
    disputes: DisputeTally = DisputeTally()

    @property
    def rejection_rate(self) -> float | None:
        return percent(self.rejected, self.reviewed)

    @property
    def return_rate(self) -> float | None:
        return percent(self.returned, self.approved)

    def as_dict(self) -> dict:
        return {
            "leads_reviewed": self.reviewed,
            "leads_rejected": self.rejected,
            "leads_approved": self.approved,
            "leads_returned": self.returned,
            "rejection_rate": self.rejection_rate,
            "return_rate": self.return_rate,
            "disputes_won": self.disputes.won,
            "disputes_lost": self.disputes.lost,
            "disputes_withdrawn": self.disputes.withdrawn,
        }


@dataclass(frozen=True)
class PartyHistory:
    """Both parties of a lead, for a dispute's evidence: the webmaster's figures over all
    its leads, the advertiser's over all its offers' leads, and ``between``, the webmaster's
    figures on this advertiser's leads alone (disputes between the two of them included)."""

    webmaster_id: int
    advertiser_id: int
    webmaster: WebmasterFigures
    advertiser: AdvertiserFigures
    between: WebmasterFigures

    def as_dict(self) -> dict:
        return {
            "webmaster_id": self.webmaster_id,
            "advertiser_id": self.advertiser_id,
            "webmaster": self.webmaster.as_dict(),
            "advertiser": self.advertiser.as_dict(),
            "between": self.between.as_dict(),
        }
