"""The fraud review queue over the API: flagged leads, a moderator's verdict (docs/moderation.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("fraud_review", __name__, url_prefix="/api/v1", description="Fraud review queue")
