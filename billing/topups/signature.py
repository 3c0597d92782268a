"""Stripe's webhook signature, checked on the raw body. Pure.

Stripe signs ``"<t>.<raw body>"`` with HMAC-SHA256 under the endpoint's secret
and sends ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` (more
than one ``v1`` while a secret is being rolled). An event is accepted only if
one ``v1`` matches and ``t`` is within the tolerance of now, in both
directions: an old signature is a replay, a future one a forged or broken clock
(Stripe's own libraries check only the past).
"""

from __future__ import annotations

import hashlib
import hmac

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Why a webhook is refused; the message is safe to answer with."""


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload`` at ``timestamp``."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def verify(
    payload: bytes, header: str | None, secret: str, now: float, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> int:
    """Check the header against the raw ``payload``; returns its timestamp or raises ``SignatureError``."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp, signatures = _parse(header)
    expected = _digest(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("no signature matches the body")
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"timestamp outside the {tolerance} s tolerance")
    return timestamp


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and value.isascii() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed Stripe-Signature header")
    return timestamp, signatures


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
