"""A vertical's rules as plain Python: field specs, personal fields, floors, margin. Pure.

Floors are kept as ``{country: {temperature: minor}}``; the country ``"*"`` prices every
country the vertical allows without a row of its own. A temperature missing from a row
falls back to the next colder one the row names (a hot lead is worth at least a warm one),
and a lead whose country has no row and no ``"*"`` has no floor: it cannot be sold.
"""

from __future__ import annotations

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
