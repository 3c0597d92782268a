from __future__ import annotations

from marshmallow import Schema, fields


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()
    read_at = fields.DateTime()
