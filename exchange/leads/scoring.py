"""Lead scoring: points per signal, summed into 0-100 and banded cold / warm / hot. Pure.

The parts of the score are findings of severity ``score``; the flags the
checks raise carry negative points. The score is the sum of every finding's
points, held within 0-100, so the stored findings are its full breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.leads.checks import REJECT, SCORE, Finding, LeadFacts
from exchange.leads.normalise import PHONE_VALID
from exchange.offers.pricing import TEMPERATURES

COLD, WARM, HOT = TEMPERATURES  # coldest first
WARM_FROM, HOT_FROM = 40, 70  # the lowest score of each band

FIELDS_POINTS = 20
# Seconds from click to lead: (under this many seconds, points), the first that fits wins.
CLICK_TO_LEAD_POINTS = ((10, 5), (3600, 25), (86400, 15))
OLD_CLICK_POINTS = 5  # a day or more
NO_CLICK_POINTS = 10
PHONE_TYPE_POINTS = {"mobile": 25, "fixed_or_mobile": 20, "fixed_line": 15, "voip": 5}
NO_PHONE_POINTS = 10  # the offer asks for no phone
HISTORY_POINTS = 30
HISTORY_MIN_DECIDED = 5  # fewer decided leads than this tell nothing yet
UNKNOWN_HISTORY_POINTS = 15


@dataclass(frozen=True)
class Assessment:
    findings: list[Finding]
    score: int | None
    temperature: str | None

    @property
    def stored_findings(self) -> list[dict]:
        return [finding.as_dict() for finding in self.findings]


def fields_part(facts: LeadFacts) -> Finding:
    declared = [spec["name"] for spec in facts.field_specs]
    filled = sum(1 for name in declared if facts.fields.get(name) not in (None, ""))
    points = FIELDS_POINTS * filled // len(declared) if declared else FIELDS_POINTS
    return Finding("fields_complete", SCORE, f"{filled} of {len(declared)} fields filled", points)


def click_to_lead_part(facts: LeadFacts) -> Finding:
    elapsed = facts.seconds_since_click
    if elapsed is None:
        return Finding("click_to_lead", SCORE, "no click", NO_CLICK_POINTS)
    points = next((p for under, p in CLICK_TO_LEAD_POINTS if elapsed < under), OLD_CLICK_POINTS)
    return Finding("click_to_lead", SCORE, f"{int(elapsed)} s from click to lead", points)


def phone_type_part(facts: LeadFacts) -> Finding:
    if facts.phone is None:
        return Finding("phone_type", SCORE, "no phone", NO_PHONE_POINTS)
    if facts.phone.verdict != PHONE_VALID:
        return Finding("phone_type", SCORE, "unknown line", 0)
    return Finding("phone_type", SCORE, facts.phone.type, PHONE_TYPE_POINTS.get(facts.phone.type, 0))


def history_part(facts: LeadFacts) -> Finding:
    """The source's approval rate: approved among the leads the advertiser decided."""
    decided, approved = facts.source_decided, facts.source_approved
    if decided < HISTORY_MIN_DECIDED:
        return Finding("source_history", SCORE, f"{decided} decided leads", UNKNOWN_HISTORY_POINTS)
    return Finding(
        "source_history", SCORE, f"{approved} of {decided} approved", HISTORY_POINTS * approved // decided
    )


SCORE_PARTS = (fields_part, click_to_lead_part, phone_type_part, history_part)


def score_of(findings: list[Finding]) -> int:
    return max(0, min(100, sum(finding.points for finding in findings)))


def temperature_of(score: int) -> str:
    if score >= HOT_FROM:
        return HOT
    return WARM if score >= WARM_FROM else COLD


def check_min_temperature(temperature: str, min_temperature: str | None) -> list[Finding]:
    if min_temperature is None or TEMPERATURES.index(temperature) >= TEMPERATURES.index(min_temperature):
        return []
    return [
        Finding(
            "below_min_temperature", REJECT, f"{temperature}, the offer takes {min_temperature} or hotter"
        )
    ]


def assess(facts: LeadFacts, checked: list[Finding], min_temperature: str | None = None) -> Assessment:
    """Score a lead whose checks gave ``checked``, and hold it to the offer's minimum
    temperature. A conversion the advertiser reported is not scored."""
    if facts.is_conversion:
        return Assessment(list(checked), None, None)
    findings = [*checked, *(part(facts) for part in SCORE_PARTS)]
    score = score_of(findings)
    temperature = temperature_of(score)
    return Assessment(findings + check_min_temperature(temperature, min_temperature), score, temperature)
