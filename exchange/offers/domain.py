"""Offer rules, as plain Python: field lists, prices, landing URLs."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
FIELD_TYPES = ("string", "email", "phone", "country", "integer", "boolean")
# draft: being set up, invisible; active: takes traffic; paused: visible to its
# webmasters, takes none; archived: finished, takes none, out of the catalog.
STATUSES = ("draft", "active", "paused", "archived")
TRAFFIC_SOURCES = (
    "search", "social", "display", "native", "push", "email", "contextual", "video",
    "incentive", "cashback", "sms", "influencer",
)  # fmt: skip
MAX_LANDINGS = 20
# public: webmasters join freely; approval: they apply, the advertiser or a
# moderator decides; private: by invitation only, invisible to others.
VISIBILITIES = ("public", "approval", "private")
# What joining makes of a participation, by the offer's visibility and the
# participation's current status (None: not joined yet). A declined or banned
# webmaster stays so; only a decision changes that.
JOIN_OUTCOME = {
    ("public", None): "active",
    ("approval", None): "pending",
    ("private", "invited"): "active",
    ("public", "invited"): "active",
    ("approval", "invited"): "active",
}
PARTICIPATION_STATUSES = ("active", "pending", "invited", "declined", "banned")
# Decisions of an advertiser or a moderator: (current status, decision) -> new status.
PARTICIPATION_DECISIONS = {
    ("pending", "approve"): "active",
    ("declined", "approve"): "active",
    ("pending", "decline"): "declined",
    ("active", "ban"): "banned",
    ("pending", "ban"): "banned",
    ("invited", "ban"): "banned",
    ("banned", "approve"): "active",
}
MODELS = ("cpl",)
LANDING_MACROS = ("click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "offer_id", "webmaster_id")


def field_list_problems(fields: list[dict]) -> list[str]:
    problems = []
    seen = set()
    for index, spec in enumerate(fields):
        name = spec.get("name", "")
        if not FIELD_NAME.fullmatch(name):
            problems.append(f"field {index}: a name of a-z, 0-9 and _, starting with a letter (up to 40)")
        if name in seen:
            problems.append(f"field {index}: {name!r} appears twice")
        seen.add(name)
        if spec.get("type") not in FIELD_TYPES:
            problems.append(f"field {index}: type must be one of {', '.join(FIELD_TYPES)}")
    return problems


def url_template_problem(url: str) -> str | None:
    """What is wrong with a URL template whose values are filled in later (a landing, a
    trafficback, a webmaster's postback), or None: absolute http(s), no whitespace, and a host
    that no macro can change."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "a well-formed URL"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "an absolute http(s) URL"
    if any(ch in url for ch in "\r\n\t "):
        return "a URL without spaces or line breaks"
    if "{" in parts.scheme + parts.netloc or "}" in parts.netloc:
        return "a URL whose host is fixed (macros may go in the path or the query only)"
    return None


landing_url_problem = url_template_problem


def pick_landing(default_url: str, weighted: list[dict], draw: float) -> str:
    """The landing URL for a click: ``draw`` in [0, 1) picks from the weighted
    list (each ``{"url", "weight"}``), or the offer's single URL without one."""
    total = sum(item["weight"] for item in weighted)
    if not total:
        return default_url
    point = draw * total
    for item in weighted:
        point -= item["weight"]
        if point < 0:
            return item["url"]
    return weighted[-1]["url"]


def fill_landing_url(template: str, values: dict[str, str | int | None]) -> str:
    """Substitute the landing ``{macro}`` placeholders, URL-encoding each value.

    Unknown placeholders are left as they are; missing values become empty.
    Only the offer's stored template decides where the visitor goes.
    """
    return fill_url_template(template, values, LANDING_MACROS)


def fill_url_template(template: str, values: dict[str, str | int | None], macros: tuple[str, ...]) -> str:
    """Substitute each of ``macros`` written ``{macro}`` in ``template`` with its value,
    URL-encoded with nothing left safe (a value cannot add a parameter, a path segment, a
    line break or another macro). Other placeholders stay as they are; missing values
    become empty."""
    url = template
    for macro in macros:
        token = "{" + macro + "}"
        if token in url:
            value = values.get(macro)
            url = url.replace(token, quote("" if value is None else str(value), safe=""))
    return url
