"""``GET /api/v1/catalog``: the catalog of ready leads, for buyers and staff."""

from __future__ import annotations

from exchange import clock
from exchange.accounts.auth import api_key_required, caller
from exchange.buying.api import sale_view
from exchange.buying.schemas import SaleSchema
from exchange.catalog.purchases import Purchase, buy
from exchange.catalog.schemas import CatalogPageSchema, CatalogQuerySchema, PurchaseSchema
from exchange.catalog.search import Search, search
from exchange.db import commit
from exchange.openapi import Blueprint, json_answer

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


@blp.route("/catalog/<id:lead_id>/buy", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(PurchaseSchema, required=False)
@blp.doc(responses=json_answer(SaleSchema, status=201))
@blp.response(201, description="The sale, as GET /api/v1/sales/{id} shows it to its buyer (the lead whole).")
def post_purchase(data: dict, lead_id: int):
    """Buy one slot of the lead, or every slot (``exclusive``) while no one has bought one,
    at its price now; the sale is reserved from your available balance and lives as every
    sale does (approve or reject it in its review window). 409 with a code when it cannot
    be bought now: ``sold_out``, ``gone``, ``already_bought``, ``price_changed`` (the new
    price at ``expected_price_minor``), ``insufficient_funds``."""
    sale = buy(caller().id, Purchase(lead_id, data.get("exclusive", False), data.get("expected_price_minor")))
    commit()
    return sale_view(caller(), sale)
