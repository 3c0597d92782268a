"""Webmaster postbacks as plain Python: macros, status names (the retry schedule is every
delivery's: exchange/delivery/domain.py).

A postback is a GET to the webmaster's own tracker, built from a URL template
whose ``{macro}`` placeholders are filled with the lead's values, each one
URL-encoded, so no value can reach a header, add a parameter or move the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exchange.leads.domain import STATES
from exchange.money import MINOR_DIGITS
from exchange.offers.domain import fill_url_template, url_template_problem

POSTBACK_MACROS = (
    "click_id", "sub1", "sub2", "sub3", "sub4", "sub5",
    "lead_id", "offer_id", "status", "payout", "currency", "reason",
)  # fmt: skip
MAX_TEMPLATE_LENGTH = 2000
MAX_STATUS_NAME_LENGTH = 64

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class LeadFacts:
    """What a postback may tell about a lead at one of its status changes."""

    lead_id: int
    offer_id: int
    status: str
    click_id: str | None = None
    subs: tuple[str | None, ...] = (None, None, None, None, None)
    payout_minor: int | None = None
    currency: str | None = None
    reason_codes: tuple[str, ...] = ()


def template_problem(template: str) -> str | None:
    """Why a postback URL template cannot be saved, or None."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        return f"a URL of at most {MAX_TEMPLATE_LENGTH} characters"
    problem = url_template_problem(template)
    if problem:
        return problem
    if not template.isascii() or not template.isprintable():
        return "a URL of printable ASCII characters (percent-encode anything else)"
    unknown = unknown_macros(template)
    if unknown:
        return f"known macros only; unknown: {', '.join('{' + name + '}' for name in unknown)}"
    return None


def unknown_macros(template: str) -> list[str]:
    """Placeholders in ``template`` that are not postback macros, in order, once each."""
    found = [name for name in _PLACEHOLDER.findall(template) if name not in POSTBACK_MACROS]
    return list(dict.fromkeys(found))


def status_map_problems(status_map: dict) -> list[str]:
    """Each entry maps one of our status names to the tracker's own (a short, non-empty name)."""
    problems = []
    for ours, theirs in status_map.items():
        if ours not in STATES:
            problems.append(f"{ours!r} is not a lead status (one of {', '.join(STATES)})")
        elif not isinstance(theirs, str) or not theirs.strip() or len(theirs) > MAX_STATUS_NAME_LENGTH:
            problems.append(f"{ours}: a name of 1 to {MAX_STATUS_NAME_LENGTH} characters")
    return problems


def tracker_status(status: str, status_map: dict[str, str]) -> str:
    """Our status name as the webmaster's tracker calls it (unmapped: ours)."""
    return status_map.get(status) or status


def major_units(amount_minor: int, currency: str) -> str:
    """``1000, "USD"`` -> ``"10.00"``; ``500, "JPY"`` -> ``"500"``; no grouping, no sign games."""
    digits = MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}" + (f".{fraction:0{digits}d}" if digits else "")


def macro_values(facts: LeadFacts, status_map: dict[str, str]) -> dict[str, str]:
    priced = facts.payout_minor is not None and facts.currency
    values = {
        "click_id": facts.click_id or "",
        "lead_id": str(facts.lead_id),
        "offer_id": str(facts.offer_id),
        "status": tracker_status(facts.status, status_map),
        "payout": major_units(facts.payout_minor, facts.currency) if priced else "",
        "currency": facts.currency or "",
        "reason": ",".join(facts.reason_codes),
    }
    for number, value in enumerate(facts.subs, start=1):
        values[f"sub{number}"] = value or ""
    return values


def postback_url(template: str, facts: LeadFacts, status_map: dict[str, str]) -> str:
    """The URL to call for one status change: every macro filled and URL-encoded."""
    return fill_url_template(template, macro_values(facts, status_map), POSTBACK_MACROS)
