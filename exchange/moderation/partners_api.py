"""Partner moderation over the API: pending webmasters, approvals and bans (docs/moderation.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("partners", __name__, url_prefix="/api/v1", description="Partner moderation")
