"""A buy order's rules as plain Python: filters, schedule, caps. Pure.

A buy order takes a lead only when every filter passes (``filter_failure``), its schedule
is open (``is_open``) and no cap would be passed by one more sale at the price
(``cap_failure``). The reasons are the auction log's words (docs/exchange.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from exchange.offers.pricing import TEMPERATURES

STATUSES = ("active", "paused", "archived")
PRICINGS = ("fixed", "ping")
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in")
PERIODS = ("hour", "day", "month")
MAX_CONDITIONS = 20
DAYS = (0, 1, 2, 3, 4, 5, 6)  # Monday first, as datetime.weekday()

# Why a buy order did not take part (the auction log's words).
FILTER, SCHEDULE, CAP, BUDGET, BALANCE, REGISTER = (
    "filter",
    "schedule",
    "cap",
    "budget",
    "balance",
    "register",
)


@dataclass(frozen=True)
class LeadView:
    """What a buy order's filters may look at: no personal data."""

    country: str | None
    fields: dict
    score: int | None
    temperature: str | None
    age_seconds: int
    region: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class Filters:
    countries: tuple[str, ...] = ()  # empty: any the vertical allows
    regions: tuple[str, ...] = ()
    postcode_prefixes: tuple[str, ...] = ()
    conditions: tuple[dict, ...] = ()  # {"field", "op", "value"}
    min_temperature: str | None = None
    min_score: int | None = None
    max_age_seconds: int | None = None

    @classmethod
    def from_stored(cls, stored: dict) -> Filters:
        return cls(
            countries=tuple(stored.get("countries") or ()),
            regions=tuple(stored.get("regions") or ()),
            postcode_prefixes=tuple(stored.get("postcode_prefixes") or ()),
            conditions=tuple(stored.get("conditions") or ()),
            min_temperature=stored.get("min_temperature"),
            min_score=stored.get("min_score"),
            max_age_seconds=stored.get("max_age_seconds"),
        )


def filter_failure(filters: Filters, lead: LeadView) -> str | None:
    """Which filter the lead fails, in words, or None when it passes them all."""
    if filters.countries and lead.country not in filters.countries:
        return f"country {lead.country or 'unknown'}"
    if filters.regions and (lead.region or "").upper() not in {r.upper() for r in filters.regions}:
        return "region"
    if filters.postcode_prefixes and not any(
        (lead.postcode or "").upper().startswith(prefix.upper()) for prefix in filters.postcode_prefixes
    ):
        return "postcode"
    if filters.min_temperature is not None and (
        lead.temperature not in TEMPERATURES
        or TEMPERATURES.index(lead.temperature) < TEMPERATURES.index(filters.min_temperature)
    ):
        return "temperature"
    if filters.min_score is not None and (lead.score is None or lead.score < filters.min_score):
        return "score"
    if filters.max_age_seconds is not None and lead.age_seconds > filters.max_age_seconds:
        return "age"
    for condition in filters.conditions:
        if not holds(condition, lead.fields.get(condition["field"])):
            return f"{condition['field']} {condition['op']} {condition['value']!r}"
    return None


def holds(condition: dict, value: object) -> bool:
    """Whether a lead's field value meets one condition. A missing value meets none but ``!=``."""
    op, wanted = condition["op"], condition["value"]
    if value is None:
        return op == "!="
    if op == "in":
        return value in wanted
    if op in ("=", "!="):
        return (value == wanted) == (op == "=")
    if isinstance(value, bool) or not isinstance(value, int | float) or isinstance(wanted, bool):
        return False  # an order comparison between numbers only
    return {">": value > wanted, ">=": value >= wanted, "<": value < wanted, "<=": value <= wanted}[op]


def condition_problems(conditions: list[dict], field_types: dict[str, str]) -> list[str]:
    """What is wrong with conditions on a vertical whose fields have ``field_types``."""
    problems = []
    for index, condition in enumerate(conditions):
        name, op, value = condition.get("field"), condition.get("op"), condition.get("value")
        kind = field_types.get(name)
        if kind is None:
            problems.append(f"condition {index}: {name!r} is not a field of the vertical")
        elif kind in ("phone", "email"):
            problems.append(f"condition {index}: {name!r} is personal data and cannot be filtered on")
        elif op not in OPERATORS:
            problems.append(f"condition {index}: op must be one of {', '.join(OPERATORS)}")
        elif op == "in" and not (isinstance(value, list) and value):
            problems.append(f"condition {index}: 'in' takes a non-empty list")
        elif op in (">", ">=", "<", "<=") and (kind != "integer" or type(value) is not int):
            problems.append(f"condition {index}: {op} compares an integer field with an integer")
    return problems


@dataclass(frozen=True)
class Schedule:
    """When a buy order buys: on ``days`` from ``from_hour`` to ``to_hour`` (exclusive), in its
    own time zone. ``to_hour`` 24 is midnight; ``from_hour`` above ``to_hour`` spans midnight."""

    timezone: str = "UTC"
    days: tuple[int, ...] = DAYS
    from_hour: int = 0
    to_hour: int = 24

    @classmethod
    def from_stored(cls, stored: dict | None) -> Schedule:
        stored = stored or {}
        return cls(
            timezone=stored.get("timezone", "UTC"),
            days=tuple(stored.get("days", DAYS)),
            from_hour=stored.get("from_hour", 0),
            to_hour=stored.get("to_hour", 24),
        )


def is_open(schedule: Schedule, now: datetime) -> bool:
    """Whether the schedule buys at ``now`` (an aware datetime, or naive UTC)."""
    local = _aware(now).astimezone(ZoneInfo(schedule.timezone))
    day, hour = local.weekday(), local.hour
    if schedule.from_hour <= schedule.to_hour:
        return day in schedule.days and schedule.from_hour <= hour < schedule.to_hour
    if hour >= schedule.from_hour:
        return day in schedule.days
    return (day - 1) % 7 in schedule.days and hour < schedule.to_hour  # the night after a buying day


def timezone_problem(name: str) -> str | None:
    return None if name in available_timezones() else "an IANA time zone such as Europe/Berlin"


@dataclass(frozen=True)
class Caps:
    """Most sales (``leads``) and most spend (``money``, minor units) per period; None: no cap."""

    leads: dict[str, int | None] = field(default_factory=dict)
    money: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: dict | None) -> Caps:
        stored = stored or {}
        return cls(
            leads={p: stored.get(f"{p}_leads") for p in PERIODS},
            money={p: stored.get(f"{p}_money_minor") for p in PERIODS},
        )

    @property
    def any(self) -> bool:
        return any(v is not None for v in (*self.leads.values(), *self.money.values()))


def period_starts(timezone: str, now: datetime) -> dict[str, datetime]:
    """When the current hour, day and month began in the buyer's time zone, as naive UTC."""
    local = _aware(now).astimezone(ZoneInfo(timezone))
    starts = {
        "hour": local.replace(minute=0, second=0, microsecond=0),
        "day": local.replace(hour=0, minute=0, second=0, microsecond=0),
        "month": local.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
    }
    return {name: start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None) for name, start in starts.items()}


def cap_failure(caps: Caps, used: dict[str, tuple[int, int]], price_minor: int) -> str | None:
    """Which cap one more sale at ``price_minor`` would pass, given the sales and spend
    ``used`` so far in each period, or None."""
    for period in PERIODS:
        leads, spent = used.get(period, (0, 0))
        if caps.leads.get(period) is not None and leads + 1 > caps.leads[period]:
            return f"{period} cap of {caps.leads[period]} leads"
        if caps.money.get(period) is not None and spent + price_minor > caps.money[period]:
            return f"{period} budget"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
