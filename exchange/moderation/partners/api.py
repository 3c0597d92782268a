"""Partner moderation over the API: pending webmasters, approvals and bans (docs/moderation.md);
and ``GET /api/v1/me``, where any caller sees its own account and standing."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from exchange.accounts.auth import actor, api_key_required, caller
from exchange.accounts.domain import USER_STATUSES
from exchange.accounts.models import User
from exchange.db import commit
from exchange.moderation.partners.services import (
    REASON_MAX,
    approve_webmaster,
    ban_webmaster,
    unban_webmaster,
    webmasters_with_status,
)
from exchange.openapi import Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate
from exchange.schema_fields import UtcDateTime
from exchange.tracking.links import forget_webmaster

blp = Blueprint("partners", __name__, url_prefix="/api/v1", description="Partner moderation")
STAFF = ("moderator", "admin")


class PartnerSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    status_changed_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()


class MyAccountSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    status = fields.String(metadata={"description": "active, pending (waiting for approval) or banned"})
    status_reason = fields.String(allow_none=True, metadata={"description": "Why, when a moderator said so."})
    status_changed_at = UtcDateTime(allow_none=True)


class PartnerQuerySchema(PageQuerySchema):
    status = fields.String(load_default="pending", validate=validate.OneOf(USER_STATUSES))


class PartnerApproveSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=REASON_MAX))


class PartnerReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


@blp.route("/me", methods=["GET"])
@api_key_required()
@blp.response(200, MyAccountSchema)
def me():
    """Your own account: role and standing (a webmaster pending approval or banned sends no traffic)."""
    return caller()


@blp.route("/moderation/webmasters", methods=["GET"])
@api_key_required(*STAFF)
@blp.arguments(PartnerQuerySchema, location="query")
@blp.response(200, page_schema(PartnerSchema))
def list_webmasters(args: dict):
    """Webmasters by status: ``pending`` (the default) oldest first, the others latest change first."""
    return paginate(webmasters_with_status(args["status"]), args["page"], args["per_page"])


@blp.route("/moderation/webmasters/<id:user_id>/approve", methods=["POST"])
@api_key_required(*STAFF)
@blp.arguments(PartnerApproveSchema, required=False)
@blp.response(200, PartnerSchema)
def approve(data: dict, user_id: int):
    """A pending webmaster may join offers and send traffic. Approving an active one changes nothing."""
    return _changed(approve_webmaster(actor(), user_id, data["reason"]))


@blp.route("/moderation/webmasters/<id:user_id>/ban", methods=["POST"])
@api_key_required(*STAFF)
@blp.arguments(PartnerReasonSchema)
@blp.response(200, PartnerSchema)
def ban(data: dict, user_id: int):
    """Stop the webmaster's clicks and leads now (``reason`` required, shown to the webmaster)."""
    return _changed(ban_webmaster(actor(), user_id, data["reason"]))


@blp.route("/moderation/webmasters/<id:user_id>/unban", methods=["POST"])
@api_key_required(*STAFF)
@blp.arguments(PartnerReasonSchema)
@blp.response(200, PartnerSchema)
def unban(data: dict, user_id: int):
    """A banned webmaster becomes active again (``reason`` required)."""
    return _changed(unban_webmaster(actor(), user_id, data["reason"]))


def _changed(webmaster: User) -> User:
    """Commit, then forget this process's cached links of the webmaster, so its clicks follow
    the new status at once here (other processes: within LINK_CACHE_SECONDS)."""
    commit()
    forget_webmaster(webmaster.id)
    return webmaster
