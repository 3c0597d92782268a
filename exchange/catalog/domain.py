"""The catalog of ready leads as plain Python: prices that age, and slots. Pure: no
framework, no clock, no I/O (docs/exchange.md, "The catalog").

A lead the auction did not sell, or sold shared with slots left, is listed. Its price is
its vertical's floor for the lead's country and temperature, times the percent of the
vertical's ageing step for the lead's age; past the last step (``gone_after_hours``) it
leaves the catalog. The percents never rise from one step to the next, so a price never
rises with age.

A purchase takes one slot (shared), or every slot of a lead no one has bought (exclusive,
at the slot price times the vertical's slots); an exclusive sale closes the listing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

HOUR = timedelta(hours=1)
MAX_STEPS = 12
MAX_AGE_HOURS = 24 * 366  # a lead older than a year is not a ready lead
DEFAULT_AGEING = {
    "steps": [
        {"after_hours": 0, "percent": 100},
        {"after_hours": 24, "percent": 75},
        {"after_hours": 72, "percent": 50},
        {"after_hours": 336, "percent": 20},
    ],
    "gone_after_hours": 2160,
}


@dataclass(frozen=True)
class Step:
    after_hours: int  # from this age on (hours since capture)
    percent: int  # of the floor


@dataclass(frozen=True)
class Ageing:
    """A vertical's ageing schedule: steps by age, first at 0 h, percents never rising."""

    steps: tuple[Step, ...]
    gone_after_hours: int

    @classmethod
    def from_json(cls, data: dict) -> Ageing:
        """The schedule as stored (``DEFAULT_AGEING``'s shape), checked by ``ageing_problems``."""
        steps = tuple(Step(int(step["after_hours"]), int(step["percent"])) for step in data["steps"])
        return cls(steps, int(data["gone_after_hours"]))

    def step_at(self, age: timedelta) -> Step | None:
        """The step a lead of ``age`` is priced at; None once it has left the catalog."""
        if age < timedelta(0) or age >= self.gone_after_hours * HOUR:
            return None
        return [step for step in self.steps if age >= step.after_hours * HOUR][-1]

    def price_at(self, floor_minor: int, age: timedelta) -> int | None:
        """One slot's price at ``age``: the floor times the step's percent, rounded half up
        to a minor unit, at least one; None once gone."""
        step = self.step_at(age)
        if step is None:
            return None
        return max((floor_minor * step.percent + 50) // 100, 1)


def ageing_problems(data: object) -> list[str]:
    """What is wrong with a schedule as given (an empty list: nothing)."""
    if not isinstance(data, dict) or set(data) != {"steps", "gone_after_hours"}:
        return ["give steps and gone_after_hours"]
    steps, gone = data["steps"], data["gone_after_hours"]
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        return [f"give 1 to {MAX_STEPS} steps"]
    problems = []
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or set(step) != {"after_hours", "percent"}:
            problems.append(f"step {index}: give after_hours and percent")
        elif not all(type(step[name]) is int for name in step):
            problems.append(f"step {index}: whole numbers")
        elif not 1 <= step["percent"] <= 100:
            problems.append(f"step {index}: a percent from 1 to 100")
    if problems:
        return problems
    hours = [step["after_hours"] for step in steps]
    percents = [step["percent"] for step in steps]
    if hours[0] != 0:
        problems.append("the first step starts at 0 hours")
    if any(later <= earlier for earlier, later in zip(hours, hours[1:], strict=False)):
        problems.append("steps in order of after_hours, each later than the one before")
    if any(later > earlier for earlier, later in zip(percents, percents[1:], strict=False)):
        problems.append("a price never rises with age: each percent at most the one before")
    if type(gone) is not int or not hours[-1] < gone <= MAX_AGE_HOURS:
        problems.append(f"gone_after_hours: after the last step, at most {MAX_AGE_HOURS}")
    return problems


class SoldOut(Exception):
    """The purchase wants a slot (or, exclusive, every slot) the listing no longer has."""


@dataclass(frozen=True)
class Listing:
    """One lead's slots: the vertical's count, the live sales of it, and whether one of
    them (or a sale of the same consumer elsewhere) was exclusive."""

    slots: int
    sold: int = 0
    exclusive_sold: bool = False

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
