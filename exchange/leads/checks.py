"""Validation checks: pure functions from a lead's facts to findings.

Every check sees the same ``LeadFacts`` (gathered by the validation job) and
returns findings; all of them are stored on the lead so that the decision
can be explained to the webmaster, the advertiser and a moderator.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate

from exchange.leads.normalise import PHONE_IMPOSSIBLE, PHONE_UNCONFIRMED, EmailInfo, PhoneInfo
from exchange.leads.patterns import matches

REJECT = "reject"  # the lead is rejected with the finding's code
FLAG = "flag"  # recorded, costs its points, rejects nothing
SCORE = "score"  # a part of the score (exchange/leads/scoring.py), not a problem

# What a flag costs (points are added to the score; see docs/leads.md).
UNCONFIRMED_PHONE_POINTS = -25
CLICK_TOO_FAST_POINTS = -40
IP_VELOCITY_POINTS = -30
EMPTY_USER_AGENT_POINTS = -20

# Crawlers, headless browsers and automation tools name themselves in their user agent.
BOT_USER_AGENT = re.compile(
    r"bot/|googlebot|bingbot|yandex(?:bot|images)|baiduspider|duckduckbot|slurp|facebookexternalhit"
    r"|crawler|crawling|spider|headlesschrome|phantomjs|selenium|webdriver|puppeteer|playwright"
    r"|scrapy|\+https?://",
    re.IGNORECASE,
)
# HTTP libraries: a bot when they follow a tracking link, not when a webmaster's server sends a lead.
HTTP_CLIENT_USER_AGENT = re.compile(
    r"^(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|java"
    r"|libwww-perl|apache-httpclient|node-fetch|axios|guzzlehttp|postmanruntime)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    detail: str = ""
    points: int = 0

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "detail": self.detail, "points": self.points}


@dataclass(frozen=True)
class LeadFacts:
    fields: dict
    field_specs: list[dict]
    offer_status: str
    allowed_countries: list[str] = field(default_factory=list)
    country: str | None = None
    ip_country: str | None = None
    earlier_duplicates: int = 0
    full_cap: str | None = None  # the name of a cap already full, if any
    # A conversion the advertiser reported (cpa, cps) has no fields and no stated country.
    is_conversion: bool = False
    payout_minor: int | None = None  # what the lead would pay the webmaster if accepted
    phone: PhoneInfo | None = None  # the phone field read (normalise.analyse_phone); None: no phone
    email: EmailInfo | None = None  # the email field read (normalise.analyse_email); None: no email
    user_agent: str | None = None
    user_agent_from_click: bool = False  # the visitor's browser sent it when following the link
    # Since the lead's click (None: no click known); its claims disagreeing with the lead.
    seconds_since_click: float | None = None
    click_mismatch: str | None = None
    ip_leads_last_hour: int = 0  # leads on the offer from the lead's IP in the hour up to it, itself too
    # The offer's thresholds (0: off).
    min_click_to_lead_seconds: int = 0
    max_leads_per_ip_per_hour: int = 0
    attribution_window_seconds: int = 0
    # The source's history with this advertiser: its leads the advertiser decided, and approved.
    source_decided: int = 0
    source_approved: int = 0


def _whole_match(pattern: str):
    def check(value: str) -> None:
        if not matches(pattern, value):
            raise ValidationError("Does not match the offer's pattern.")

    return check


def _field(spec: dict) -> fields.Field:
    required = bool(spec.get("required"))
    field_ = _FIELD_FACTORIES[spec["type"]](required)
    field_.required = required
    if spec.get("pattern"):
        field_.validators.append(_whole_match(spec["pattern"]))
    if spec.get("choices"):
        field_.validators.append(validate.OneOf(spec["choices"], error="Must be one of: {choices}."))
    return field_


def _phone_like(value: str) -> None:
    digits = sum(ch.isdigit() for ch in value)
    if not re.fullmatch(r"\+?[0-9 ()\-.]{7,20}", value) or digits < 7:
        raise ValidationError("Not a phone number.")


_FIELD_FACTORIES = {
    "string": lambda required: fields.String(validate=validate.Length(min=int(required), max=500)),
    "email": lambda _required: fields.Email(validate=validate.Length(max=254)),
    "phone": lambda _required: fields.String(validate=_phone_like),
    "country": lambda _required: fields.String(
        validate=validate.Regexp(r"\A[A-Za-z]{2}\Z", error="A two-letter country code.")
    ),
    "integer": lambda _required: fields.Integer(strict=True),
    "boolean": lambda _required: fields.Boolean(),
}


def lead_fields_schema(field_specs: list[dict]) -> Schema:
    """A marshmallow schema for an offer's field list; unknown keys are errors. Built once
    per distinct list (building one costs more than loading a lead with it)."""
    return _schema_for(json.dumps(field_specs, sort_keys=True))


@functools.lru_cache(maxsize=512)
def _schema_for(field_specs_json: str) -> Schema:
    declared = {spec["name"]: _field(spec) for spec in json.loads(field_specs_json)}
    return Schema.from_dict(declared, name="LeadFields")()


def field_errors(field_specs: list[dict], values: dict) -> dict:
    try:
        lead_fields_schema(field_specs).load(values)
    except ValidationError as error:
        return error.normalized_messages()
    return {}


def check_schema(facts: LeadFacts) -> list[Finding]:
    errors = field_errors(facts.field_specs, facts.fields)
    if not errors:
        return []
    detail = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in sorted(errors.items()))
    return [Finding("schema_invalid", REJECT, detail)]


def check_offer_active(facts: LeadFacts) -> list[Finding]:
    if facts.offer_status != "active":
        return [Finding("offer_paused", REJECT, f"offer is {facts.offer_status}")]
    return []


def check_duplicate(facts: LeadFacts) -> list[Finding]:
    if facts.earlier_duplicates:
        return [Finding("duplicate", REJECT, f"{facts.earlier_duplicates} earlier lead(s)")]
    return []


def check_country(facts: LeadFacts) -> list[Finding]:
    """The lead's stated country must be allowed, and so must its IP's country
    when the IP maps to one (an unknown IP country proves nothing)."""
    if not facts.allowed_countries:
        return []
    allowed = ", ".join(facts.allowed_countries)
    if not facts.is_conversion and (facts.country or "").upper() not in facts.allowed_countries:
        return [Finding("geo_mismatch", REJECT, f"{facts.country or 'unknown'} not in {allowed}")]
    if facts.ip_country and facts.ip_country not in facts.allowed_countries:
        return [Finding("geo_mismatch", REJECT, f"IP in {facts.ip_country}, not in {allowed}")]
    phone_country = facts.phone.region if facts.phone else None
    if phone_country and phone_country not in facts.allowed_countries:
        return [Finding("geo_mismatch", REJECT, f"phone of {phone_country}, not in {allowed}")]
    return []


def check_cap(facts: LeadFacts) -> list[Finding]:
    if facts.full_cap:
        return [Finding("cap_reached", REJECT, f"{facts.full_cap} is full")]
    return []


def check_price(facts: LeadFacts) -> list[Finding]:
    if facts.payout_minor == 0:
        return [Finding("amount_too_small", REJECT, "the sale's share rounds to no payout")]
    return []


def check_phone(facts: LeadFacts) -> list[Finding]:
    """A number that cannot be one is rejected; one that may be (a range not known to be in
    use, or no country to read it in) is flagged: phone metadata lags new ranges."""
    if facts.phone is None or facts.phone.verdict not in (PHONE_IMPOSSIBLE, PHONE_UNCONFIRMED):
        return []
    if facts.phone.verdict == PHONE_IMPOSSIBLE:
        return [Finding("invalid_phone", REJECT, facts.phone.problem)]
    return [Finding("invalid_phone", FLAG, facts.phone.problem, UNCONFIRMED_PHONE_POINTS)]


def check_email(facts: LeadFacts) -> list[Finding]:
    if facts.email is None:
        return []
    if facts.email.normalized is None:
        return [Finding("invalid_email", REJECT, facts.email.problem)]
    if facts.email.disposable:
        return [Finding("disposable_email", REJECT, f"{facts.email.domain} gives out throwaway addresses")]
    return []


def check_click(facts: LeadFacts) -> list[Finding]:
    """The click id must be this lead's (webmaster and offer), and recent enough to attribute it."""
    if facts.click_mismatch:
        return [Finding("click_not_found", REJECT, facts.click_mismatch)]
    window, elapsed = facts.attribution_window_seconds, facts.seconds_since_click
    if window and elapsed is not None and elapsed > window:
        return [Finding("click_expired", REJECT, f"clicked {int(elapsed)} s before, window {window} s")]
    return []


