"""Verticals and their sellers. Services flush; the caller commits."""

from __future__ import annotations

import secrets

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange import clock
from exchange.accounts.models import User
from exchange.errors import Conflict, Forbidden, Invalid, NotFound
from exchange.extensions import db
from exchange.verticals.models import Vertical, VerticalSeller
from exchange.verticals.schemas import VerticalCreateSchema

IMMUTABLE = ("currency",)  # sales and money already carry it
SELLER_DECISIONS = {"approve": "active", "decline": "declined", "ban": "banned"}


def create_vertical(data: dict) -> Vertical:
    """``data`` has been loaded through ``VerticalCreateSchema``."""
    if db.session.scalar(select(Vertical.id).where(Vertical.name == data["name"])):
        raise Invalid("A vertical of that name exists.", fields={"name": ["Already taken."]})
    vertical = Vertical(**data)
    db.session.add(vertical)
    db.session.flush()
    return vertical


def update_vertical(vertical_id: int, changes: dict) -> Vertical:
    """Apply any subset of the settings, checked whole with the rest. Prices apply to
    auctions from now on; sales made keep theirs."""
    vertical = get_vertical(vertical_id)
    schema = VerticalCreateSchema()
    current = schema.dump(vertical)
    for name in IMMUTABLE:
        if name in changes and changes[name] != current[name]:
            raise Invalid(f"A vertical's {name} cannot change.", fields={name: ["Cannot change."]})
    try:
        settings = schema.load({**current, **changes})
    except ValidationError as error:
        raise Invalid("The vertical's settings are not valid.", fields=error.normalized_messages()) from None
    if settings["name"] != vertical.name and db.session.scalar(
        select(Vertical.id).where(Vertical.name == settings["name"], Vertical.id != vertical.id)
    ):
        raise Invalid("A vertical of that name exists.", fields={"name": ["Already taken."]})
    for name, value in settings.items():
        setattr(vertical, name, value)  # every name comes from VerticalCreateSchema
    db.session.flush()
    return vertical


def get_vertical(vertical_id: int) -> Vertical:
    vertical = db.session.get(Vertical, vertical_id)
    if vertical is None:
        raise NotFound("No such vertical.")
    return vertical


def all_verticals(*, active_only: bool = False) -> list[Vertical]:
    query = select(Vertical).order_by(Vertical.name)
    if active_only:
        query = query.where(Vertical.status == "active")
    return list(db.session.scalars(query))


def standings_of(webmaster_id: int) -> dict[int, VerticalSeller]:
    rows = db.session.scalars(select(VerticalSeller).where(VerticalSeller.webmaster_id == webmaster_id))
    return {row.vertical_id: row for row in rows}


def join_vertical(webmaster: User, vertical_id: int) -> VerticalSeller:
    """A webmaster asks to sell on a vertical: active at once, or pending staff's approval."""
    vertical = get_vertical(vertical_id)
    if vertical.status != "active":
        raise Conflict("The vertical is paused.", code="vertical_paused")
    if webmaster.status != "active":
        raise Forbidden("Your account is not active.", code="account_not_active")
    existing = standings_of(webmaster.id).get(vertical.id)
    if existing is not None:
        return existing
    seller = VerticalSeller(
        vertical_id=vertical.id,
        webmaster_id=webmaster.id,
        token=secrets.token_urlsafe(12),
        status="pending" if vertical.sellers_need_approval else "active",
    )
    try:
        with db.session.begin_nested():
            db.session.add(seller)
    except IntegrityError:  # a second join raced this one
        return standings_of(webmaster.id)[vertical.id]
    return seller


def sellers_on(vertical_id: int) -> list[VerticalSeller]:
    get_vertical(vertical_id)
    query = (
        select(VerticalSeller).where(VerticalSeller.vertical_id == vertical_id).order_by(VerticalSeller.id)
    )
    return list(db.session.scalars(query))


def decide_seller(seller_id: int, decision: str) -> VerticalSeller:
    seller = db.session.get(VerticalSeller, seller_id)
    if seller is None:
        raise NotFound("No such seller.")
    seller.status = SELLER_DECISIONS[decision]
    seller.decided_at = clock.now()
    db.session.flush()
    return seller


def active_seller(webmaster_id: int, vertical_id: int) -> Vertical:
    """The vertical, if this webmaster may submit to it now; a clear refusal otherwise."""
    vertical = db.session.get(Vertical, vertical_id)
    seller = standings_of(webmaster_id).get(vertical_id) if vertical else None
    if vertical is None:
        raise NotFound("No such vertical.")
    if seller is None or seller.status != "active":
        standing = seller.status if seller else "not joined"
        raise Forbidden(f"You may not submit to this vertical ({standing}).", code="not_a_seller")
    if vertical.status != "active":
        raise Conflict("The vertical is paused.", code="vertical_paused")
    return vertical


def seller_by_token(token: str) -> VerticalSeller | None:
    return db.session.scalar(select(VerticalSeller).where(VerticalSeller.token == token))
