"""The moderators' audit log over the API, and its CSV export (docs/moderation.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("moderation_audit", __name__, url_prefix="/api/v1", description="Moderators' audit log")
