"""A webmaster's postbacks: its global URL, per-offer overrides, and every delivery with its attempts."""

from __future__ import annotations

from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.delivery.postbacks.schemas import (
    PostbackDeliverySchema,
    PostbackQuerySchema,
    PostbackUrlInSchema,
    PostbackUrlSchema,
)
from exchange.delivery.postbacks.services import (
    deliveries_of,
    delivery_of,
    postback_url_of,
    remove_postback_url,
    require_joined,
    set_postback_url,
)
from exchange.openapi import Blueprint
from exchange.pagination import page_schema, paginate

blp = Blueprint(
    "webmaster_postbacks",
    __name__,
    url_prefix="/api/v1",
    description="Postbacks to your tracker (webmasters)",
)
RULES = (
    "url_template: an absolute http(s) URL",
    "status_map: keyed by our statuses",
)  # said in words (exchange/openapi.py)


def _view(webmaster_id: int, offer_id: int | None) -> dict:
    setting = postback_url_of(webmaster_id, offer_id)
    return {
        "offer_id": offer_id,
        "url_template": setting.url_template if setting else None,
        "status_map": setting.status_map if setting else {},
        "updated_at": setting.updated_at if setting else None,
    }


@blp.route("/postback-url", methods=["GET"])
@api_key_required("webmaster")
@blp.response(200, PostbackUrlSchema)
def get_global_url():
    return _view(caller().id, None)


@blp.route("/postback-url", methods=["PUT"])
@blp.rules(*RULES)
@api_key_required("webmaster")
@blp.arguments(PostbackUrlInSchema)
@blp.response(200, PostbackUrlSchema)
def put_global_url(data: dict):
    set_postback_url(caller().id, None, data["url_template"], data["status_map"])
    commit()
    return _view(caller().id, None)


@blp.route("/postback-url", methods=["DELETE"])
@api_key_required("webmaster")
@blp.response(204)
def delete_global_url():
    remove_postback_url(caller().id, None)
    commit()


@blp.route("/offers/<id:offer_id>/postback-url", methods=["GET"])
@api_key_required("webmaster")
@blp.response(200, PostbackUrlSchema)
def get_offer_url(offer_id: int):
    require_joined(caller().id, offer_id)
    return _view(caller().id, offer_id)


@blp.route("/offers/<id:offer_id>/postback-url", methods=["PUT"])
@blp.rules(*RULES)
@api_key_required("webmaster")
@blp.arguments(PostbackUrlInSchema)
@blp.response(200, PostbackUrlSchema)
def put_offer_url(data: dict, offer_id: int):
    set_postback_url(caller().id, offer_id, data["url_template"], data["status_map"])
    commit()
    return _view(caller().id, offer_id)


@blp.route("/offers/<id:offer_id>/postback-url", methods=["DELETE"])
@api_key_required("webmaster")
@blp.response(204)
def delete_offer_url(offer_id: int):
    remove_postback_url(caller().id, offer_id)
    commit()


@blp.route("/postbacks", methods=["GET"])
@api_key_required("webmaster")
@blp.arguments(PostbackQuerySchema, location="query")
@blp.response(200, page_schema(PostbackDeliverySchema))
def list_postbacks(args: dict):
    """Your postbacks, newest first, each with every attempt made to send it."""
    return paginate(deliveries_of(caller().id, args["lead_id"]), args["page"], args["per_page"])


@blp.route("/postbacks/<id:delivery_id>", methods=["GET"])
@api_key_required("webmaster")
@blp.response(200, PostbackDeliverySchema)
def get_postback(delivery_id: int):
    return delivery_of(caller().id, delivery_id)
