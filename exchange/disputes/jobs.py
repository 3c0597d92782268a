"""Disputes' periodic step (``sweep-disputes``): those the counterparty did not answer in
time go to the moderators, each in its own transaction."""

from __future__ import annotations

from exchange.db import in_own_transaction
from exchange.disputes.resolution import escalate_if_overdue, overdue_dispute_ids
from exchange.jobs import job, summary


def escalate_overdue_disputes() -> dict[str, int]:
    escalated = sum(
        in_own_transaction(escalate_if_overdue, dispute_id) for dispute_id in overdue_dispute_ids()
    )
    return {"disputes_escalated": escalated}


@job
def escalate_overdue_disputes_job() -> str:
    return summary(escalate_overdue_disputes())
