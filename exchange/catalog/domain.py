"""The catalog of ready leads as plain Python: prices that age, and slots. Pure: no
framework, no clock, no I/O (docs/exchange.md, "The catalog").

A lead the auction did not sell, or sold shared with slots left, is listed. Its price is
its vertical's floor for the lead's country and temperature, times the percent of the
vertical's ageing step for the lead's age (``exchange.verticals.domain.Ageing``); past the
last step it leaves the catalog.

A purchase takes one slot (shared), or every slot of a lead no one has bought (exclusive,
at the slot price times the vertical's slots); an exclusive sale closes the listing.

Below the rules, what the seller's and staff's pages say of them: an age and a step in
words, the age step a sale was made at (sales do not store it), and catalog sales added up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from exchange.money import BPS_WHOLE
from exchange.verticals.domain import Ageing, Step

MINUTE, HOUR, DAY = 60, 3600, 86400
HOURS_SHOWN_UP_TO = 48 * HOUR  # younger: "30 h" (the ageing steps and the filters count hours)


class SoldOut(Exception):
    """The purchase wants a slot (or, exclusive, every slot) the listing no longer has."""


@dataclass(frozen=True)
class Listing:
    """One lead's slots: the vertical's count, the live sales of it, and whether one of
    them (or a sale of the same consumer elsewhere) was exclusive."""

    slots: int
    sold: int = 0
    exclusive_sold: bool = False

    @classmethod
    def of(cls, slots: int, taken: int, exclusive: bool) -> Listing:
        """From the register of sales: ``taken`` live sales of the consumer, one of them
        ``exclusive`` (which takes every slot)."""
        return cls(slots, sold=slots if exclusive else min(taken, slots), exclusive_sold=exclusive)

    @property
    def slots_left(self) -> int:
        return 0 if self.exclusive_sold else max(self.slots - self.sold, 0)

    @property
    def listed(self) -> bool:
        return self.slots_left > 0

    @property
    def exclusive_available(self) -> bool:
        """Exclusive means no one else has the lead: only while no slot is sold."""
        return not self.exclusive_sold and self.sold == 0

    def slots_taken_by(self, exclusive: bool) -> int:
        return self.slots if exclusive else 1

    def take(self, exclusive: bool) -> Listing:
        """The listing after one purchase; ``SoldOut`` when it cannot be made."""
        if exclusive and not self.exclusive_available:
            raise SoldOut("exclusive only while no slot is sold")
        if self.slots_left < 1:
            raise SoldOut("no slot left")
        if exclusive:
            return replace(self, sold=self.slots, exclusive_sold=True)
        return replace(self, sold=self.sold + 1)


def purchase_price(slot_price_minor: int, listing: Listing, exclusive: bool) -> int:
    """What a purchase costs: one slot's price, or every slot's for an exclusive one."""
    return slot_price_minor * listing.slots_taken_by(exclusive)


def age_in_words(seconds: int) -> str:
    """A lead's age as people say it, rounded down: "40 min", "5 h", "30 h", "3 d"."""
    seconds = max(seconds, 0)
    if seconds < HOUR:
        return f"{seconds // MINUTE} min"
    if seconds < HOURS_SHOWN_UP_TO:
        return f"{seconds // HOUR} h"
    return f"{seconds // DAY} d"


def step_in_words(step: Step) -> str:
    """``"75 % of the floor after 24 h"``; the first step, ``"100 % of the floor from capture"``."""
    since = f"after {step.after_hours} h" if step.after_hours else "from capture"
    return f"{step.percent} % of the floor {since}"


def step_at_sale(ageing: Ageing, captured_at: datetime, sold_at: datetime) -> Step | None:
    """The age step a catalog sale was priced at: its age when made (``sold_at`` minus the
    lead's ``captured_at``) on its vertical's schedule. A sale does not store its step, so
    this reads today's schedule: a sale made under an older one counts at the step its age
    has now, and one whose age is off today's schedule (past its last step, or before the
    capture) has none (None)."""
    return ageing.step_at(sold_at - captured_at)


@dataclass(frozen=True)
class Takings:
    """Catalog sales added up: how many, what their buyers pay (gross) and what their
    sellers earn; the platform's margin is the difference."""

    sales: int = 0
    gross_minor: int = 0
    payout_minor: int = 0

    @property
    def margin_minor(self) -> int:
        return self.gross_minor - self.payout_minor

    def with_sale(self, price_minor: int, payout_minor: int) -> Takings:
        return Takings(self.sales + 1, self.gross_minor + price_minor, self.payout_minor + payout_minor)

    def __add__(self, other: Takings) -> Takings:
        return Takings(
            self.sales + other.sales,
            self.gross_minor + other.gross_minor,
            self.payout_minor + other.payout_minor,
        )


def share_bps(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in basis points, rounded half up; None of nothing."""
    if whole <= 0:
        return None
    return (2 * part * BPS_WHOLE + whole) // (2 * whole)
