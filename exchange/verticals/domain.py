"""A vertical's rules as plain Python: field specs, personal fields, floors, margin. Pure.

Floors are kept as ``{country: {temperature: minor}}``; the country ``"*"`` prices every
country the vertical allows without a row of its own. A temperature missing from a row
falls back to the next colder one the row names (a hot lead is worth at least a warm one),
and a lead whose country has no row and no ``"*"`` has no floor: it cannot be sold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from exchange.money import times_bps
from exchange.offers.domain import FIELD_TYPES, field_list_problems
from exchange.offers.pricing import TEMPERATURES

ANY_COUNTRY = "*"
STATUSES = ("active", "paused")
SELLER_STATUSES = ("active", "pending", "declined", "banned")
MAX_SLOTS = 10
# What a ping may carry besides the vertical's own non-personal fields (docs/exchange.md).
PING_FACTS = (
    "lead_id",
    "vertical_id",
    "country",
    "region",
    "postcode",
    "score",
    "temperature",
    "age_seconds",
)
# Field types that always hold personal data, whatever the vertical says.
PERSONAL_TYPES = ("phone", "email")

__all__ = ["FIELD_TYPES", "TEMPERATURES"]


def floor_for(floors: dict[str, dict[str, int]], country: str | None, temperature: str | None) -> int | None:
    """The least a buyer may pay for one slot of a lead from ``country`` at ``temperature``."""
    row = floors.get(country or "") or floors.get(ANY_COUNTRY)
    if not row:
        return None
    index = TEMPERATURES.index(temperature) if temperature in TEMPERATURES else 0
    for colder in reversed(TEMPERATURES[: index + 1]):
        if colder in row:
            return row[colder]
    return None


def floor_problems(floors: dict, allowed_countries: list[str]) -> list[str]:
    problems = []
    for country, row in floors.items():
        if country != ANY_COUNTRY and allowed_countries and country not in allowed_countries:
            problems.append(f"{country}: not among the allowed countries")
        unknown = sorted(set(row) - set(TEMPERATURES))
        if unknown:
            problems.append(f"{country}: unknown temperature {', '.join(unknown)}")
        if not row:
            problems.append(f"{country}: name at least one temperature")
    return problems


def personal_fields_of(specs: list[dict], declared: list[str]) -> set[str]:
    """The fields never pinged: those declared personal, and every phone and email field."""
    return set(declared) | {spec["name"] for spec in specs if spec["type"] in PERSONAL_TYPES}


def vertical_field_problems(specs: list[dict], personal: list[str]) -> list[str]:
    problems = field_list_problems(specs)
    names = {spec.get("name") for spec in specs}
    problems += [
        f"{name}: a personal field that is not among the fields" for name in personal if name not in names
    ]
    if not any(spec.get("type") in PERSONAL_TYPES for spec in specs):
        problems.append("a vertical needs a phone or an email field: the register of sales is keyed by them")
    return problems


def ping_fields(fields: dict, specs: list[dict], personal: list[str]) -> dict:
    """The part of a lead's fields a ping may carry: the vertical's fields minus personal ones."""
    hidden = personal_fields_of(specs, personal)
    allowed = {spec["name"] for spec in specs} - hidden
    return {name: value for name, value in fields.items() if name in allowed}


# -- the ageing schedule of catalog prices (docs/exchange.md, "The catalog") -----------------
# A listed lead costs its floor times the percent of its age's step; past the last step
# (``gone_after_hours``) it leaves the catalog. The percents never rise from one step to the
# next, so a price never rises with age.

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
        return times_bps(floor_minor, step.percent * 100)


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
