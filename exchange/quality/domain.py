"""Quality that moves money (docs/exchange.md, "Quality"). Pure.

A **seller**'s record on a vertical: of its sales there in the last ``WINDOW_DAYS`` that
their buyers decided (approved, rejected, or approved then returned), the share rejected or
returned. Past ``MIN_DECIDED`` decided sales, that share sets a **multiplier** on what its
leads sell for on the vertical: every bid's price and the floor in the auction, and the
floor of its leads in the catalog. A buyer bidding 20.00 on a lead of a seller at 75 % pays
15.00; the seller earns that less the margin. A multiplier never raises a price (a bid is
the most a buyer said it would pay), and a seller with too few sales to judge is at 100 %.

A **buyer**'s record on a vertical: of its sales there in the last ``WINDOW_DAYS``, the
share whose post its endpoint refused or that it returned. Past ``MIN_DECIDED`` sales, that
share orders equal bids: between two bids of one amount, the buyer with the lower share
wins; nothing else changes.

Every figure is shown to its party with the counts it comes from: no hidden score.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.moderation.reputation.domain import percent, percent_tenths
from exchange.money import BPS_WHOLE

WINDOW_DAYS = 90
MIN_DECIDED = 20
# (the share rejected or returned below this, in tenths of a percent: the multiplier in bps)
TIERS = ((100, 10_000), (200, 9_000), (350, 7_500))
WORST_BPS = 5_000


def multiplier_for(bad_tenths: int) -> int:
    """The multiplier, in basis points, of a seller whose share of bad sales is ``bad_tenths``."""
    for below, bps in TIERS:
        if bad_tenths < below:
            return bps
    return WORST_BPS


@dataclass(frozen=True)
class SellerRecord:
    """A seller's decided sales on one vertical in the window."""

    approved: int = 0  # approved and still so
    rejected: int = 0
    returned: int = 0

    @property
    def decided(self) -> int:
        return self.approved + self.rejected + self.returned

    @property
    def bad(self) -> int:
        return self.rejected + self.returned

    @property
    def judged(self) -> bool:
        return self.decided >= MIN_DECIDED

    @property
    def multiplier_bps(self) -> int:
        if not self.judged:
            return BPS_WHOLE
        return multiplier_for(percent_tenths(self.bad, self.decided))

    @property
    def reason(self) -> str:
        """Why the multiplier is what it is, in words a seller reads."""
        if not self.judged:
            return (
                f"{self.decided} decided sales in the last {WINDOW_DAYS} days, fewer than {MIN_DECIDED}: "
                "too few to judge, no adjustment"
            )
        share = percent(self.bad, self.decided)
        return (
            f"{self.rejected} rejected and {self.returned} returned of {self.decided} decided sales in the "
            f"last {WINDOW_DAYS} days ({share} %): bids and floors at {self.multiplier_bps / 100:g} %"
        )


@dataclass(frozen=True)
class BuyerRecord:
    """A buyer's sales on one vertical in the window, and those it refused or returned."""

    sales: int = 0
    refused: int = 0  # its endpoint refused the post
    returned: int = 0

    @property
    def judged(self) -> bool:
        return self.sales >= MIN_DECIDED

    @property
    def rate_tenths(self) -> int:
        """Its share refused or returned, in tenths of a percent; 0 until judged (lower wins ties)."""
        if not self.judged:
            return 0
        return percent_tenths(self.refused + self.returned, self.sales) or 0

    @property
    def reason(self) -> str:
        if not self.judged:
            return (
                f"{self.sales} sales in the last {WINDOW_DAYS} days, fewer than {MIN_DECIDED}: "
                "too few to judge, ranked with the buyers that refuse and return nothing"
            )
        return (
            f"{self.refused} posts refused and {self.returned} sales returned of {self.sales} in the "
            f"last {WINDOW_DAYS} days ({self.rate_tenths / 10:g} %): among equal bids, the buyers with "
            "a lower share win"
        )
