"""The retention step of the sweep (``sweep-privacy`` in exchange/periodic.py)."""

from __future__ import annotations

from exchange.jobs import job, summary
from exchange.privacy.retention import sweep_retention


@job
def sweep_retention_job() -> str:
    return summary(sweep_retention())
