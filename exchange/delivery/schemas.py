"""What the API shows of a test send (exchange/delivery/sample_sends.py)."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as ma

from exchange.schema_fields import UtcDateTime


class TestSendSchema(Schema):
    __test__ = False  # not a pytest test class, whatever its name

    id = ma.Integer()
    state = ma.String(
        metadata={"description": "queued, sending (a worker is calling), or sent (the answer is below)"}
    )
    offer_id = ma.Integer(allow_none=True, metadata={"description": "null: your global URL was tested"})
    url = ma.String(metadata={"description": "The URL called (or to be called)."})
    queued_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)
    delivered = ma.Boolean(metadata={"description": "Sent, and the answer was 2xx."})
    status_code = ma.Integer(allow_none=True, metadata={"description": "null: not sent yet, or no answer"})
    latency_ms = ma.Integer(allow_none=True)
    error = ma.String(allow_none=True)
    response_excerpt = ma.String(metadata={"description": "The start of the answer's body."})


class TestLeadSchema(TestSendSchema):
    decision = ma.String(
        allow_none=True, metadata={"description": "approve or reject, as read from your answer (not applied)"}
    )
