"""Advertiser lead delivery as plain Python: secrets, signatures, the payload, the answer.

A delivery is a JSON POST to the advertiser's endpoint. Its body is signed with
HMAC-SHA256 over ``f"{timestamp}.{body}"`` using the endpoint's signing secret;
the timestamp and the signature travel in headers, so the advertiser can check
that the call is ours, is recent, and that not one byte of the body changed.
The advertiser may decide the lead in its 2xx answer (``parse_decision``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.offers.domain import url_template_problem

SECRET_PREFIX = "whsec_"
TIMESTAMP_HEADER = "X-Exchange-Timestamp"
SIGNATURE_HEADER = "X-Exchange-Signature"
EVENT_HEADER = "X-Exchange-Event"
SIGNATURE_VERSION = "v1"
USER_AGENT = "lead-exchange-delivery/1"
MAX_URL_LENGTH = 2000
MAX_REASON_LENGTH = 500
# How much of the answer is read: enough for a decision with its reason.
MAX_ANSWER_BYTES = 16 * 1024
# What a receiver should accept between our timestamp and its clock (README, docs/delivery.md).
TOLERANCE_SECONDS = 300
LEAD_EVENT = "lead.pending"
TEST_EVENT = "lead.test"
APPROVE, REJECT = "approve", "reject"


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` and 256 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hint(secret: str) -> str:
    """What may be shown of a secret after it was first shown: its prefix and last four."""
    return f"{SECRET_PREFIX}…{secret[-4:]}"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 of ``b"<timestamp>." + body`` keyed with the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(secret: str, timestamp: int, body: bytes, event: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: event,
    }


def verify(
    secret: str,
    body: bytes,
    timestamp: str,
    signature_header: str,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (README): a fresh timestamp, both ways, and a matching signature."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = signature(secret, sent, body)
    candidates = [part.strip() for part in signature_header.split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def url_problem(url: str) -> str | None:
    """Why an endpoint URL cannot be saved, or None (the rules of webmaster postback URLs)."""
    if len(url) > MAX_URL_LENGTH:
        return f"a URL of at most {MAX_URL_LENGTH} characters"
    problem = url_template_problem(url)
    if problem:
        return problem
    if not url.isascii() or not url.isprintable():
        return "a URL of printable ASCII characters (percent-encode anything else)"
    return None


def timestamp_text(value: datetime | None) -> str | None:
    """Our datetimes are naive UTC: ``2026-01-15T12:00:00Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def lead_payload(lead: Any) -> dict:
    """The lead as the advertiser receives it (``lead`` has the Lead model's attributes)."""
    data: dict[str, Any] = {
        "id": lead.id,
        "offer_id": lead.offer_id,
        "webmaster_id": lead.webmaster_id,
        "status": lead.status,
        **{f"sub{n}": getattr(lead, f"sub{n}") for n in range(1, 6)},
        "fields": dict(lead.fields or {}),
        "currency": lead.currency,
        "rate_minor": lead.rate_minor,
        "created_at": timestamp_text(lead.created_at),
        "review_deadline": timestamp_text(lead.review_deadline),
    }
    if lead.score is not None:
        data["score"] = lead.score
    if lead.temperature:
        data["temperature"] = lead.temperature
    if lead.findings:
        data["findings"] = list(lead.findings)
    if lead.txid:
        data["txid"] = lead.txid
        data["sale_amount_minor"] = lead.sale_amount_minor
    return data


def sample_payload(offer_id: int | None, now: datetime) -> dict:
    """A synthetic lead for "send a test lead": marked test, id 0, fields no one owns."""
    return {
        "id": 0,
        "offer_id": offer_id,
        "webmaster_id": 0,
        "status": "pending",
        **{f"sub{n}": None for n in range(1, 6)},
        "fields": {
            "name": "Test Lead",
            "phone": "+12025550100",
            "email": "test.lead@example.com",
            "country": "US",
        },
        "currency": None,
        "rate_minor": None,
        "created_at": timestamp_text(now),
        "review_deadline": None,
    }


def body_of(event: str, lead: dict, test: bool) -> bytes:
    """The exact bytes sent and signed: compact JSON, keys in a stable order."""
    envelope = {"event": event, "test": test, "lead": lead}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Decision:
    """What the advertiser's answer asks for: approve, reject (with a reason), or nothing."""

    action: str | None
    reason: str | None = None


NO_DECISION = Decision(None)


def parse_decision(status_code: int | None, body: bytes) -> Decision:
    """``{"decision": "approve"}`` or ``{"decision": "reject", "reason": "..."}`` in a 2xx
    answer; anything else (other JSON, not JSON, a cut-off body, a non-2xx) decides nothing."""
    if status_code is None or not 200 <= status_code < 300 or not body.strip():
        return NO_DECISION
    try:
        data = json.loads(body)
    except ValueError:
        return NO_DECISION
    if not isinstance(data, dict):
        return NO_DECISION
    action = data.get("decision")
    if action == APPROVE:
        return Decision(APPROVE)
    if action == REJECT:
        reason = data.get("reason")
        text = reason.strip()[:MAX_REASON_LENGTH] if isinstance(reason, str) else None
        return Decision(REJECT, text or None)
    return NO_DECISION
