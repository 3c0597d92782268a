"""API keys: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import ApiKey
from exchange.accounts.services import create_api_key, revoke_api_key
from exchange.db import commit
from exchange.extensions import db
from exchange.openapi import Blueprint
from exchange.schema_fields import UtcDateTime

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys")


class KeySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)


class NewKeySchema(KeySchema):
    secret = fields.String(metadata={"description": "The whole key. Shown once, never again."})


class KeyCreateSchema(Schema):
    name = fields.String(load_default="API key", validate=validate.Length(min=1, max=120))


@blp.route("/keys", methods=["GET"])
@api_key_required()
@blp.response(200, KeySchema(many=True))
def list_keys():
    return db.session.scalars(select(ApiKey).where(ApiKey.user_id == caller().id).order_by(ApiKey.id)).all()


@blp.route("/keys", methods=["POST"])
@api_key_required()
@blp.arguments(KeyCreateSchema, required=False)
@blp.response(201, NewKeySchema)
def post_key(data: dict):
    issued = create_api_key(caller().id, data["name"])
    commit()
    key = issued.key
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "secret": issued.secret,
    }


@blp.route("/keys/<id:key_id>", methods=["DELETE"])
@api_key_required()
@blp.response(200, KeySchema)
def delete_key(key_id: int):
    key = revoke_api_key(caller().id, key_id)
    commit()
    return key
