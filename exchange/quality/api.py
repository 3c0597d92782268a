"""``GET /api/v1/quality``: a party's own records on the exchange's verticals, with the
counts they come from and what they do (docs/exchange.md, "Quality")."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as ma

from exchange.accounts.auth import api_key_required, caller
from exchange.openapi import Blueprint
from exchange.quality.domain import MIN_DECIDED, WINDOW_DAYS
from exchange.quality.services import quality_of
from exchange.schema_fields import UtcDateTime

blp = Blueprint("quality", __name__, url_prefix="/api/v1", description="Sellers' and buyers' quality")


class QualityRowSchema(Schema):
    vertical_id = ma.Integer()
    approved = ma.Integer(metadata={"description": "Sellers: sales approved (and not returned)."})
    rejected = ma.Integer(metadata={"description": "Sellers: sales their buyers rejected."})
    sales = ma.Integer(metadata={"description": "Buyers: sales made (not voided)."})
    refused = ma.Integer(metadata={"description": "Buyers: posts their endpoint refused."})
    returned = ma.Integer(metadata={"description": "Sales returned."})
    multiplier_bps = ma.Integer(
        metadata={
            "description": "Sellers: what their leads' prices and floors are multiplied by (10000: 100 %)."
        }
    )
    rate_tenths = ma.Integer(
        metadata={"description": "Buyers: share refused or returned, tenths of a percent; lower wins ties."}
    )
    reason = ma.String(metadata={"description": "The figure in words, with its counts."})
    counted_at = UtcDateTime()


class QualitySchema(Schema):
    window_days = ma.Integer()
    min_decided = ma.Integer(metadata={"description": "Sales needed before a record counts."})
    verticals = ma.List(ma.Nested(QualityRowSchema))


@blp.route("/quality", methods=["GET"])
@api_key_required("advertiser", "webmaster")
@blp.response(200, QualitySchema)
def get_quality():
    """Sellers: the multiplier on each vertical and why; buyers: the rank among equal bids
    and why. A vertical with no row: no record yet (100 %, no rank)."""
    user = caller()
    return {
        "window_days": WINDOW_DAYS,
        "min_decided": MIN_DECIDED,
        "verticals": quality_of(user.id, user.role),
    }
