"""Jobs of the catalog."""

from __future__ import annotations

from exchange.catalog.listing import sweep_catalog
from exchange.catalog.posts import post_catalog_sale
from exchange.db import commit
from exchange.jobs import job, summary


@job
def sweep_catalog_job() -> str:
    """The catalog's periodic step (exchange/periodic.py, ``sweep-catalog``)."""
    return summary(sweep_catalog())


@job
def post_catalog_sale_job(sale_id: int) -> str:
    """A catalog sale posted to its buyer's endpoint (exchange/catalog/posts.py)."""
    outcome = post_catalog_sale(sale_id)
    commit()
    return outcome
