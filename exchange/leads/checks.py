"""Validation checks: pure functions from a lead's facts to findings.

Every check sees the same ``LeadFacts`` (gathered by the validation job) and
returns findings; all of them are stored on the lead so that the decision
can be explained to the webmaster, the advertiser and a moderator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate

REJECT = "reject"
FLAG = "flag"


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
    """A marshmallow schema for an offer's field list; unknown keys are errors."""
    declared = {}
    for spec in field_specs:
        required = bool(spec.get("required"))
        declared[spec["name"]] = _FIELD_FACTORIES[spec["type"]](required)
        declared[spec["name"]].required = required
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
    return []


def check_cap(facts: LeadFacts) -> list[Finding]:
    if facts.full_cap:
        return [Finding("cap_reached", REJECT, f"{facts.full_cap} is full")]
    return []


def check_price(facts: LeadFacts) -> list[Finding]:
    if facts.payout_minor == 0:
        return [Finding("amount_too_small", REJECT, "the sale's share rounds to no payout")]
    return []


CHECKS = (check_offer_active, check_schema, check_duplicate, check_country, check_cap, check_price)


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
