"""Pages for admins: the blueprint ``staff_portal`` with its home, ledger check and failed
jobs (``exchange.admin.views.common``), users (``exchange.admin.views.users``), manual credits and
payouts (``exchange.admin.views.money``), the exchange's verticals and auction log
(``exchange.admin.views.exchange``) and its catalog's figures (``exchange.admin.views.catalog``).
Moderators' pages are in exchange/moderation/views.py."""

from __future__ import annotations

from exchange.admin.views import catalog, exchange, money, users  # noqa: F401  (their routes are on bp)
from exchange.admin.views.common import bp

__all__ = ["bp"]
