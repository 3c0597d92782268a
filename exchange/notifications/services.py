"""Messages to users from the exchange (an offer paused for funds, resumed, ...): an
outbox each user reads in the API and on its portal page. Services flush; callers commit."""

from __future__ import annotations

from datetime import datetime

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from billing.events import FundsChanged
from exchange import clock
from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.pagination import PageQuerySchema, page_schema, paginate


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None]


def notify(user_id: int, kind: str, message: str, **data: object) -> Notification:
    note = Notification(user_id=user_id, kind=kind, message=message[:1000], data=data)
    db.session.add(note)
    return note


def latest_for(user_id: int, limit: int = 20) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc())
    return list(db.session.scalars(query.limit(limit)))


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()
    read_at = fields.DateTime()


blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Your notifications")


@blp.route("/notifications", methods=["GET"])
@api_key_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(NotificationSchema))
def list_notifications(args: dict):
    """Newest first."""
    query = select(Notification).where(Notification.user_id == caller().id).order_by(Notification.id.desc())
    return paginate(query, args["page"], args["per_page"])


@blp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@api_key_required()
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int):
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != caller().id:
        raise NotFound("No such notification.")
    if note.read_at is None:
        note.read_at = clock.now()
    commit()
    return note


def tell_of_money(event: FundsChanged) -> None:
    """Listens to billing's ``FundsChanged``: the advertiser reads what billing said of it."""
    if event.notice is not None:
        notify(event.advertiser_id, event.notice.kind, event.notice.message, **event.notice.data)
