"""Build exchange test data (verticals, sellers, buy orders) through the real services."""

from __future__ import annotations

import itertools

from exchange.accounts.models import User
from exchange.buying.models import BuyOrder
from exchange.buying.schemas import BuyOrderCreateSchema
from exchange.buying.services import create_buy_order
from exchange.db import commit
from exchange.verticals.models import Vertical, VerticalSeller
from exchange.verticals.schemas import VerticalCreateSchema
from exchange.verticals.services import create_vertical, decide_seller, join_vertical

_serial = itertools.count(1)

SOLAR_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": False},
    {"name": "country", "type": "country", "required": True},
    {"name": "region", "type": "string", "required": False},
    {"name": "postcode", "type": "string", "required": False},
    {"name": "age", "type": "integer", "required": False},
    {"name": "homeowner", "type": "boolean", "required": False},
]


def vertical_data(**overrides) -> dict:
    data = {
        "name": f"Solar — US {next(_serial)}",
        "currency": "USD",
        "fields": SOLAR_FIELDS,
        "personal_fields": ["name", "postcode"],
        "allowed_countries": ["US", "CA"],
        "floors": {"US": {"cold": 500, "warm": 800, "hot": 1200}, "*": {"cold": 400}},
        "margin_bps": 2000,
        "slots": 3,
        "sellers_need_approval": False,
    }
    data.update(overrides)
    return data


def make_vertical(**overrides) -> Vertical:
    vertical = create_vertical(VerticalCreateSchema().load(vertical_data(**overrides)))
    commit()
    return vertical


def make_seller(webmaster: User, vertical: Vertical) -> VerticalSeller:
    seller = join_vertical(webmaster, vertical.id)
    if seller.status != "active":
        seller = decide_seller(seller.id, "approve")
    commit()
    return seller


def make_buy_order(buyer: User, vertical: Vertical, **overrides) -> BuyOrder:
    data = {"vertical_id": vertical.id, "name": f"Order {next(_serial)}", "bid_minor": 1000}
    data.update(overrides)
    order = create_buy_order(buyer.id, BuyOrderCreateSchema().load(data))
    commit()
    return order
