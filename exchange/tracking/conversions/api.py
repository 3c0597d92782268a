"""An advertiser's postback settings: its token (shown once) and its IP allowlist."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import url_for
from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.openapi import Blueprint
from exchange.schema_fields import UtcDateTime
from exchange.tracking.conversions.services import MAX_ALLOWLIST, issue_token, set_ip_allowlist, settings_of

blp = Blueprint(
    "postback_settings", __name__, url_prefix="/api/v1", description="Conversion postback (advertisers)"
)


class AllowlistSchema(Schema):
    ip_allowlist = ma.List(
        ma.String(validate=validate.Length(max=64)),
        required=True,
        validate=validate.Length(max=MAX_ALLOWLIST),
    )


class PostbackSettingsSchema(Schema):
    has_token = ma.Boolean()
    ip_allowlist = ma.List(ma.String())
    token_created_at = UtcDateTime()


class NewTokenSchema(PostbackSettingsSchema):
    token = ma.String(metadata={"description": "Shown once; store it now."})
    postback_url = ma.String(metadata={"description": "A template for your tracker: fill in the braces."})


def _view(advertiser_id: int) -> dict:
    settings = settings_of(advertiser_id)
    return {
        "has_token": settings is not None,
        "ip_allowlist": settings.ip_allowlist if settings else [],
        "token_created_at": settings.created_at if settings else None,
    }


@blp.route("/postback-settings", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, PostbackSettingsSchema)
def get_settings():
    return _view(caller().id)


@blp.route("/postback-settings", methods=["PUT"])
@blp.rules("ip_allowlist: IP addresses or networks (CIDR)")
@api_key_required("advertiser")
@blp.arguments(AllowlistSchema)
@blp.response(200, PostbackSettingsSchema)
def put_settings(data: dict):
    set_ip_allowlist(caller().id, data["ip_allowlist"])
    commit()
    return _view(caller().id)


@blp.route("/postback-token", methods=["POST"])
@api_key_required("advertiser")
@blp.response(201, NewTokenSchema)
def new_token():
    """A new token, replacing the old one at once."""
    token = issue_token(caller().id)
    commit()
    query = urlencode({"token": token}) + "&click_id={click_id}&txid={txid}&status=approved&amount={amount}"
    return {
        **_view(caller().id),
        "token": token,
        "postback_url": url_for("postback.conversion_postback", _external=True) + "?" + query,
    }
