"""Disputes over the API: open, answer, talk, withdraw; moderators decide (docs/disputes.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("disputes", __name__, url_prefix="/api/v1", description="Disputes: appeals and returns")