def check_click_too_fast(facts: LeadFacts) -> list[Finding]:
    threshold, elapsed = facts.min_click_to_lead_seconds, facts.seconds_since_click
    if facts.is_conversion or elapsed is None or elapsed >= threshold:
        return []
    detail = f"{elapsed:.1f} s from click to lead, under {threshold} s"
    return [Finding("click_too_fast", FLAG, detail, CLICK_TOO_FAST_POINTS)]


def check_ip_velocity(facts: LeadFacts) -> list[Finding]:
    limit = facts.max_leads_per_ip_per_hour
    if facts.is_conversion or not limit or facts.ip_leads_last_hour <= limit:
        return []
    detail = f"{facts.ip_leads_last_hour} leads from this IP within an hour, over {limit}"
    return [Finding("ip_velocity", FLAG, detail, IP_VELOCITY_POINTS)]


def check_user_agent(facts: LeadFacts) -> list[Finding]:
    if facts.is_conversion:
        return []
    agent = (facts.user_agent or "").strip()
    if not agent:
        return [Finding("bot_user_agent", FLAG, "no user agent", EMPTY_USER_AGENT_POINTS)]
    if BOT_USER_AGENT.search(agent) or (facts.user_agent_from_click and HTTP_CLIENT_USER_AGENT.search(agent)):
        return [Finding("bot_user_agent", REJECT, f"user agent {agent[:80]!r}")]
    return []


CHECKS = (
    check_offer_active,
    check_schema,
    check_duplicate,
    check_country,
    check_cap,
    check_price,
    check_phone,
    check_email,
    check_click,
    check_click_too_fast,
    check_ip_velocity,
    check_user_agent,
)


def evaluate(facts: LeadFacts) -> list[Finding]:
    return [finding for check in CHECKS for finding in check(facts)]


def rejection_codes(findings: list[Finding]) -> list[str]:
    return sorted({f.code for f in findings if f.severity == REJECT})


def normalise_email(value: object) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def normalise_phone(value: object, region: str | None = None) -> str | None:
    """E.164 (``+12025550101``) where the number parses, with ``region`` (the
    lead's country) for numbers written without a country code; otherwise
    the digits as written, so that a duplicate still matches itself."""
    text = str(value or "").strip()
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    return ("+" if text.startswith("+") else "") + digits
