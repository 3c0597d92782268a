"""Jobs of the catalog."""

from __future__ import annotations

from exchange.catalog.listing import sweep_catalog
from exchange.jobs import job, summary


@job
def sweep_catalog_job() -> str:
    """The catalog's periodic step (exchange/periodic.py, ``sweep-catalog``)."""
    return summary(sweep_catalog())
