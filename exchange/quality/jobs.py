"""Jobs of quality."""

from __future__ import annotations

from exchange import clock
from exchange.db import commit
from exchange.jobs import job, summary
from exchange.quality.services import rate_quality


def rate_quality_now() -> dict[str, int]:
    """The sweep's ``rate-quality`` step: the records counted again if due, committed."""
    counts = rate_quality(clock.now())
    commit()
    return counts


@job
def rate_quality_job() -> str:
    """The quality's periodic step (exchange/periodic.py, ``rate-quality``)."""
    return summary(rate_quality_now())
