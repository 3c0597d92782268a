"""``GET`` or ``POST /postback``: an advertiser's server reports a conversion.

Authenticated by the advertiser's postback token (and its IP allowlist), not by a
session or an API key; parameters come in the query string or a form body. The token
comes in the ``X-Postback-Token`` header (preferred: a URL, its query string with it, is
written to access logs and proxies' logs) or, for trackers that can only call a URL, as
the ``token`` parameter; the header wins when both are sent."""

from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as ma

from exchange.db import commit
from exchange.errors import Invalid
from exchange.rate_limits import client_address, limit
from exchange.schema_fields import currency
from exchange.tracking.conversions.services import REPORTED_STATUSES, authorise, report_conversion

bp = Blueprint("postback", __name__)


def postback_token_identity() -> str:
    """A digest of the token (header or query), never the token: it is a secret."""
    token = request.headers.get(TOKEN_HEADER) or request.values.get("token", "")
    if not token:
        return f"address:{client_address()}"
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


TOKEN_HEADER = "X-Postback-Token"


class PostbackSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # trackers add their own parameters

    click_id = ma.String(load_default=None, validate=validate.Length(max=64))
    txid = ma.String(required=True, validate=validate.Length(min=1, max=255))
    status = ma.String(load_default="approved", validate=validate.OneOf(REPORTED_STATUSES))
    amount = ma.String(load_default=None, validate=validate.Length(max=24))
    currency = currency(load_default=None)


@bp.route("/postback", methods=["GET", "POST"])
@limit("LIMIT_POSTBACKS_PER_TOKEN", postback_token_identity)
def conversion_postback():
    values = request.values.to_dict()
    token = values.pop("token", "")
    advertiser_id = authorise(request.headers.get(TOKEN_HEADER) or token, request.remote_addr)
    try:
        data = PostbackSchema().load(values)
    except ValidationError as error:
        raise Invalid(
            "The postback's parameters are not valid.", fields=error.normalized_messages()
        ) from None
    reported = report_conversion(advertiser_id, data)
    commit()
    lead = reported.lead
    response = jsonify({"lead_id": lead.id, "txid": lead.txid, "status": lead.status})
    if reported.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
