"""The catalog of ready leads as plain Python: prices that age, and slots. Pure: no
framework, no clock, no I/O (docs/exchange.md, "The catalog").

A lead the auction did not sell, or sold shared with slots left, is listed. Its price is
its vertical's floor for the lead's country and temperature, times the percent of the
vertical's ageing step for the lead's age (``exchange.verticals.domain.Ageing``); past the
last step it leaves the catalog.

A purchase takes one slot (shared), or every slot of a lead no one has bought (exclusive,
at the slot price times the vertical's slots); an exclusive sale closes the listing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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
