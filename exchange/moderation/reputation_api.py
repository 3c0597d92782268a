"""Reputation over the API: each party its own, moderators everyone's (docs/moderation.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("reputation", __name__, url_prefix="/api/v1", description="Reputation")
