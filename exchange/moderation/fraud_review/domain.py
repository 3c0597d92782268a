"""Which leads a moderator must look at before any money moves. Pure.

A lead goes to the fraud review queue when its offer asks for it (``fraud_review``) and
validation would accept it with at least one finding of severity ``flag`` (a click too
fast, too many leads from one IP, no user agent, a phone in no range known in use, ...).
A lead that a finding rejects is rejected, not reviewed; a lead with no flag goes on as
before. Findings are the dicts that ``Finding.as_dict()`` makes (stored on the lead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exchange.leads.checks import FLAG, REJECT
from exchange.words import word

FRAUD_REVIEW_REJECTED = "fraud_review_rejected"  # the code a moderator's rejection adds


def flag_codes(findings: Iterable[Mapping]) -> list[str]:
    """The distinct codes of the findings that flag the lead, sorted."""
    return sorted({finding["code"] for finding in findings if finding.get("severity") == FLAG})


def needs_fraud_review(fraud_review: bool, findings: Iterable[Mapping]) -> bool:
    """True when an offer with ``fraud_review`` on would accept a flagged lead."""
    findings = list(findings)
    if not fraud_review or any(finding.get("severity") == REJECT for finding in findings):
        return False
    return bool(flag_codes(findings))


def hold_reason(findings: Iterable[Mapping]) -> str:
    """The reason recorded on the move to review: the flags, by code."""
    return "flagged for fraud review: " + ", ".join(word("finding", code) for code in flag_codes(findings))


def rejection_codes_after_review(reason_codes: Iterable[str], findings: Iterable[Mapping]) -> list[str]:
    """A flagged lead a moderator rejects: the codes it already had, then the flags it was
    held for, then ``fraud_review_rejected``; each once, in that order."""
    codes = [*reason_codes, *flag_codes(findings), FRAUD_REVIEW_REJECTED]
    return list(dict.fromkeys(codes))
