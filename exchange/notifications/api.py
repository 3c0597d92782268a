"""Your notifications over the API: the list, newest first, and marking one read."""

from __future__ import annotations

from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.notifications import services
from exchange.notifications.schemas import NotificationSchema
from exchange.openapi import Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Your notifications")


@blp.route("/notifications", methods=["GET"])
@api_key_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(NotificationSchema))
def list_notifications(args: dict):
    """Newest first."""
    return paginate(services.notifications_of(caller().id), args["page"], args["per_page"])


@blp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@api_key_required()
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int):
    note = services.mark_read(caller().id, notification_id)
    commit()
    return note
