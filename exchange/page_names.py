"""Names for the pages: what a person reads in place of an id (issue 20, point 1). A user
is its company's name if it has one, else its display name; an offer and a vertical
their names. Each id is looked up once per request (the answers are kept in ``flask.g``),
so a page of fifty leads of one offer asks once."""

from __future__ import annotations

from flask import g
from sqlalchemy import bindparam, func, select

from exchange.accounts.models import User
from exchange.extensions import db
from exchange.offers.models import Offer
from exchange.verticals.models import Vertical

NAMES = {
    "user": select(func.coalesce(User.company_name, User.name)).where(User.id == bindparam("id")),
    "offer": select(Offer.name).where(Offer.id == bindparam("id")),
    "vertical": select(Vertical.name).where(Vertical.id == bindparam("id")),
}


def user_name(user_id: int | None) -> str:
    return _name("user", user_id)


def offer_name(offer_id: int | None) -> str:
    return _name("offer", offer_id)


def vertical_name(vertical_id: int | None) -> str:
    return _name("vertical", vertical_id)


def _name(kind: str, key: int | None) -> str:
    """The name of ``kind`` ``key``; "#<id>" for one that is gone; "" for none."""
    if key is None:
        return ""
    known = g.setdefault("_page_names", {})
    if (kind, key) not in known:
        known[kind, key] = db.session.scalar(NAMES[kind], {"id": key}) or f"#{key}"
    return known[kind, key]
