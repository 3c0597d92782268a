"""The fold as a periodic job (exchange/periodic.py)."""

from __future__ import annotations

from exchange.jobs import job
from exchange.reports.rollup import fold


@job
def fold_job() -> str:
    """Fold markers until none are left (or another folder runs); how many were folded."""
    total = 0
    while folded := fold():
        total += folded
    return f"{total} report changes folded"
