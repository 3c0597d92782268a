"""The ``Idempotency-Key`` request header (lead submissions, payouts)."""

from __future__ import annotations

from flask import request

from exchange.errors import Invalid

HEADER_DOC = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 255}}


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header, if any (at most 255 characters)."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key and len(key) > 255:
        raise Invalid(
            "The Idempotency-Key is too long.", fields={"Idempotency-Key": ["At most 255 characters."]}
        )
    return key
