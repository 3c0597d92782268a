"""Buy orders: a buyer's standing orders on a vertical. Services flush; the caller commits."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import func, select

from exchange import clock
from exchange.buying.domain import Schedule, condition_problems, period_starts
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.schemas import BuyOrderCreateSchema
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.offers.domain import url_template_problem
from exchange.verticals.models import Vertical

IMMUTABLE = ("vertical_id",)  # an order buys in one vertical for life
COUNTED = ("pending", "approved")  # sales that take a cap's place and spend its budget


def create_buy_order(buyer_id: int, data: dict) -> BuyOrder:
    """``data`` has been loaded through ``BuyOrderCreateSchema``."""
    _check_against_vertical(data)
    order = BuyOrder(buyer_id=buyer_id, **data)
    db.session.add(order)
    db.session.flush()
    return order


def update_buy_order(buyer_id: int, order_id: int, changes: dict) -> BuyOrder:
    order = own_buy_order(buyer_id, order_id)
    schema = BuyOrderCreateSchema()
    current = schema.dump(order)
    for name in IMMUTABLE:
        if name in changes and changes[name] != current[name]:
            raise Invalid(f"A buy order's {name} cannot change.", fields={name: ["Cannot change."]})
    try:
        settings = schema.load({**current, **changes})
    except ValidationError as error:
        raise Invalid("The buy order is not valid.", fields=error.normalized_messages()) from None
    _check_against_vertical(settings)
    for name, value in settings.items():
        setattr(order, name, value)  # every name comes from BuyOrderCreateSchema
    db.session.flush()
    return order


def _check_against_vertical(data: dict) -> None:
    vertical = db.session.get(Vertical, data["vertical_id"])
    if vertical is None:
        raise NotFound("No such vertical.", fields={"vertical_id": ["Unknown vertical."]})
    if vertical.status != "active" and data["status"] == "active":  # pausing or archiving stays possible
        raise Conflict(
            "The vertical is paused: no active orders on it until it resumes.", code="vertical_paused"
        )
    errors = {}
    types = {spec["name"]: spec["type"] for spec in vertical.fields}
    problems = condition_problems(data["filters"].get("conditions", []), types)
    if problems:
        errors["filters"] = {"conditions": problems}
    allowed = set(vertical.allowed_countries or [])
    outside = [c for c in data["filters"].get("countries", []) if allowed and c not in allowed]
    if outside:
        errors.setdefault("filters", {})["countries"] = [f"Not sold in this vertical: {', '.join(outside)}."]
    for name in ("ping_url", "post_url"):
        problem = url_template_problem(data[name]) if data.get(name) else None
        if problem:
            errors[name] = [f"Give {problem}."]
    if errors:
        raise Invalid("The buy order does not fit its vertical.", fields=errors)


def own_buy_order(buyer_id: int, order_id: int) -> BuyOrder:
    order = db.session.get(BuyOrder, order_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound("No such buy order.")
    return order


def buy_orders_of(buyer_id: int) -> list[BuyOrder]:
    query = select(BuyOrder).where(BuyOrder.buyer_id == buyer_id).order_by(BuyOrder.id)
    return list(db.session.scalars(query))


def used_since(order_ids: list[int], since) -> dict[int, tuple[int, int]]:
    """Sales and spend of each buy order since ``since`` (naive UTC)."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        select(Sale.buy_order_id, func.count(), func.coalesce(func.sum(Sale.price_minor), 0))
        .where(Sale.buy_order_id.in_(order_ids), Sale.created_at >= since, Sale.status.in_(COUNTED))
        .group_by(Sale.buy_order_id)
    ).all()
    return {order_id: (int(count), int(spend)) for order_id, count, spend in rows}


def today_of(order: BuyOrder) -> dict:
    """Today's wins and spend, today as the buyer's schedule reckons it."""
    start = period_starts(Schedule.from_stored(order.schedule).timezone, clock.now())["day"]
    wins, spend = used_since([order.id], start).get(order.id, (0, 0))
    return {"wins": wins, "spend_minor": spend}
