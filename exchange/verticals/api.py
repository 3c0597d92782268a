"""Verticals: staff define them; buyers and sellers read them; sellers join them."""

from __future__ import annotations

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.db import commit
from exchange.errors import NotFound
from exchange.openapi import Blueprint, by_role
from exchange.verticals.models import Vertical
from exchange.verticals.schemas import (
    MarketVerticalSchema,
    SellerSchema,
    VerticalCreateSchema,
    VerticalPatchSchema,
    VerticalSchema,
)
from exchange.verticals.services import (
    IMMUTABLE,
    SELLER_DECISIONS,
    all_verticals,
    create_vertical,
    decide_seller,
    get_vertical,
    join_vertical,
    sellers_on,
    standings_of,
    update_vertical,
)

blp = Blueprint("verticals", __name__, url_prefix="/api/v1", description="Exchange verticals")
STAFF = ("admin", "moderator")
ROLE_VIEW = "Staff get Vertical (with the margin); buyers and sellers get MarketVertical."


def vertical_view(user: User, vertical: Vertical, standings: dict | None = None) -> dict:
    if user.role in STAFF:
        return VerticalSchema().dump(vertical)
    view = MarketVerticalSchema().dump(vertical)
    if user.role == "webmaster":
        seller = (standings if standings is not None else standings_of(user.id)).get(vertical.id)
        view["standing"] = seller.status if seller else None
    return view


@blp.route("/verticals", methods=["GET"])
@api_key_required()
@blp.doc(responses=by_role(VerticalSchema, MarketVerticalSchema, many=True))
@blp.response(200, description=ROLE_VIEW)
def list_verticals():
    user = caller()
    standings = standings_of(user.id) if user.role == "webmaster" else None
    verticals = all_verticals(active_only=user.role not in STAFF)
    return [vertical_view(user, vertical, standings) for vertical in verticals]


@blp.route("/verticals", methods=["POST"])
@blp.rules(
    "name: not already taken",
    "fields: names of a-z, 0-9 and _ (a letter first, up to 40), each once; one of type phone or email; "
    "personal_fields among them",
    "floors: keyed by countries of allowed_countries (or *), then by temperature",
    "margin_bps or margin_minor, not both",
    "return_window_seconds: not longer than hold_seconds",
)
@api_key_required("admin")
@blp.arguments(VerticalCreateSchema)
@blp.response(201, VerticalSchema)
def post_vertical(data: dict):
    vertical = create_vertical(data)
    commit()
    return vertical


@blp.route("/verticals/<id:vertical_id>", methods=["GET"])
@api_key_required()
@blp.doc(responses=by_role(VerticalSchema, MarketVerticalSchema))
@blp.response(200, description=ROLE_VIEW)
def read_vertical(vertical_id: int):
    user = caller()
    vertical = get_vertical(vertical_id)
    if user.role not in STAFF and vertical.status != "active":
        raise NotFound("No such vertical.")  # a paused vertical is staff's business
    return vertical_view(user, vertical)


@blp.route("/verticals/<id:vertical_id>", methods=["PATCH"])
@blp.rules(
    "the vertical after the change follows the rules of POST /api/v1/verticals",
    f"{', '.join(IMMUTABLE)}: cannot change",
)
@api_key_required("admin")
@blp.arguments(VerticalPatchSchema)
@blp.response(200, VerticalSchema)
def patch_vertical(changes: dict, vertical_id: int):
    vertical = update_vertical(vertical_id, changes)
    commit()
    return vertical


@blp.route("/verticals/<id:vertical_id>/join", methods=["POST"])
@api_key_required("webmaster")
@blp.response(200, SellerSchema)
def post_join(vertical_id: int):
    seller = join_vertical(caller(), vertical_id)
    commit()
    return seller


@blp.route("/verticals/<id:vertical_id>/sellers", methods=["GET"])
@api_key_required(*STAFF)
@blp.response(200, SellerSchema(many=True))
def list_sellers(vertical_id: int):
    return sellers_on(vertical_id)


def _decision(decision: str):
    @api_key_required(*STAFF)
    @blp.response(200, SellerSchema)
    def view(seller_id: int):
        seller = decide_seller(seller_id, decision)
        commit()
        return seller

    view.__name__ = f"{decision}_seller"
    return view


for _decision_name in SELLER_DECISIONS:
    blp.route(f"/vertical-sellers/<id:seller_id>/{_decision_name}", methods=["POST"])(
        _decision(_decision_name)
    )
