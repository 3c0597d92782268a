"""Pages for admins: the blueprint ``staff_portal`` with its home, ledger check and failed
jobs (``exchange.admin_views``), users (``exchange.admin_users``), manual credits and
payouts (``exchange.admin_money``). Moderators' pages are in exchange/moderation/views.py."""

from __future__ import annotations

from exchange import admin_money, admin_users  # noqa: F401  (their routes are on bp)
from exchange.admin_views import bp

__all__ = ["bp"]
