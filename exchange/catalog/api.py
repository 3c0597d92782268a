"""``GET /api/v1/catalog``: the catalog of ready leads, for buyers and staff."""

from __future__ import annotations

from exchange import clock
from exchange.accounts.auth import api_key_required
from exchange.catalog.schemas import CatalogPageSchema, CatalogQuerySchema
from exchange.catalog.search import Search, search
from exchange.openapi import Blueprint

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The catalog of ready leads")


@blp.route("/catalog", methods=["GET"])
@api_key_required("advertiser", "moderator", "admin")
@blp.arguments(CatalogQuerySchema, location="query")
@blp.response(200, CatalogPageSchema)
def get_catalog(args: dict):
    """Leads the auction did not sell, or sold shared with slots left, of the active
    verticals: their facts, never a personal field, and their price now (it falls with
    age, by the vertical's ageing schedule)."""
    return search(Search(**args), clock.now())
