"""Normalising a lead's contact data: phones, emails, names. Pure.

Phones are read with ``phonenumbers`` (E.164, the line type, the country the
number belongs to); emails with ``email-validator`` without any network
look-up; disposable domains come from the ``disposable-email-domains``
package, which moves when its pin in requirements.txt does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

# What lead.phone_type stores for each phonenumbers line type.
PHONE_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# How sure we are that a phone is wrong: it cannot be a number at all, or it may be one we
# cannot confirm (a range the metadata does not list, or no country to read it in).
PHONE_VALID, PHONE_UNCONFIRMED, PHONE_IMPOSSIBLE = "valid", "unconfirmed", "impossible"


@dataclass(frozen=True)
class PhoneInfo:
    verdict: str  # PHONE_VALID, PHONE_UNCONFIRMED or PHONE_IMPOSSIBLE
    e164: str | None = None
    region: str | None = None  # ISO alpha-2 of the number's country, when known
    type: str | None = None  # a value of PHONE_TYPES, for a valid number
    problem: str = ""


@dataclass(frozen=True)
class EmailInfo:
    normalized: str | None  # email-validator's form (domain lower-cased); None when invalid
    domain: str | None
    problem: str = ""

    @property
    def disposable(self) -> bool:
        return self.domain is not None and is_disposable_domain(self.domain)


def analyse_phone(value: object, default_region: str | None = None) -> PhoneInfo:
    """Read a phone number; ``default_region`` (ISO alpha-2) is the country for numbers
    written without a country code."""
    text = str(value or "").strip()
    region = (default_region or "").upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and region is None:
            return PhoneInfo(PHONE_UNCONFIRMED, problem="no country code, and no country to read it in")
        return PhoneInfo(PHONE_IMPOSSIBLE, problem="not a phone number")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return PhoneInfo(PHONE_IMPOSSIBLE, problem="a local number without its area code")
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return PhoneInfo(PHONE_IMPOSSIBLE, problem="not a possible number (length)")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return PhoneInfo(PHONE_UNCONFIRMED, e164, problem="not in any range known to be in use")
    line = PHONE_TYPES.get(phonenumbers.number_type(number), "unknown")
    return PhoneInfo(PHONE_VALID, e164, phonenumbers.region_code_for_number(number), line)


def analyse_email(value: object) -> EmailInfo:
    """Check an address's syntax and normalise it, with no DNS or SMTP look-up."""
    try:
        checked = validate_email(str(value or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        return EmailInfo(None, None, str(error))
    return EmailInfo(checked.normalized, checked.ascii_domain.lower())


def is_disposable_domain(domain: str) -> bool:
    """The domain, or a domain it is under, is a known disposable-address provider."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


_SPACES = re.compile(r"\s+")


def trim_text(value: object) -> object:
    """A string with its ends trimmed and inner runs of whitespace made one space;
    anything else unchanged."""
    return _SPACES.sub(" ", value).strip() if isinstance(value, str) else value


def trim_fields(specs: list[dict], values: dict) -> dict:
    """The lead's values with every ``string`` field (names and the like) trimmed."""
    text_fields = {spec["name"] for spec in specs if spec["type"] == "string"}
    return {name: trim_text(value) if name in text_fields else value for name, value in values.items()}
