"""Page through any list the API returns: ``?page=1&per_page=50``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from exchange.bounds import MAX_PAGE
from exchange.extensions import db


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        },
        name=f"{item_schema.__name__.removesuffix('Schema')}Page",
    )


def paginate(query: Select, page: int, per_page: int) -> dict:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
