"""What a report may show whom, and its rates: plain Python, no framework.

Rates are exact decimals rounded half up to 4 places, None when their denominator is
0: ``cr`` = leads / clicks, ``ar`` = approved / (approved + rejected), ``epc`` =
money per click in the currency's major units (the webmaster's payout; the
advertiser's spend, and the platform's revenue for staff).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from exchange.money import MINOR_DIGITS

LEAD_STATUSES = ("received", "review", "awaiting_funds", "pending", "approved", "rejected", "returned")
# Dimension -> the rollup column it groups by ("day" and "hour" are the bucket of their grain).
DIMENSIONS = {
    "day": "bucket",
    "hour": "bucket",
    "offer": "offer_id",
    "webmaster": "webmaster_id",
    "advertiser": "advertiser_id",
    "sub1": "sub1",
    "country": "country",
}
STATUS_COLUMNS = tuple(f"leads_{status}" for status in LEAD_STATUSES)
TRAFFIC = ("clicks", "unique_clicks", "leads", *STATUS_COLUMNS, "cr", "ar")
COLUMNS_BY_ROLE = {
    "webmaster": (*TRAFFIC, "payout_minor", "epc"),
    "advertiser": (*TRAFFIC, "revenue_minor", "epc"),
    "moderator": (*TRAFFIC, "revenue_minor", "payout_minor", "margin_minor", "epc"),
    "admin": (*TRAFFIC, "revenue_minor", "payout_minor", "margin_minor", "epc"),
}
MONEY_COLUMNS = ("revenue_minor", "payout_minor", "margin_minor")
# Groups a role may not ask for: a webmaster is never told which advertiser is behind an offer.
HIDDEN_GROUPS = {"webmaster": ("advertiser",)}
FOUR_PLACES = Decimal("0.0001")


def columns_for(role: str) -> tuple[str, ...]:
    """The figures ``role`` may see, in order (an unknown role sees nothing)."""
    return COLUMNS_BY_ROLE.get(role, ())


def hidden_groups(role: str, group_by: list[str]) -> list[str]:
    """The groups in ``group_by`` that ``role`` may not see."""
    return [name for name in group_by if name in HIDDEN_GROUPS.get(role, ())]


def dimension_keys(group_by: list[str]) -> list[str]:
    """The keys a row carries for its groups: ``day``, ``hour``, else the column name."""
    return [name if name in ("day", "hour") else DIMENSIONS[name] for name in group_by]


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def per_click(amount_minor: int, clicks: int, currency: str) -> Decimal | None:
    """Money per click in major units (``1000`` cents over 8 clicks: ``1.2500``)."""
    if not clicks:
        return None
    major = Decimal(amount_minor).scaleb(-MINOR_DIGITS.get(currency, 2))
    return (major / Decimal(clicks)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def epc_text(epc: Decimal | None, currency: str) -> str:
    """EPC as the pages show it: money per click in major units, with the currency's
    decimals at least and up to 4 (``2.5000`` USD: ``2.50 USD``; ``0.0425``: ``0.0425 USD``)."""
    if epc is None:
        return "–"
    digits = MINOR_DIGITS.get(currency, 2)
    text = f"{epc:.4f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(digits, "0")
    return f"{whole}.{fraction} {currency}" if fraction else f"{whole} {currency}"


def figures_for(role: str, sums: Mapping[str, int], currency: str) -> dict:
    """The columns ``role`` sees, computed from a group's summed counts and money."""
    clicks = sums["clicks"]
    everything = {name: sums[name] for name in ("clicks", "unique_clicks", "leads", *STATUS_COLUMNS)}
    everything["cr"] = ratio(sums["leads"], clicks)
    everything["ar"] = ratio(sums["leads_approved"], sums["leads_approved"] + sums["leads_rejected"])
    everything["revenue_minor"] = sums["revenue_minor"]
    everything["payout_minor"] = sums["payout_minor"]
    everything["margin_minor"] = sums["revenue_minor"] - sums["payout_minor"]
    earned = sums["payout_minor"] if role == "webmaster" else sums["revenue_minor"]
    everything["epc"] = per_click(earned, clicks, currency)
    return {name: everything[name] for name in columns_for(role)}
