from __future__ import annotations

from marshmallow import Schema, fields

from exchange.schema_fields import UtcDateTime


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    data = fields.Dict()
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)
